"""The bot from the user's side: real Application, real HTTP, a strict fake Bot API."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.texts import CLOSEST_BUTTON, CLOSEST_NOTE, NOT_TEXT, NOTHING_FOUND, NOTHING_MENTIONS, SORRY
from index.store.build import build_index
from tests.conftest import SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegram, Message
from tests.harness import ADMIN, USER, RunningBot, bot_settings, running_bot

pytestmark = pytest.mark.process

GROUP = -5005
TOWN_QUESTION = "What did the Springfield council decide?"


def write_news(folder: Path) -> None:
    """The seed, twelve local stories that all match TOWN_QUESTION, and a hostile one."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEEDS / "000_00f4f1af09a5d285.txt", folder)
    for n in range(12):
        (folder / f"town{n:02d}.txt").write_text(
            f"Springfield council story {n}\n"
            f"The Springfield council decided on measure {n} after a long debate. "
            f"Residents of district {n} welcomed the decision. "
            f"The mayor said the vote on item {n} was close.\n"
        )
    (folder / "hostile.txt").write_text(
        "<b>Breaking</b> & <script>alert(1)</script> news\n"
        "The <i>Springfield</i> council decided prices rise 5% & fall <3 times </b> a year. "
        "Critics said <a href='x'>nothing</a> would change.\n"
    )


@pytest.fixture
def news_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    write_news(folder)
    return folder


@pytest.fixture
def index_dir(tmp_path: Path, news_dir: Path) -> Path:
    folder = tmp_path / "index"
    build_index([news_dir], folder)
    return folder


@pytest.fixture
async def bot(telegram: FakeTelegram, index_dir: Path, news_dir: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(telegram, bot_settings(telegram, index_dir, [news_dir])) as running:
        yield running


async def ask(telegram: FakeTelegram, chat: int, text: str, **kw: object) -> Message:
    await telegram.send_text(chat, text, **kw)  # type: ignore[arg-type]
    return await telegram.next_message(chat, timeout=10)


async def assert_silent(telegram: FakeTelegram, chat: int, seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)
    chat_state = telegram.chats.get(chat)
    assert not (chat_state and chat_state.bot_messages)


def buttons(message: Message) -> dict[str, str]:
    markup = message.reply_markup or {"inline_keyboard": []}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def test_question_gets_passage_with_bold_terms_and_source(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    reply = await ask(telegram, USER, SEED_QUESTION)
    assert reply.text is not None and reply.raw_text is not None
    assert "$228.1 billion in 2025" in reply.text
    assert "<b>China</b>" in reply.raw_text and "<b>2025</b>" in reply.raw_text
    assert "Xi Jinping's Diplomatic Calls" in reply.text
    call = telegram.calls_to("sendMessage")[-1]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("zebra quasar xylophone", NOTHING_FOUND),
        # Names a town no article mentions (index.text.names): the reply says which.
        ("Who won the football match in Madrid?", NOTHING_MENTIONS.format(names="Madrid")),
        # A name Telegram's HTML must see escaped (a reply with a bare "&" is refused with 400;
        # found by the hostile-input property test).
        ("Did AT&T sponsor Madrid?", NOTHING_MENTIONS.format(names="AT&T or Madrid")),
    ],
)
async def test_nothing_relevant_says_so_with_a_hint(
    bot: RunningBot, telegram: FakeTelegram, question: str, said: str
) -> None:
    reply = await ask(telegram, USER, question)
    assert reply.text == said
    assert "/sources" in reply.text
    assert buttons(reply) == {}  # not even a weak match to offer


