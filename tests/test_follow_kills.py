"""kill -9 of the bot during updates with followers (`bench.follow_kills`); /reindex of feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bench import follow_kills
from index.store.build import build_index
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, bot_settings, running_bot
from tests.test_refresh import Wire

DAY = "Wed, 11 Feb 2026 09:30:00 GMT"


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    """A loopback RSS feed, served in the test's loop."""
    feed = Wire()
    app = web.Application()
    app.router.add_get("/wire.xml", feed.feed)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    feed.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield feed
    finally:
        await runner.cleanup()


@pytest.mark.process
async def test_reindex_without_a_scheduled_refresh_fetches_the_feeds_again(
    telegram: FakeTelegram, tmp_path: Path, wire: Wire
) -> None:
    # The bug: with NEWSBOT_REFRESH=off the build child read the feeds from the spool
    # (--spooled), which only the refresher's poller fills: /reindex never saw a new item.
    wire.publish("Council passes the budget", "The council passed the library budget.", DAY)
    index_dir = tmp_path / "index"
    await asyncio.to_thread(build_index, [wire.url], index_dir)
    settings = bot_settings(telegram, index_dir, [wire.url])
    assert settings.refresh is None
    async with running_bot(telegram, settings):
        wire.publish("Harbour reopens", "The harbour of Dar es Salaam reopened.", DAY)
        await telegram.send_text(ADMIN, "/reindex")
        (ack,) = await telegram.wait_for_messages(ADMIN, 1, timeout=10)
        await telegram.wait_until(lambda: (ack.text or "").startswith("✅"), 60, "the report")
        assert ack.text is not None
        assert ack.text.startswith("✅ Index rebuilt: 2 articles"), ack.text


@pytest.mark.process
@pytest.mark.slow
def test_three_kills_while_alerts_are_in_flight_lose_nothing(tmp_path: Path) -> None:
    args = follow_kills.parse_args(["--kills", "3", "--kill-at", "sending", "--seed", "3"])
    run = follow_kills.run_kills(args, tmp_path)
    print(follow_kills.report(args, run))
    assert len(run.kills) == 3
    assert all(kill.pending for kill in run.kills)  # each kill hit alerts in flight
    assert run.lost_questions == []
    assert run.lost() == []
    assert run.unexplained() == []
    assert len(run.expected()) == 4 * 7  # the calibration round and three killed rounds
