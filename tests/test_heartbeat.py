"""The heartbeat file a health check reads: where it is, what touches it, what reads it.

The bot touches it after each successful poll of Telegram and each scheduled refresh
(`bot.heartbeat`); `python -m bot.heartbeat` (the Containerfile's HEALTHCHECK) says whether it is
fresh. The webhook's beat is tested in tests/test_webhook_proxy.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.heartbeat import MAX_AGE
from bot.newsroom import Newsroom
from bot.refresh import Refresher
from bot.settings import Settings
from index.sources.feedschedule import FeedEvent, RefreshPolicy
from tests.conftest import ROOT, SEEDS
from tests.fake_telegram import FakeTelegram
from tests.harness import bot_settings, running_bot

TOKEN = "123456:" + "A" * 35
FAST = RefreshPolicy(refresh=0.2, floor=0.1, max_wait=1.0, alert_after=1.0, jitter=0.0)


def test_the_heartbeat_defaults_to_the_data_folder_beside_the_index(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_INDEX_DIR": str(tmp_path / "data" / "index")}
    assert Settings.from_env(env).heartbeat == tmp_path / "data" / "heartbeat"
    flagged = Settings.from_env(env, index_dir=str(tmp_path / "other" / "index"))
    assert flagged.heartbeat == tmp_path / "other" / "heartbeat"
    chosen = env | {"NEWSBOT_HEARTBEAT": str(tmp_path / "run" / "beat")}
    assert Settings.from_env(chosen).heartbeat == tmp_path / "run" / "beat"


async def wait_until_fresh(path: Path, since: float, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_mtime > since):
        assert time.monotonic() < deadline, f"{path} was not touched in {timeout} s"
        await asyncio.sleep(0.05)


async def test_each_poll_of_telegram_touches_the_heartbeat(
    telegram: FakeTelegram, seed_index: Path, tmp_path: Path
) -> None:
    beat = tmp_path / "data" / "heartbeat"
    settings = replace(bot_settings(telegram, seed_index, [SEEDS]), heartbeat=beat)
    async with running_bot(telegram, settings):
        await wait_until_fresh(beat, 0)
        long_ago = time.time() - 3600
        os.utime(beat, (long_ago, long_ago))
        await wait_until_fresh(beat, long_ago + 1)  # the next getUpdates answered
        assert any(call.method == "getUpdates" for call in telegram.calls)


async def test_each_scheduled_refresh_touches_the_heartbeat(seed_index: Path) -> None:
    beats: list[float] = []

    async def notify(event: FeedEvent) -> None:
        pass

    newsroom = Newsroom([str(SEEDS)], seed_index)
    await newsroom.open()
    refresher = Refresher(newsroom, FAST, notify, on_checked=lambda: beats.append(time.time()))
    refresher.start()
    try:
        deadline = time.monotonic() + 10
        while len(beats) < 2:
            assert time.monotonic() < deadline, f"{len(beats)} beats in 10 s"
            await asyncio.sleep(0.05)
    finally:
        await refresher.stop()
        await newsroom.stop_rebuild()


def health_check(beat: Path) -> subprocess.CompletedProcess[str]:
    """Run the Containerfile's HEALTHCHECK command against `beat`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.heartbeat"],
        env=env | {"NEWSBOT_HEARTBEAT": str(beat)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.process
def test_the_health_check_reads_the_heartbeat_age(tmp_path: Path) -> None:
    beat = tmp_path / "heartbeat"
    missing = health_check(beat)
    assert (missing.returncode, missing.stdout.split(" (")[0]) == (
        1,
        f"unhealthy: no heartbeat at {beat}",
    )
    beat.touch()
    fresh = health_check(beat)
    assert fresh.returncode == 0, fresh.stdout
    stale = time.time() - MAX_AGE - 60
    os.utime(beat, (stale, stale))
    old = health_check(beat)
    assert old.returncode == 1
    assert old.stdout.startswith(f"unhealthy: the heartbeat {beat} is ")