async def test_a_weak_match_is_offered_behind_a_button_and_labelled(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    # Shares only "Taiwan" with the seed's sentence: below the floor, above the closest floor.
    reply = await ask(telegram, USER, "Does Taiwan export bananas?")
    assert reply.text == NOTHING_FOUND
    await telegram.send_callback_query(USER, reply.message_id, buttons(reply)[CLOSEST_BUTTON])
    await telegram.wait_until(lambda: reply.history, what="the closest passages")
    assert reply.text is not None and reply.raw_text is not None
    assert CLOSEST_NOTE in reply.text
    assert "<b>Taiwan</b> was also reiterated" in reply.raw_text
    assert "Xi Jinping's Diplomatic Calls" in reply.text  # with its source


async def test_start_offers_examples_from_the_index_and_help_lists_commands(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    start = await ask(telegram, USER, "/start")
    assert start.text is not None
    assert start.text.startswith("Hi User2002!")
    headlines = start.text.split("Newest headlines, to ask about:\n")[1].split("\n\n")[0]
    assert len(headlines.splitlines()) == 3
    assert all(line.startswith("• ") for line in headlines.splitlines())
    help_text = (await ask(telegram, USER, "/help")).text or ""
    for command in ("/start", "/help", "/sources", "/ask", "@newsbot_test_bot"):
        assert command in help_text


async def test_sources_lists_articles_and_pages(bot: RunningBot, telegram: FakeTelegram) -> None:
    first = await ask(telegram, USER, "/sources")
    assert first.text is not None and first.text.startswith("📚 14 articles")
    older = buttons(first)["Older ›"]
    await telegram.send_callback_query(USER, first.message_id, older, user_id=USER)
    await telegram.wait_until(lambda: first.history, what="the list to turn a page")
    assert first.text != first.history[0]
    assert "‹ Newer" in buttons(first)


async def test_more_pages_through_answers_and_expires_after_reindex(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    reply = await ask(telegram, USER, TOWN_QUESTION)
    assert reply.text is not None and "3." in reply.text and "4." not in reply.text
    await telegram.send_callback_query(USER, reply.message_id, buttons(reply)["More ›"])
    await telegram.wait_until(lambda: reply.history, what="the answer to page")
    assert "4." in reply.text and "‹ Back" in buttons(reply)

    await ask(telegram, ADMIN, "/reindex")
    ack = telegram.chats[ADMIN].bot_messages[-1]
    await telegram.wait_until(lambda: "Index rebuilt" in (ack.text or ""), timeout=60)
    update = await telegram.send_callback_query(USER, reply.message_id, buttons(reply)["More ›"])
    await telegram.wait_until(lambda: update in telegram.callback_answers)
    assert "rebuilt" in telegram.callback_answers[update]["text"]


async def test_groups_answer_ask_mentions_and_replies_only(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    await telegram.send_text(GROUP, "anyone seen the game last night?", user_id=USER)
    await assert_silent(telegram, GROUP)
    asked = await ask(telegram, GROUP, "/ask trade between China and Russia", user_id=USER)
    assert "228.1" in (asked.text or "")
    mentioned = await ask(telegram, GROUP, "@newsbot_test_bot what did Putin promise?", user_id=7)
    assert "Putin" in (mentioned.text or "")
    replied = await ask(
        telegram, GROUP, "and the Springfield council?", user_id=USER, reply_to=asked.message_id
    )
    assert "Springfield" in (replied.text or "")
    usage = await ask(telegram, GROUP, "/ask", user_id=USER)
    assert (usage.text or "").startswith("Usage: /ask")


async def test_inline_mode_offers_answers(bot: RunningBot, telegram: FakeTelegram) -> None:
    update = await telegram.send_inline_query(USER, SEED_QUESTION)
    await telegram.wait_until(lambda: update in telegram.inline_answers)
    results = telegram.inline_answers[update]["results"]
    assert 1 <= len(results) <= 5
    assert "228.1" in results[0]["input_message_content"]["message_text"]
    assert results[0]["title"].startswith("Xi Jinping")


async def test_non_text_messages_get_a_hint(bot: RunningBot, telegram: FakeTelegram) -> None:
    await telegram.send_sticker(USER)
    assert (await telegram.next_message(USER)).text == NOT_TEXT
    await telegram.send_photo(USER, caption="what is this?")
    assert (await telegram.next_message(USER)).text == NOT_TEXT


async def test_hostile_html_in_questions_and_articles_is_escaped(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    for hostile in ["<b>unclosed & <script>", "prices &amp; <3 Springfield </b>", "<a href=x>"]:
        reply = await ask(telegram, USER, hostile)
        assert reply.text  # the server accepted it: HTML that parses
    article_reply = await ask(telegram, USER, "Springfield prices rise critics")
    assert "<script>alert(1)</script>" in (article_reply.text or "")
    assert "&lt;script&gt;" in (article_reply.raw_text or "")


async def test_reindex_by_admin_is_acknowledged_then_summarised(
    bot: RunningBot, telegram: FakeTelegram, news_dir: Path
) -> None:
    (news_dir / "bad.jsonl").write_text('{"title": "fine", "text": "A fine body."}\n{broken\n')
    ack = await ask(telegram, ADMIN, "/reindex")
    assert (ack.text or "").startswith("⏳ Rebuilding the index from 1 source")
    await telegram.wait_until(lambda: "Index rebuilt" in (ack.text or ""), timeout=60)
    assert "15 articles" in (ack.text or "")
    assert "bad.jsonl:2" in (ack.text or "")


async def test_reindex_is_refused_for_others_and_logged(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    # Three users: each is refused (and logged) once a minute at most, see test_admin.py.
    with caplog.at_level(logging.WARNING):
        private = await ask(telegram, USER, "/reindex")
        group = await ask(telegram, GROUP, "/reindex", user_id=2003)
        await ask(telegram, 2004, SEED_QUESTION)
        own = next(m for m in telegram.chats[2004].messages.values() if not m.from_bot)
        await telegram.send_edited_message(2004, own.message_id, "/reindex ")
        edited = await telegram.next_message(2004)
    for reply in (private, group, edited):
        assert reply.text == "Sorry, only the bot's admins can rebuild the index."
    for user in (2002, 2003, 2004):
        assert caplog.text.count(f"refused /reindex from user {user} ") == 1
    assert bot.state.newsroom.rebuilding is False


async def test_second_reindex_while_one_runs_is_told(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    await telegram.send_text(ADMIN, "/reindex")
    await telegram.send_text(ADMIN, "/reindex")
    first, second = await telegram.wait_for_messages(ADMIN, 2, timeout=10)
    assert "already running" in (second.text or "")
    await telegram.wait_until(lambda: "Index rebuilt" in (first.text or ""), timeout=60)
    # The second is told of the same rebuild when it ends (it used to be told, and not).
    await telegram.wait_until(lambda: second.text == first.text, timeout=10)


async def test_failed_rebuild_keeps_serving_the_old_index(
    telegram: FakeTelegram, index_dir: Path
) -> None:
    settings = bot_settings(telegram, index_dir, ["/no/such/folder"])
    async with running_bot(telegram, settings):
        ack = await ask(telegram, ADMIN, "/reindex")
        await telegram.wait_until(lambda: "failed" in (ack.text or ""), timeout=60)
        assert "source not found: /no/such/folder" in (ack.text or "")
        assert "Still serving the previous index (14 articles)" in (ack.text or "")
        assert "228.1" in ((await ask(telegram, USER, SEED_QUESTION)).text or "")


async def test_flood_control_delays_replies_but_delivers_all_in_order(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    telegram.flood("sendMessage", times=3, retry_after=1)
    questions = [f"Springfield measure {n}" for n in range(6)]
    for text in questions:
        await telegram.send_text(USER, text)
    replies = await telegram.wait_for_messages(USER, len(questions), timeout=30)
    assert [r.text.splitlines()[0] for r in replies if r.text] == [f"🔎 {q}" for q in questions]
    assert sum(c.status == 429 for c in telegram.calls_to("sendMessage")) == 3


async def test_command_menus_are_set_with_reindex_for_admins_only(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    menus = {scope: [c["command"] for c in cmds] for (scope, _), cmds in telegram.commands.items()}
    default = next(v for k, v in menus.items() if "default" in k)
    admin = next(v for k, v in menus.items() if str(ADMIN) in k)
    assert "reindex" not in default and "sources" in default
    assert "reindex" in admin


async def test_a_failing_handler_logs_and_apologises(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail("sendMessage", status=400, times=1)
    with caplog.at_level(logging.ERROR):
        await telegram.send_text(USER, SEED_QUESTION)
        reply = await telegram.next_message(USER)
    assert reply.text == SORRY
    assert "caused an error" in caplog.text


async def test_token_never_appears_in_logs(
    telegram: FakeTelegram, index_dir: Path, news_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with running_bot(telegram, bot_settings(telegram, index_dir, [news_dir])):
            telegram.fail("sendMessage", status=400, times=1)
            await ask(telegram, USER, SEED_QUESTION)
            await ask(telegram, USER, SEED_QUESTION)
    assert caplog.records, "nothing was logged at DEBUG"
    assert telegram.token not in caplog.text
    assert telegram.token.split(":")[1] not in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_mode_checks_the_secret_token(
    telegram: FakeTelegram, index_dir: Path, news_dir: Path
) -> None:
    from bot.app import build_application

    app = build_application(bot_settings(telegram, index_dir, [news_dir]))
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="s3cret"
    )
    await app.start()
    try:
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": USER, "type": "private"},
                "from": {"id": USER, "is_bot": False, "first_name": "U"},
                "text": SEED_QUESTION,
            },
        }
        telegram.add_chat(USER)
        assert await telegram.post_update(url, update, secret_token="wrong") == 403
        assert await telegram.post_update(url, update) == 403
        assert await telegram.post_update(url, update, secret_token="s3cret") == 200
        reply = await telegram.next_message(USER, timeout=10)
        assert "228.1" in (reply.text or "")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
