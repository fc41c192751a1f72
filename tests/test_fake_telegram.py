"""The fake Telegram server, driven by the real python-telegram-bot over loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fake_telegram import FakeTelegram, FakeTelegramThread
from tests.fake_telegram_html import ApiError, formatted_text, parse_html, utf16_len


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:
        yield bot


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data=data)]])


async def post(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as response:
        return response.status, await response.json()


# -- HTML parse mode ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("plain", "plain", []),
        ("<b>bold</b> &lt;tag&gt; &amp; &quot;q&quot;", 'bold <tag> & "q"', [("bold", 0, 4)]),
        ("&#65;&#x42;&#128512;", "AB😀", []),
        ("😀 <i>x</i>", "😀 x", [("italic", 3, 1)]),  # offsets in UTF-16 units
        ("<B>up</B><strong>s</strong><em>e</em><ins>u</ins><del>d</del>", "upseud", None),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link", [("text_link", 0, 4)]),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", None),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("<b>a<i>b</i></b>", "ab", [("bold", 0, 2), ("italic", 1, 1)]),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", None),
        ("<code>a</code><s>b</s><u>c</u><strike>d</strike>", "abcd", None),
    ],
)
def test_html_that_telegram_accepts(
    html: str, text: str, entities: list[tuple[str, int, int]] | None
) -> None:
    plain, found = parse_html(html)
    assert plain == text
    if entities is not None:
        assert [(e["type"], e["offset"], e["length"]) for e in found] == entities


def test_html_link_and_language_arguments() -> None:
    _, [link] = parse_html('<a href="https://example.com/?a=1&amp;b=2">x</a>')
    assert link["url"] == "https://example.com/?a=1&b=2"
    _, [pre] = parse_html('<pre><code class="language-python">x</code></pre>')
    assert pre["language"] == "python"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("é<b", "Unclosed start tag at byte offset 2"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=http://x>y</a>", "Unexpected end of name token at byte offset 12"),
        ("<b x>y</b>", 'Expected equal sign in declaration of an attribute of the tag "b"'),
        ("AT&T", 'character "&" at byte offset 2'),
        ("&nbsp;", 'character "&" at byte offset 0'),
        ("&lt without semicolon", 'character "&" at byte offset 0'),
        ("a -> b", 'character ">" at byte offset 3'),
    ],
)
def test_html_that_telegram_rejects(html: str, error: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_html(html)
    assert raised.value.code == 400
    assert raised.value.description.startswith("Bad Request: can't parse entities: ")
    assert error in raised.value.description


def test_html_lenient_mode_accepts_what_tdlib_tolerates() -> None:
    assert parse_html("AT&T -> &lt", strict=False) == ("AT&T -> <", [])


def test_message_length_is_counted_in_utf16_after_parsing() -> None:
    assert utf16_len("😀") == 2
    assert formatted_text("😀" * 2048, None)[0] == "😀" * 2048
    assert formatted_text("<b>" + "&amp;" * 4096 + "</b>", "HTML")[0] == "&" * 4096
    with pytest.raises(ApiError, match="message is too long"):
        formatted_text("😀" * 2048 + "a", None)
    with pytest.raises(ApiError, match="message text is empty"):
        formatted_text("<b> </b>\n", "HTML")


def test_text_is_trimmed_and_entities_follow() -> None:
    assert formatted_text("  <b>x</b> ", "HTML") == (
        "x",
        [{"type": "bold", "offset": 0, "length": 1}],
    )


# -- the Bot API over HTTP --------------------------------------------------------------------


@pytest.mark.process
async def test_get_me_and_wrong_token(telegram: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "newsbot_test_bot"
    assert bot.id == 123456789
    stranger = Bot("987654321:" + "x" * 35, base_url=telegram.base_url)
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        await stranger.initialize()
    await stranger.shutdown()
    status, body = await post(f"{telegram.base_url}wrong/getMe")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert [c.status for c in telegram.calls_to("getMe")] == [200, 401, 401]


@pytest.mark.process
async def test_unknown_method_is_not_found_and_names_ignore_case(telegram: FakeTelegram) -> None:
    status, body = await post(f"{telegram.base_url}{telegram.token}/sendPhoto", data={"x": "1"})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await post(f"{telegram.base_url}{telegram.token}/GETME")
    assert status == 200
    assert body["result"]["username"] == "newsbot_test_bot"
    status, body = await post(f"{telegram.base_url}{telegram.token}/logout")
    assert (status, body) == (200, {"ok": True, "result": True})
    assert [c.method for c in telegram.calls] == ["sendPhoto", "getMe", "logOut"]


@pytest.mark.process
@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
async def test_request_bodies(telegram: FakeTelegram, encoding: str) -> None:
    telegram.add_chat(5)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "d"}]]}
    fields = {"chat_id": 5, "text": "<b>hi</b>", "parse_mode": "HTML", "reply_markup": markup}
    url = f"{telegram.base_url}{telegram.token}/sendMessage"
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    if encoding == "json":
        status, body = await post(url, json=fields)
    elif encoding == "urlencoded":
        status, body = await post(url, data=form)
    else:
        data = aiohttp.FormData(form)
        data.add_field("thumbnail", b"bytes", filename="t.jpg")  # forces multipart
        status, body = await post(url, data=data)
    assert status == 200
    assert body["result"]["text"] == "hi"
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert body["result"]["reply_markup"] == markup
    assert isinstance(body["result"]["date"], int)
    assert telegram.calls[-1].params["chat_id"] == 5


@pytest.mark.process
async def test_send_message_records_the_chat(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.send_text(42, "hello")
    sent = await bot.send_message(
        42,
        "<b>Hi</b> &amp; bye",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("more:1"),
        reply_parameters=ReplyParameters(1),
    )
    assert sent.message_id == 2  # the user's message was 1: ids count per chat
    assert sent.text == "Hi & bye"
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "hello"
    [message] = await telegram.wait_for_messages(42)
    assert (message.text, message.raw_text, message.parse_mode) == (
        "Hi & bye",
        "<b>Hi</b> &amp; bye",
        "HTML",
    )
    assert message.reply_markup == {
        "inline_keyboard": [[{"callback_data": "more:1", "text": "More"}]]
    }
    assert message.reply_to_message_id == 1


@pytest.mark.process
async def test_send_message_errors(telegram: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(7, "hi")
    await telegram.send_text(7, "hi")
    with pytest.raises(BadRequest, match=r"Can't parse entities: unsupported start tag \"\""):
        await bot.send_message(7, "1 < 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(7, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(7, "x", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(7, "x", reply_parameters=ReplyParameters(99))
    telegram.block(7)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(7, "x")
    assert telegram.chats[7].bot_messages == []


@pytest.mark.process
async def test_edits(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.send_text(42, "hello")
    sent = await bot.send_message(42, "<b>one</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>one</b>", 42, sent.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    edited = await bot.edit_message_text("two", 42, sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.text == "two"
    assert edited.reply_markup is None  # an edit without reply_markup removes the keyboard
    message = telegram.chats[42].messages[sent.message_id]
    assert (message.text, message.history) == ("two", ["one"])
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", 42, 1)  # the user's message
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 42, 99)
    inline_id = telegram.add_inline_message("inline")
    assert await bot.edit_message_text("changed", inline_message_id=inline_id) is True
    assert telegram.inline_messages[inline_id].text == "changed"
    assert await bot.delete_message(42, sent.message_id) is True
    assert message.deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(42, sent.message_id)


@pytest.mark.process
async def test_flood_control_is_retry_after(
    telegram: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    await telegram.send_text(42, "hi")
    telegram.flood("sendMessage", times=2, retry_after=3)
    for _ in range(2):
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(42, "x")
        assert raised.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(42, "x")
    assert [c.status for c in telegram.calls_to("sendMessage")] == [429, 429, 200]
    assert telegram.calls_to("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


@pytest.mark.process
async def test_a_revoked_token_is_401_to_every_call_and_invalid_token_in_ptb(
    telegram: FakeTelegram,
) -> None:
    bot = Bot(telegram.token, base_url=telegram.base_url)
    telegram.reject_token()
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        await bot.initialize()
    async with aiohttp.ClientSession() as session:
        url = f"{telegram.base_url}{telegram.token}/sendMessage"
        async with session.post(url, json={"chat_id": 1, "text": "hi"}) as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
    assert [(c.method, c.status) for c in telegram.calls] == [("getMe", 401), ("sendMessage", 401)]
    telegram.clear_faults()
    async with bot:
        assert bot.username == "newsbot_test_bot"


@pytest.mark.process
async def test_flood_share_is_seeded() -> None:
    async def statuses() -> list[int]:
        async with FakeTelegram(seed=7) as server:
            server.flood("getMe", times=None, share=0.5)
            url = f"{server.base_url}{server.token}/getMe"
            return [(await post(url))[0] for _ in range(20)]

    first = await statuses()
    assert first == await statuses()
    assert set(first) == {200, 429}


@pytest.mark.process
async def test_rate_limiter_waits_out_flood_control(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    await telegram.send_text(42, "hi")
    telegram.flood("sendMessage", times=2, retry_after=0.05)
    builder = Application.builder().token(telegram.token).base_url(telegram.base_url)
    app = builder.rate_limiter(AIORateLimiter(max_retries=2)).build()
    async with app:
        await app.bot.send_message(42, "sent at last")
    assert [c.status for c in telegram.calls_to("sendMessage")] == [429, 429, 200]


@pytest.mark.process
async def test_faults(telegram: FakeTelegram) -> None:
    request = HTTPXRequest(read_timeout=0.2, connect_timeout=0.5)
    async with Bot(telegram.token, base_url=telegram.base_url, request=request) as bot:
        telegram.fail("getMe", status=502, times=1)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.get_me()
        telegram.delay(1.0, "getMe", times=1)
        with pytest.raises(NetworkError):  # TimedOut
            await bot.get_me()
        await telegram.pause()
        with pytest.raises(NetworkError):
            await bot.get_me()
        await telegram.resume()
        assert (await bot.get_me()).username == "newsbot_test_bot"


@pytest.mark.process
async def test_get_updates_offsets_and_long_polling(telegram: FakeTelegram, bot: Bot) -> None:
    first = await telegram.send_text(1, "/start")
    await telegram.send_text(1, "two")
    third = await telegram.send_text(1, "three")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, first + 1, third]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert [(e.type, e.offset, e.length) for e in updates[0].message.entities] == [
        ("bot_command", 0, 6)
    ]
    assert [u.update_id for u in await bot.get_updates(offset=first + 1, limit=1)] == [first + 1]
    assert [u.update_id for u in await bot.get_updates()] == [first + 1, third]  # not confirmed
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [third]
    assert await bot.get_updates(offset=third + 1) == ()

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=third + 1, timeout=5))
    await asyncio.sleep(0.05)
    fourth = await telegram.send_text(1, "four")
    assert [u.update_id for u in await poll] == [fourth]
    assert time.monotonic() - started < 1
    started = time.monotonic()
    assert await bot.get_updates(offset=fourth + 1, timeout=1) == ()  # timeout expires
    assert time.monotonic() - started >= 1


@pytest.mark.process
async def test_allowed_updates_and_conflicts(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.send_text(1, "hi")
    await telegram.send_inline_query(1, "news")
    updates = await bot.get_updates(allowed_updates=["inline_query"])
    assert [u.inline_query is not None for u in updates] == [True]
    assert telegram.allowed_updates == ["inline_query"]
    waiting = asyncio.create_task(bot.get_updates(offset=updates[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    # PTB's own pool allows one getUpdates at a time; a second bot instance polls directly.
    status, _ = await post(f"{telegram.base_url}{telegram.token}/getUpdates", data={"timeout": "0"})
    assert status == 200
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()


@pytest.mark.process
async def test_commands_per_scope(telegram: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Greeting")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("reindex", "Rebuild")], scope=BotCommandScopeChat(9))
    telegram.add_chat(9)
    await bot.set_my_commands([BotCommand("reindex", "Rebuild")], scope=BotCommandScopeChat(9))
    assert telegram.commands == {
        ("default", ""): [{"command": "start", "description": "Greeting"}],
        ("chat:9", ""): [{"command": "reindex", "description": "Rebuild"}],
    }
    [command] = await bot.get_my_commands(scope=BotCommandScopeChat(9))
    assert command.command == "reindex"
    assert await bot.delete_my_commands(scope=BotCommandScopeDefault())
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Greeting")])


@pytest.mark.process
async def test_callback_and_inline_queries(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.send_text(42, "hi")
    sent = await bot.send_message(42, "page 1", reply_markup=keyboard("more:1"))
    update_id = await telegram.send_callback_query(42, sent.message_id, "more:1")
    [update] = await bot.get_updates(offset=update_id)
    assert update.callback_query is not None
    assert update.callback_query.data == "more:1"
    assert update.callback_query.message is not None
    assert update.callback_query.message.text == "page 1"
    await bot.answer_callback_query(update.callback_query.id, "Loading")
    assert telegram.callback_answers[update_id]["text"] == "Loading"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(update.callback_query.id)

    update_id = await telegram.send_inline_query(42, "news")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.inline_query is not None

    def article(n: int) -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            str(n), "Title", InputTextMessageContent("<b>x</b>", "HTML")
        )

    with pytest.raises(BadRequest, match="Results_too_much"):
        await bot.answer_inline_query(update.inline_query.id, [article(n) for n in range(51)])
    bad_html = InlineQueryResultArticle("1", "T", InputTextMessageContent("<b>x", "HTML"))
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.answer_inline_query(update.inline_query.id, [bad_html])
    await bot.answer_inline_query(update.inline_query.id, [article(n) for n in range(50)])
    assert len(telegram.inline_answers[update_id]["results"]) == 50


@pytest.mark.process
async def test_non_text_and_edited_messages(telegram: FakeTelegram, bot: Bot) -> None:
    await telegram.send_sticker(42)
    await telegram.send_photo(-100, user_id=42, caption="look @someone", chat_type="supergroup")
    text_id = await telegram.send_text(42, "typo")
    await telegram.send_edited_message(
        42, telegram.updates[text_id]["message"]["message_id"], "fixed"
    )
    sticker, photo, _, edited = await bot.get_updates()
    assert sticker.message is not None and sticker.message.sticker is not None
    assert photo.message is not None and photo.message.chat.type == "supergroup"
    assert photo.message.photo[-1].width == 800
    assert [e.type for e in photo.message.caption_entities] == ["mention"]
    assert edited.edited_message is not None and edited.edited_message.text == "fixed"
    await bot.send_chat_action(42, "typing")
    assert telegram.chats[42].actions == ["typing"]


@pytest.mark.process
async def test_application_echoes_over_polling(telegram: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = Application.builder().token(telegram.token).base_url(telegram.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        await telegram.send_text(42, "hello")
        reply = await telegram.next_message(42)
        await telegram.send_text(-5, "hi all", user_id=42)
        group_reply = await telegram.next_message(-5)
        await app.updater.stop()
        await app.stop()
    assert reply.text == "echo: hello"
    assert group_reply.reply_to_message_id == 1  # PTB quotes in groups
    assert telegram.pending == []  # the updater confirmed what it processed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.process
async def test_application_echoes_over_webhook(telegram: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    port = free_port()
    hook = f"http://127.0.0.1:{port}/hook"
    app = Application.builder().token(telegram.token).base_url(telegram.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=hook, secret_token="s3cret"
        )
        assert telegram.webhook["url"] == hook
        await telegram.send_text(42, "via hook")
        reply = await telegram.next_message(42)
        stray = {"update_id": 999, "message": telegram.updates[1]["message"]}
        assert await telegram.post_update(hook, stray, secret_token="wrong") == 403
        await app.updater.stop()
        await app.stop()
    assert reply.text == "via hook"
    assert telegram.pending == []


@pytest.mark.process
def test_thread_runner_serves_sync_callers() -> None:
    with FakeTelegramThread(seed=1) as fake:
        url = f"{fake.base_url}{fake.token}/getUpdates"
        fake.run(fake.server.send_text(42, "hi"))
        with urllib.request.urlopen(urllib.request.Request(url, data=b"timeout=1")) as response:
            body = json.load(response)
        assert body["result"][0]["message"]["text"] == "hi"
        fake.server.flood("getMe", times=1, retry_after=2)
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(f"{fake.base_url}{fake.token}/getMe")
        assert raised.value.code == 429
        raised.value.close()
