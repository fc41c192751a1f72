"""Scheduled refresh through the real bot: a loopback feed server, a folder, the fake Bot API.

The refresh interval, floor and alert threshold are shortened by passing a `RefreshPolicy` in
the bot's `Settings` (what `NEWSBOT_REFRESH` sets in production); nothing else is changed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from aiohttp import web

from bot.settings import Settings, SettingsError
from bot.texts import FEEDS_REFUSED
from index.sources.feedschedule import RefreshPolicy
from index.store.build import build_index
from tests.fake_telegram import FakeTelegram, Message
from tests.harness import ADMIN, USER, RunningBot, bot_settings, running_bot

FAST = RefreshPolicy(refresh=0.3, floor=0.1, max_wait=1.0, alert_after=1.0, jitter=0.0)
FERRY_QUESTION = "Why did the Zanzibar ferry operators strike?"

TOKEN = "123456:" + "A" * 35


@pytest.mark.parametrize(
    ("raw", "refresh"), [("", 600.0), ("90s", 90.0), ("15m", 900.0), ("off", None), ("0", None)]
)
def test_newsbot_refresh_sets_the_interval_or_turns_it_off(raw: str, refresh: float | None) -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_REFRESH": raw})
    assert (settings.refresh.refresh if settings.refresh else None) == refresh


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "soon",
            "NEWSBOT_REFRESH: not a duration: 'soon' (try 600, 10m or 1h), or 0/off for no "
            "scheduled refresh",
        ),
        ("30", "NEWSBOT_REFRESH: at least 60 s, got '30', or 0/off for no scheduled refresh"),
    ],
)
def test_a_bad_newsbot_refresh_is_one_line(raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_REFRESH": raw})
    assert str(caught.value) == message


@dataclass
class Wire:
    """A loopback RSS feed with ETag validators; `publish` adds an item, `broken` fails it."""

    base: str = ""
    items: list[tuple[str, str, str]] = field(default_factory=list)
    broken: bool = False
    answers: list[int] = field(default_factory=list)  # status of every response, in order

    @property
    def url(self) -> str:
        return f"{self.base}/wire.xml"

    @property
    def etag(self) -> str:
        return f'"v{len(self.items)}"'

    def publish(self, title: str, text: str, day: str) -> None:
        self.items.append((title, text, day))

    def body(self) -> bytes:
        entries = "".join(
            f"<item><title>{title}</title><description>{text}</description>"
            f"<guid>wire-{n}</guid><pubDate>{day}</pubDate></item>"
            for n, (title, text, day) in enumerate(self.items)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"{entries}</channel></rss>"
        ).encode()

    async def feed(self, request: web.Request) -> web.Response:
        if self.broken:
            response = web.Response(status=500)
        elif request.headers.get("If-None-Match") == self.etag:
            response = web.Response(status=304, headers={"ETag": self.etag})
        else:
            response = web.Response(
                body=self.body(), headers={"ETag": self.etag}, content_type="application/rss+xml"
            )
        self.answers.append(response.status)
        return response


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    feed = Wire()
    feed.publish(
        "Harbour reopens",
        "The harbour of Dar es Salaam reopened after the storm damaged two cranes.",
        "Mon, 09 Feb 2026 08:00:00 GMT",
    )
    app = web.Application()
    app.router.add_get("/wire.xml", feed.feed)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    feed.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield feed
    finally:
        await runner.cleanup()


@pytest.fixture
def news(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "council.md").write_text(
        "---\ntitle: Council passes the budget\ndate: 2026-02-10\n---\n"
        "The Springfield council passed the budget for the new library.\n"
    )
    (folder / "bridge.md").write_text(
        "---\ntitle: Bridge closes for repairs\ndate: 2026-02-11\n---\n"
        "The river bridge closed for repairs to its cables.\n"
    )
    return folder


@asynccontextmanager
async def refreshing_bot(
    telegram: FakeTelegram, tmp_path: Path, sources: list[str]
) -> AsyncIterator[RunningBot]:
    """The bot on an index of `sources`, refreshing them on the FAST schedule."""
    index_dir = tmp_path / "index"
    await asyncio.to_thread(build_index, sources, index_dir)  # the feed server shares our loop
    settings = replace(bot_settings(telegram, index_dir, sources), refresh=FAST)
    async with running_bot(telegram, settings) as bot:
        try:
            yield bot
        finally:
            assert bot.app.post_stop is not None
            await bot.app.post_stop(bot.app)  # stops the refresh, as run_polling would
            running = bot.state.newsroom.running_rebuild
            if running is not None:
                await running


async def until(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def ask(telegram: FakeTelegram, chat: int, text: str) -> Message:
    await telegram.send_text(chat, text)
    return await telegram.next_message(chat, timeout=10)


def rebuilt(bot: RunningBot, before: str) -> bool:
    newsroom = bot.state.newsroom
    return newsroom.generation != before and not newsroom.rebuilding


@pytest.mark.process
@pytest.mark.slow
async def test_a_new_feed_item_is_answered_without_reindex_and_a_304_rebuilds_nothing(
    telegram: FakeTelegram, tmp_path: Path, wire: Wire
) -> None:
    async with refreshing_bot(telegram, tmp_path, [wire.url]) as bot:
        refresher = bot.state.refresher
        assert refresher is not None
        before = bot.state.newsroom.generation
        await until(lambda: wire.answers.count(304) >= 3, what="three 304s")
        # Fetched once: the build's fetch is spooled, and the poller asks with its validators.
        assert wire.answers[0] == 200
        assert set(wire.answers[1:]) == {304}
        assert (refresher.rebuilds, bot.state.newsroom.generation) == (0, before)
        before_text = (await ask(telegram, USER, FERRY_QUESTION)).text or ""
        assert "Zanzibar ferry operators went on strike" not in before_text

        published = time.monotonic()
        wire.publish(
            "Ferry strike in Zanzibar",
            "Zanzibar ferry operators went on strike over the rising price of fuel.",
            "Wed, 11 Feb 2026 09:30:00 GMT",
        )
        await until(lambda: rebuilt(bot, before), what="a rebuild")
        reply = await ask(telegram, USER, FERRY_QUESTION)
        seconds = time.monotonic() - published
        assert reply.text is not None
        assert "Zanzibar ferry operators went on strike" in reply.text
        assert refresher.rebuilds == 1
        # Issue #18: the update child read the poll's body from the spool, not the feed again.
        assert wire.answers.count(200) == 2
        assert seconds < 30
        print(f"published -> answered: {seconds:.1f} s")


@pytest.mark.process
@pytest.mark.slow
async def test_a_folder_rebuilds_on_a_content_change_only(
    telegram: FakeTelegram, tmp_path: Path, news: Path
) -> None:
    async with refreshing_bot(telegram, tmp_path, [str(news)]) as bot:
        refresher = bot.state.refresher
        assert refresher is not None
        before = bot.state.newsroom.generation

        async def checks(n: int) -> None:
            seen = refresher.files_checked
            for _ in range(n):
                await until(lambda s=seen: refresher.files_checked != s, what="a rescan")
                seen = refresher.files_checked

        await checks(2)
        assert refresher.rebuilds == 0  # unchanged
        council = news / "council.md"
        stat = council.stat()
        os.utime(council, ns=(stat.st_atime_ns, stat.st_mtime_ns + 7_000_000_000))
        await checks(2)
        assert refresher.rebuilds == 0  # touched, same content
        assert bot.state.newsroom.generation == before

        (news / "ferry.md").write_text(
            "---\ntitle: Ferry strike\ndate: 2026-02-12\n---\n"
            "Zanzibar ferry operators went on strike over the rising price of fuel.\n"
        )
        await until(lambda: rebuilt(bot, before), what="a rebuild")
        assert refresher.rebuilds == 1
        reply = await ask(telegram, USER, FERRY_QUESTION)
        assert "Zanzibar ferry operators went on strike" in (reply.text or "")
        await checks(2)
        assert refresher.rebuilds == 1  # the baseline followed the new index


@pytest.mark.process
@pytest.mark.slow
async def test_a_failing_feed_is_told_to_the_admins_once_and_its_recovery_once(
    telegram: FakeTelegram, tmp_path: Path, wire: Wire
) -> None:
    async with refreshing_bot(telegram, tmp_path, [wire.url]) as bot:
        wire.broken = True
        await telegram.wait_for_messages(ADMIN, 1, timeout=15)
        failing = telegram.chats[ADMIN].bot_messages[0].text or ""
        assert failing.startswith(f"⚠️ The feed {wire.url} has been failing since ")
        assert failing.endswith(": HTTP status 500. I keep trying, less often.")
        await until(lambda: wire.answers.count(500) >= 4, what="more failures")
        assert len(telegram.chats[ADMIN].bot_messages) == 1  # told once

        wire.broken = False
        await telegram.wait_for_messages(ADMIN, 2, timeout=15)
        recovered = telegram.chats[ADMIN].bot_messages[1].text or ""
        assert recovered.startswith(f"✅ The feed {wire.url} works again")
        await until(lambda: wire.answers[-2:] == [304, 304], what="two healthy polls")
        assert len(telegram.chats[ADMIN].bot_messages) == 2
        assert bot.state.refresher is not None and bot.state.refresher.rebuilds == 0


@pytest.mark.process
async def test_feeds_latest_and_start_show_the_sources_and_freshness(
    telegram: FakeTelegram, tmp_path: Path, wire: Wire, news: Path
) -> None:
    async with refreshing_bot(telegram, tmp_path, [wire.url, str(news)]) as bot:
        refresher = bot.state.refresher
        assert refresher is not None
        await until(lambda: refresher.files_checked is not None, what="a first check")
        feeds = (await ask(telegram, ADMIN, "/feeds")).text or ""
        lines = feeds.splitlines()
        assert lines[0] == "📡 2 sources, checked every 0.3 s"
        assert lines[2] == f"📡 {wire.url}"
        assert lines[3].startswith("  last success ") and lines[3].endswith(" UTC")
        assert lines[4:6] == ["  1 article indexed", lines[5]]
        assert lines[5].startswith("  next check ")
        assert lines[7] == f"📁 {news}"
        assert lines[9] == "  2 articles indexed"
        assert (await ask(telegram, USER, "/feeds")).text == FEEDS_REFUSED

        newest = (await ask(telegram, USER, "/latest")).text or ""
        assert newest.splitlines() == [
            "🗞 Newest headlines",
            "• Bridge closes for repairs · 11 Feb 2026",
            "• Council passes the budget · 10 Feb 2026",
            "• Harbour reopens · Wire · 9 Feb 2026",
        ]
        on_topic = (await ask(telegram, USER, "/latest council budget")).text or ""
        assert on_topic.splitlines() == [
            "🗞 Newest on council budget",
            "• Council passes the budget · 10 Feb 2026",
        ]

        start = (await ask(telegram, USER, "/start")).text or ""
        freshness = next(line for line in start.splitlines() if line.startswith("🕒"))
        assert freshness.startswith("🕒 Newest article: 11 Feb 2026. Last refresh: ")
        assert freshness.endswith(" UTC.")
        sources = (await ask(telegram, USER, "/sources")).text or ""
        assert sources.splitlines()[1] == freshness
