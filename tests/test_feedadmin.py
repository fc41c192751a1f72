"""Admins manage the sources from a private chat: /addfeed, an OPML file, /removefeed, and the
sources that left NEWSBOT_SOURCES (issue #18). The real bot, the fake Bot API, a loopback feed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from bot import opml
from bot.callbacks import SourceChoice, decode, encode, source_key
from bot.ledger import LEDGER_FILE, SourceLedger
from bot.settings import Settings
from bot.texts import ADDFEED_USAGE, ADMIN_PRIVATE_ONLY, NOT_TEXT, SOURCE_GONE, SOURCES_REFUSED
from index.store.build import build_index
from tests.conftest import SEEDS
from tests.fake_telegram import FakeTelegram, Message
from tests.harness import ADMIN, USER, bot_settings, running_bot

GROUP = -5005
FERRY = "Why did the Zanzibar ferry operators strike?"
WIRE = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    "<item><title>Ferry strike in Zanzibar</title><guid>wire-1</guid>"
    "<description>Zanzibar ferry operators went on strike over the rising price of fuel."
    "</description><pubDate>Wed, 11 Feb 2026 09:30:00 GMT</pubDate></item></channel></rss>"
)


@dataclass
class Feeds:
    """A loopback server with one feed."""

    base: str = ""

    @property
    def wire(self) -> str:
        return f"{self.base}/wire.xml?api_key=secret"


@pytest.fixture
async def feeds() -> AsyncIterator[Feeds]:
    served = Feeds()

    async def wire(request: web.Request) -> web.Response:
        return web.Response(text=WIRE, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/wire.xml", wire)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    served.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield served
    finally:
        await runner.cleanup()


async def ask(telegram: FakeTelegram, chat: int, text: str, **kw: object) -> Message:
    await telegram.send_text(chat, text, **kw)  # type: ignore[arg-type]
    return await telegram.next_message(chat, timeout=10)


async def finished(telegram: FakeTelegram, ack: Message) -> str:
    """Wait for an acknowledgement to be edited into its report; return the report."""
    await telegram.wait_until(lambda: (ack.text or "")[:1] in "✅❌", timeout=90, what="a report")
    return ack.text or ""


def opml_file(*urls: str) -> bytes:
    outlines = "".join(f'<outline type="rss" text="f" xmlUrl="{url}"/>' for url in urls)
    return (
        f'<?xml version="1.0"?><opml version="2.0"><head><title>Feeds</title></head>'
        f"<body>{outlines}</body></opml>"
    ).encode()


# -- pure parts ------------------------------------------------------------------------------


def test_an_opml_file_gives_its_http_feeds_once_each_in_order() -> None:
    data = opml_file("https://a.example/rss", "ftp://b.example/x", "https://a.example/rss")
    data = data.replace(b"</body>", b'<outline text="folder"><outline xmlUrl="http://c.example/f"/>'
                        b"</outline></body>")  # fmt: skip
    assert opml.feed_urls(data) == ["https://a.example/rss", "http://c.example/f"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<opml><body><outline xmlUrl='http://x.example/&b;'/></body></opml>",
            "it declares a DTD, which an OPML file has no need of",
        ),
        (b"<html><body>hello</body></html>", "it is XML, but not OPML"),
        (b"\x89PNG\r\n\x1a\n", "it is not well-formed XML (not well-formed (invalid token))"),
        (b"<opml><body></body></opml>", "it lists no http(s) feed (no outline with an xmlUrl)"),
        (b"<opml>" + b"<outline/>" * 20_001 + b"</opml>", "it has more than 20,000 elements"),
        (b" " * (opml.MAX_BYTES + 1), "it is larger than 1024 KB"),
    ],
)
def test_a_hostile_or_wrong_opml_file_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(opml.OpmlError) as refused:
        opml.feed_urls(data)
    assert str(refused.value) == reason


def test_source_buttons_carry_a_digest_and_decode_strictly() -> None:
    url = "https://example.org/" + "x" * 2000
    choice = SourceChoice("ask", source_key(url))
    assert len(encode(choice).encode()) <= 64
    assert decode(encode(choice)) == choice
    assert decode("feed:ask:" + "A" * 16) is None
    assert decode("feed:drop:" + "a" * 16) is None


def test_the_ledger_retires_what_left_the_configuration_and_keeps_what_admins_added() -> None:
    first = SourceLedger().restarted(["a", "b"], []).add(["https://f"])
    assert first.active == ("a", "b", "https://f")
    second = first.restarted(["a"], ["a", "b", "https://f", "old"])
    assert (second.active, second.retired) == (("a", "https://f"), ("b", "old"))
    assert second.restarted(["a", "b"], []).retired == ("old",)  # configured again
    assert second.remove("b").retired == ("old",)
    assert second.removable == ("https://f", "b", "old")


# -- through the bot -------------------------------------------------------------------------


@pytest.mark.process
async def test_addfeed_indexes_a_feed_and_keeps_it_across_a_restart(
    telegram: FakeTelegram, seed_index: Path, feeds: Feeds
) -> None:
    settings = bot_settings(telegram, seed_index, [SEEDS])
    async with running_bot(telegram, settings) as bot:
        assert (await ask(telegram, ADMIN, "/addfeed")).text == ADDFEED_USAGE
        assert (await ask(telegram, ADMIN, "/addfeed file:///etc/passwd")).text == ADDFEED_USAGE
        group = await ask(telegram, GROUP, f"/addfeed {feeds.wire}", user_id=ADMIN)
        assert group.text == ADMIN_PRIVATE_ONLY
        assert (await ask(telegram, USER, f"/addfeed {feeds.wire}")).text == SOURCES_REFUSED
        assert bot.state.newsroom.sources == (str(SEEDS),)

        ack = await ask(telegram, ADMIN, f"/addfeed {feeds.wire}")
        assert (
            ack.text
            == f"⏳ Adding {feeds.wire}: reading it now. I'll report here when it is indexed."
        )
        assert (await finished(telegram, ack)).startswith("✅ Index rebuilt: 2 articles")
        assert bot.state.newsroom.sources == (str(SEEDS), feeds.wire)
        answer = await ask(telegram, USER, FERRY)
        assert "went on strike over the rising price of fuel" in (answer.text or "")
        again = await ask(telegram, ADMIN, f"/addfeed {feeds.wire}")
        assert again.text == f"I already read {feeds.wire}."
    ledger = json.loads((seed_index / LEDGER_FILE).read_text())
    assert ledger == {"configured": [str(SEEDS)], "added": [feeds.wire], "retired": []}
    async with running_bot(telegram, settings) as bot:
        assert bot.state.newsroom.sources == (str(SEEDS), feeds.wire)


@pytest.mark.process
async def test_an_opml_file_imports_its_new_feeds_and_a_hostile_one_gets_a_reply(
    telegram: FakeTelegram, seed_index: Path, feeds: Feeds
) -> None:
    settings = bot_settings(telegram, seed_index, [SEEDS])
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'.encode()
            for n in range(1, 10)
        )
        + b"]><opml><body><outline xmlUrl='http://x/&lol9;'/></body></opml>"
    )
    async with running_bot(telegram, settings) as bot:
        await telegram.send_document(USER, "feeds.opml", opml_file(feeds.wire))
        assert (await telegram.next_message(USER, timeout=10)).text == NOT_TEXT
        for name, data, reason in [
            ("bomb.opml", bomb, "it declares a DTD, which an OPML file has no need of"),
            ("photo.opml", b"\x89PNG\r\n\x1a\n" * 100, "it is not well-formed XML"),
            ("big.opml", b" " * (opml.MAX_BYTES + 1), "it is larger than 1024 KB"),
        ]:
            await telegram.send_document(ADMIN, name, data)
            reply = (await telegram.next_message(ADMIN, timeout=10)).text or ""
            assert reply.startswith(f"I couldn't import that file: {reason}")
        assert bot.state.newsroom.sources == (str(SEEDS),)

        await telegram.send_document(ADMIN, "feeds.opml", opml_file(feeds.wire, str(SEEDS)))
        ack = await telegram.next_message(ADMIN, timeout=10)
        assert ack.text == (
            "⏳ Importing 1 new feed (0 already sources): reading them now. I'll report here "
            "when they are indexed."
        )
        assert (await finished(telegram, ack)).startswith("✅ Index rebuilt: 2 articles")
        await telegram.send_document(ADMIN, "again.opml", opml_file(feeds.wire))
        again = await telegram.next_message(ADMIN, timeout=10)
        assert again.text == "All 1 feed in that file are sources already."


@pytest.mark.process
async def test_a_source_that_left_newsbot_sources_is_offered_for_removal_and_kept_until_then(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    news = tmp_path / "news"
    news.mkdir()
    (news / "council.md").write_text(
        "---\ntitle: Council passes the budget\n---\nThe council passed the budget.\n"
    )
    index_dir = tmp_path / "index"
    await asyncio.to_thread(build_index, [SEEDS, news], index_dir)
    async with running_bot(telegram, bot_settings(telegram, index_dir, [SEEDS, news])):
        pass  # the bot notes what is configured
    async with running_bot(telegram, bot_settings(telegram, index_dir, [SEEDS])) as bot:
        assert bot.state.ledger.retired == (str(news),)
        await telegram.send_text(ADMIN, "/feeds")
        _, retired = await telegram.wait_for_messages(ADMIN, 2, timeout=10)
        assert (retired.text or "").splitlines() == [
            "🗄 No longer configured: not read any more, their articles kept until you remove them.",
            f"🗄 {news}: 1 article indexed",
        ]
        assert retired.reply_markup is not None
        (button,) = retired.reply_markup["inline_keyboard"][0]
        assert button["text"] == f"🗑 …{str(news)[-59:]}"
        await telegram.send_callback_query(ADMIN, retired.message_id, button["callback_data"])
        confirm = (await telegram.wait_for_messages(ADMIN, 3, timeout=10))[2]
        assert (
            confirm.text
            == f"Remove {news} and its 1 article from the index? This cannot be undone."
        )
        assert confirm.reply_markup is not None
        _, keep = confirm.reply_markup["inline_keyboard"][0]
        await telegram.send_callback_query(ADMIN, confirm.message_id, keep["callback_data"])
        await telegram.wait_until(lambda: confirm.text == f"Kept {news}.", what="kept")
        assert bot.state.newsroom.index is not None
        assert bot.state.newsroom.index.n_articles == 2  # nothing removed without a yes
        await telegram.send_text(ADMIN, "/removefeed")
        listing = (await telegram.wait_for_messages(ADMIN, 4, timeout=10))[3]
        assert listing.text == (
            "Which source should I remove? Its articles leave the index too.\n\n"
            f"Set in NEWSBOT_SOURCES, so removed there: {SEEDS}. After a restart without one, "
            "it is offered here."
        )

        # Yes, this time: `newsbot index --remove` in the build child.
        await telegram.send_callback_query(ADMIN, retired.message_id, button["callback_data"])
        again = (await telegram.wait_for_messages(ADMIN, 5, timeout=10))[4]
        assert again.reply_markup is not None
        remove, _ = again.reply_markup["inline_keyboard"][0]
        await telegram.send_callback_query(ADMIN, again.message_id, remove["callback_data"])
        report = await finished(telegram, again)
        assert report.startswith("✅ Index rebuilt: 1 article"), report
        assert bot.state.ledger.retired == ()
        assert bot.state.newsroom.index is not None
        assert bot.state.newsroom.index.n_articles == 1
        assert bot.state.newsroom.index.header["sources"] == [str(SEEDS)]
        # The old button now names a source that is gone.
        await telegram.send_callback_query(ADMIN, retired.message_id, button["callback_data"])
        answered = await telegram.wait_for_calls("answerCallbackQuery", 5, timeout=10)
        assert answered[-1].params["text"] == SOURCE_GONE


@pytest.mark.process
async def test_removefeed_removes_a_feed_an_admin_added_once_confirmed(
    telegram: FakeTelegram, seed_index: Path, feeds: Feeds
) -> None:
    settings = bot_settings(telegram, seed_index, [SEEDS])
    async with running_bot(telegram, settings) as bot:
        empty = await ask(telegram, ADMIN, "/removefeed")
        assert (empty.text or "").startswith("No source to remove from here.")
        ack = await ask(telegram, ADMIN, f"/addfeed {feeds.wire}")
        assert (await finished(telegram, ack)).startswith("✅ Index rebuilt: 2 articles")
        listing = await ask(telegram, ADMIN, "/removefeed")
        assert listing.reply_markup is not None
        (button,) = listing.reply_markup["inline_keyboard"][0]
        await telegram.send_callback_query(ADMIN, listing.message_id, button["callback_data"])
        confirm = await telegram.next_message(ADMIN, timeout=10)
        assert confirm.text == (
            f"Remove {feeds.wire} and its 1 article from the index? This cannot be undone."
        )
        assert confirm.reply_markup is not None
        remove, _ = confirm.reply_markup["inline_keyboard"][0]
        await telegram.send_callback_query(ADMIN, confirm.message_id, remove["callback_data"])
        assert (await finished(telegram, confirm)).startswith("✅ Index rebuilt: 1 article")
        assert bot.state.newsroom.sources == (str(SEEDS),)
        answer = await ask(telegram, USER, FERRY)
        assert "went on strike over the rising price of fuel" not in (answer.text or "")


@pytest.mark.process
async def test_without_newsbot_sources_the_bot_reads_what_the_index_remembers(
    telegram: FakeTelegram, tmp_path: Path, feeds: Feeds
) -> None:
    index_dir = tmp_path / "index"
    await asyncio.to_thread(build_index, [feeds.wire], index_dir)  # `newsbot index URL`
    settings = replace(bot_settings(telegram, index_dir, ["./seeds"]), sources_set=False)
    async with running_bot(telegram, settings) as bot:
        assert bot.state.newsroom.sources == (feeds.wire,)
        assert bot.state.ledger.retired == ()
        ack = await ask(telegram, ADMIN, "/reindex")
        assert (
            ack.text
            == "⏳ Rebuilding the index from 1 source. I keep answering questions meanwhile."
        )
        assert (await finished(telegram, ack)).startswith("✅ Index rebuilt: 1 article")


def test_newsbot_sources_unset_is_told_apart_from_set() -> None:
    token = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35}
    assert Settings.from_env(token).sources_set is False
    assert Settings.from_env(token | {"NEWSBOT_SOURCES": "./news"}).sources_set is True
