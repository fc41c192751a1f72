"""`newsbot run` as a real process: settings errors, then a full polling session, then SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT, SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegramThread
from tests.harness import ADMIN, USER


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "TELEGRAM_BOT_TOKEN is not set"),
        ("12345:short", "TELEGRAM_BOT_TOKEN does not look like a bot token"),
    ],
)
def test_run_without_a_usable_token_is_one_line_and_exit_2(
    token: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.chdir(ROOT.parent)  # no .env file here
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.process
@pytest.mark.slow
def test_run_polls_answers_and_stops_on_sigint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    with FakeTelegramThread() as fake:
        fake.server.add_chat(ADMIN)
        env |= {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "NEWSBOT_API_URL": fake.base_url,
            "NEWSBOT_ADMIN_IDS": str(ADMIN),
            "NEWSBOT_SOURCES": str(SEEDS),
            "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            fake.run(fake.server.send_text(USER, SEED_QUESTION))
            (reply,) = fake.run(fake.server.wait_for_messages(USER, 1, timeout=60), timeout=90)
            assert "228.1" in (reply.text or "")
            menus = {scope for scope, _ in fake.server.commands}
            assert any(str(ADMIN) in scope for scope in menus)
        finally:
            bot.send_signal(signal.SIGINT)
            out, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    assert "(articles: 1, sentences: " in err
    assert fake.token not in out + err
    assert fake.token.split(":")[1] not in out + err
