"""Admin commands: refused to others (#9.7), private, queued behind an update, time-limited (#18).

Non-admins are told and logged at most once a minute per user.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from bot import render
from bot.settings import Settings, SettingsError
from bot.state import Cooldown
from bot.texts import ADMIN_PRIVATE_ONLY, REINDEX_QUEUED, REINDEX_REFUSED
from tests.conftest import SEEDS
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, USER, RunningBot, bot_settings, running_bot

OTHER = 2345


def test_cooldown_allows_one_event_a_minute_per_user() -> None:
    now = [100.0]
    cooldown = Cooldown(60.0, clock=lambda: now[0])
    assert [cooldown.ready(USER) for _ in range(3)] == [True, False, False]
    assert cooldown.ready(OTHER) is True  # others have their own minute
    now[0] += 59.9
    assert cooldown.ready(USER) is False
    now[0] += 0.1
    assert cooldown.ready(USER) is True
    assert cooldown.ready(USER) is False


@pytest.mark.process
async def test_a_non_admin_repeating_reindex_is_answered_and_logged_once_a_minute(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    bot.state.refusals = Cooldown(60.0, clock=lambda: now[0])

    def refusals(chat: int) -> int:
        return [m.text for m in telegram.chats[chat].bot_messages].count(REINDEX_REFUSED)

    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            await telegram.send_text(USER, "/reindex")
        await telegram.send_text(OTHER, "/reindex")
        await telegram.wait_for_messages(OTHER, 1)
        await asyncio.sleep(0.5)  # time for any further refusal to show
        assert (refusals(USER), refusals(OTHER)) == (1, 1)
        now[0] += 60.0  # a minute later: told (and logged) once more
        for _ in range(3):
            await telegram.send_text(USER, "/reindex")
        await telegram.wait_for_messages(USER, 2)
        await asyncio.sleep(0.5)
    assert refusals(USER) == 2
    logged = [r.getMessage() for r in caplog.records if "refused /reindex" in r.getMessage()]
    assert logged == [
        f"refused /reindex from user {USER} in chat {USER}",
        f"refused /reindex from user {OTHER} in chat {OTHER}",
        f"refused /reindex from user {USER} in chat {USER}",
    ]
    assert bot.state.newsroom.rebuilding is False


# -- admin commands are private; a /reindex during an update is queued; builds have a limit ----

GROUP = -5005
SLOW_FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Slow wire</title>'
    "<item><title>Harbour reopens</title><guid>slow-1</guid>"
    "<description>The harbour of Dar es Salaam reopened after the storm.</description>"
    "</item></channel></rss>"
)


@dataclass
class SlowFeed:
    """A loopback feed that answers after `delay` seconds: a build reading it runs that long."""

    delay: float
    url: str = ""

    async def feed(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return web.Response(text=SLOW_FEED, content_type="application/rss+xml")


@asynccontextmanager
async def slow_feed(delay: float) -> AsyncIterator[SlowFeed]:
    feed = SlowFeed(delay)
    app = web.Application()
    app.router.add_get("/slow.xml", feed.feed)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    feed.url = f"http://127.0.0.1:{runner.addresses[0][1]}/slow.xml?api_key=secret"
    try:
        yield feed
    finally:
        await runner.cleanup()


@pytest.mark.process
async def test_admin_commands_in_a_group_ask_for_a_private_chat_and_reveal_nothing(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    for command in ("/reindex", "/feeds"):
        await telegram.send_text(GROUP, command, user_id=ADMIN)
        reply = await telegram.next_message(GROUP, timeout=10)
        assert reply.text == ADMIN_PRIVATE_ONLY
    await asyncio.sleep(0.3)
    assert len(telegram.chats[GROUP].bot_messages) == 2
    assert bot.state.newsroom.rebuilding is False  # nothing started either


@pytest.mark.process
async def test_a_reindex_during_an_update_is_queued_and_runs_right_after_it(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with slow_feed(3.0) as feed:
        settings = bot_settings(telegram, seed_index, [SEEDS, feed.url])
        async with running_bot(telegram, settings) as bot:
            newsroom = bot.state.newsroom
            update = newsroom.start_rebuild(full=False)  # what the scheduled refresh starts
            await telegram.send_text(ADMIN, "/reindex")
            ack = await telegram.next_message(ADMIN, timeout=10)
            assert ack.text == REINDEX_QUEUED
            assert not update.done()
            assert (await update).ok
            await telegram.wait_until(
                lambda: (ack.text or "").startswith("✅ Index rebuilt:"), timeout=60
            )
            assert "(full rebuild)" in (ack.text or "")
            assert newsroom.index is not None and newsroom.index.n_articles == 2


@pytest.mark.process
async def test_a_build_past_its_limit_is_killed_with_its_group_and_reported(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with slow_feed(60.0) as feed:
        settings = replace(bot_settings(telegram, seed_index, [SEEDS, feed.url]), build_timeout=1.5)
        async with running_bot(telegram, settings) as bot:
            newsroom = bot.state.newsroom
            serving = newsroom.generation
            started = time.monotonic()
            await telegram.send_text(ADMIN, "/reindex")
            ack = await telegram.next_message(ADMIN, timeout=10)
            process = newsroom.build_process
            assert process is not None
            await telegram.wait_until(lambda: "failed" in (ack.text or ""), timeout=30)
            seconds = time.monotonic() - started
            assert seconds < 15
            print(f"/reindex with a 1.5 s limit -> killed and reported after {seconds:.1f} s")
            assert (ack.text or "").splitlines() == [
                "❌ Rebuild failed: the build ran past its limit of 1.5 s and was stopped",
                "Still serving the previous index (1 article).",
            ]
            with pytest.raises(ProcessLookupError):
                os.killpg(process.pid, 0)  # no process of its group is left
            assert newsroom.generation == serving


@pytest.mark.parametrize(("raw", "seconds"), [("", 7200.0), ("90m", 5400.0), ("600", 600.0)])
def test_newsbot_build_timeout_is_a_duration(raw: str, seconds: float) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "NEWSBOT_BUILD_TIMEOUT": raw}
    assert Settings.from_env(env).build_timeout == seconds


def test_a_short_or_malformed_build_timeout_is_one_line() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "NEWSBOT_BUILD_TIMEOUT": "30"}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == (
        "NEWSBOT_BUILD_TIMEOUT must be a duration of at least 60 s (7200, 90m or 2h), got '30'"
    )


@pytest.mark.process
async def test_an_update_that_changes_nothing_keeps_the_serving_index_and_says_so(
    bot: RunningBot,
) -> None:
    newsroom = bot.state.newsroom
    serving, generation = newsroom.index, newsroom.generation
    result = await newsroom.rebuild(full=False)
    assert (result.ok, result.committed) == (True, False)
    assert newsroom.index is serving  # not loaded again: its buttons stay valid
    assert newsroom.generation == generation
    assert render.rebuild_html(result, "") == (
        "✅ Up to date: nothing changed (1 article); the index is as it was"
    )
