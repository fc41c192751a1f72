"""A bot killed with SIGKILL loses no standing question and no alert (`bot.subscriptions`)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fake_telegram import FakeTelegramThread
from tests.harness import ADMIN, USER

FERRY = "Why did the Zanzibar ferry operators strike?"
STORIES = {
    "ferry.md": (
        "Ferry strike in Zanzibar",
        "Zanzibar ferry operators went on strike over the rising price of fuel, and passengers "
        "waited at the port of Stone Town for hours.",
    ),
    "ferry-talks.md": (
        "Talks fail in Zanzibar",
        "The Zanzibar ferry operators' strike went on after talks on fuel prices with the "
        "ministry failed on Thursday night.",
    ),
}


def write(folder: Path, name: str, title: str, text: str) -> None:
    (folder / name).write_text(f"---\ntitle: {title}\ndate: 2026-02-11\n---\n{text}\n")


def pending_alerts(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM alerts WHERE state = 'pending'").fetchone()
    return int(count)


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.process
@pytest.mark.slow
def test_alerts_in_flight_or_never_matched_at_a_kill_9_arrive_after_a_restart(
    tmp_path: Path,
) -> None:
    news, state = tmp_path / "news", tmp_path / "state.sqlite3"
    news.mkdir()
    write(news, "council.md", "Council passes the budget", "The council passed the budget.")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "NEWSBOT_ADMIN_IDS": str(ADMIN),
        "NEWSBOT_SOURCES": str(news),
        "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
        "NEWSBOT_STATE_DB": str(state),
        "NEWSBOT_REFRESH": "off",
    }
    with FakeTelegramThread() as fake:
        telegram = fake.server
        telegram.add_chat(ADMIN)
        env |= {"TELEGRAM_BOT_TOKEN": fake.token, "NEWSBOT_API_URL": fake.base_url}

        def start() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )

        def alerts() -> list[str]:
            return [
                m.text or ""
                for m in telegram.chats[USER].bot_messages
                if (m.text or "").startswith("🔔 New on")
            ]

        bot = start()
        try:
            fake.run(telegram.send_text(USER, f"/follow {FERRY}"))
            fake.run(telegram.wait_for_messages(USER, 1, timeout=90), timeout=100)
            # 1. The alert is in flight (Telegram answers 502) when the bot is killed.
            write(news, "ferry.md", *STORIES["ferry.md"])
            fake.run(telegram.send_text(ADMIN, "/reindex"))
            fake.run(telegram.wait_for_messages(ADMIN, 1, timeout=30), timeout=40)
            telegram.fail("sendMessage", status=502, seconds=600)
            wait_for(lambda: pending_alerts(state) == 1, 90, "a pending alert")
            os.kill(bot.pid, signal.SIGKILL)
            bot.wait(timeout=10)
            telegram.clear_faults()
            assert alerts() == []
            # 2. A generation written while the bot is down was never matched.
            write(news, "ferry-talks.md", *STORIES["ferry-talks.md"])
            subprocess.run(
                [sys.executable, "-m", "bot.cli", "index", "--json", "--", str(news)],
                env=env,
                cwd=tmp_path,
                check=True,
                capture_output=True,
                timeout=120,
            )
            bot = start()
            wait_for(lambda: len(alerts()) >= 2, 90, "two alerts")
            time.sleep(1.0)  # time for a duplicate, were one sent
        finally:
            bot.kill()
            bot.wait(timeout=10)
    sent = alerts()
    assert len(sent) == 2
    assert "went on strike over the rising price of fuel" in sent[0]
    assert "talks on fuel prices with the ministry failed" in sent[1]
    assert pending_alerts(state) == 0
