"""`newsbot run` that cannot start: one line on stderr without the token, and an exit status.

Each test runs the real process against the fake Bot API (or no API at all). Regression for
issue 9 item 1: a revoked token let python-telegram-bot's `InvalidToken`, whose message holds the
token, escape as a traceback with exit status 1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.fake_telegram import FakeTelegramThread

pytestmark = pytest.mark.process

WEBHOOK = ["--webhook", "--url", "https://bot.example.org/hook", "--secret-token", "s3cret"]


@pytest.fixture
def fake() -> Iterator[FakeTelegramThread]:
    with FakeTelegramThread() as server:
        yield server


def newsbot_run(
    settings: Mapping[str, str], *flags: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run `newsbot run` with only `settings` of the newsbot variables; wait for it to exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", *flags],
        cwd=cwd,  # no .env file here
        env=env | dict(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_for(fake: FakeTelegramThread, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "NEWSBOT_API_URL": fake.base_url,
        "NEWSBOT_SOURCES": str(SEEDS),
        "NEWSBOT_INDEX_DIR": str(tmp_path / "index"),
    }


def assert_one_clean_line(result: subprocess.CompletedProcess[str], token: str) -> str:
    """The run printed one line on stderr, nothing on stdout, and no part of the token."""
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert token not in result.stderr
    assert token.split(":")[1] not in result.stderr
    return result.stderr.strip()


def test_a_revoked_token_is_one_line_and_exit_2(fake: FakeTelegramThread, tmp_path: Path) -> None:
    fake.server.reject_token()
    result = newsbot_run(settings_for(fake, tmp_path), cwd=tmp_path)
    line = assert_one_clean_line(result, fake.token)
    assert line == (
        f"newsbot: error: the Bot API at {fake.base_url} rejected TELEGRAM_BOT_TOKEN: it was "
        "revoked or mistyped; get the current token from @BotFather"
    )
    assert result.returncode == 2
    assert [(c.method, c.status) for c in fake.server.calls] == [("getMe", 401)]
    assert not (tmp_path / "index").exists()  # nothing was built for a bot that cannot run


def test_an_unreachable_api_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    token = "123456789:AAUnreachableApiTokenForTests0123456"
    settings = {"TELEGRAM_BOT_TOKEN": token, "NEWSBOT_API_URL": f"http://127.0.0.1:{port}/bot"}
    result = newsbot_run(settings, cwd=tmp_path)
    line = assert_one_clean_line(result, token)
    assert line == (
        f"newsbot: error: cannot reach the Bot API at http://127.0.0.1:{port}/bot "
        "(httpx.ConnectError: All connection attempts failed); check the network and "
        "NEWSBOT_API_URL, then try again"
    )
    assert result.returncode == 1


def test_a_webhook_port_in_use_is_one_line_and_exit_2_before_the_webhook_is_set(
    fake: FakeTelegramThread, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        flags = [*WEBHOOK, "--listen", "127.0.0.1", "--port", str(port)]
        result = newsbot_run(settings_for(fake, tmp_path), *flags, cwd=tmp_path)
    line = assert_one_clean_line(result, fake.token)
    assert line == (
        f"newsbot: error: cannot listen for the webhook on 127.0.0.1:{port} (Address already in "
        "use); choose another --port or NEWSBOT_WEBHOOK_PORT, or stop what holds it"
    )
    assert result.returncode == 2
    assert fake.server.calls == []  # no setWebhook pointing Telegram at a port we do not hold
