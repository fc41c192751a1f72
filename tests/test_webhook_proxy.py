"""`newsbot run --webhook` behind a TLS reverse proxy, with a path in the public URL.

Regression for issue 20 ("A deployment recipe"): with NEWSBOT_WEBHOOK_URL
https://bot.example.org/tg every update was answered 404, because the bot served only "/" (the
URL's path was not passed on as `run_webhook`'s `url_path`). The fake Bot API delivers each update
as the proxy forwards it: to the URL's path on the bot's loopback port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegramThread
from tests.harness import USER

pytestmark = pytest.mark.process

PUBLIC_URL = "https://bot.example.org/tg"
SECRET = "s3cret-Token_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def public_url() -> str:
    return PUBLIC_URL


@pytest.fixture
def behind_proxy(
    seed_index: Path, tmp_path: Path, public_url: str
) -> Iterator[tuple[FakeTelegramThread, subprocess.Popen[str], int]]:
    """The bot in webhook mode on a loopback port, the fake proxying the public URL to it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    with FakeTelegramThread() as fake:
        fake.server.proxy_webhooks(f"http://127.0.0.1:{port}")
        env |= {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "NEWSBOT_API_URL": fake.base_url,
            "NEWSBOT_SOURCES": str(SEEDS),
            "NEWSBOT_INDEX_DIR": str(seed_index),
            "NEWSBOT_REFRESH": "off",
            "NEWSBOT_WEBHOOK_URL": public_url,
            "NEWSBOT_WEBHOOK_SECRET": SECRET,
            "NEWSBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "NEWSBOT_WEBHOOK_PORT": str(port),
            "NEWSBOT_HEARTBEAT": str(tmp_path / "heartbeat"),
        }
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--webhook"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield fake, bot, port
        finally:
            bot.send_signal(signal.SIGINT)
            bot.communicate(timeout=60)


def test_updates_for_a_url_with_a_path_are_answered_and_need_the_secret(
    behind_proxy: tuple[FakeTelegramThread, subprocess.Popen[str], int],
) -> None:
    fake, bot, port = behind_proxy
    update_id = fake.run(fake.server.send_text(USER, SEED_QUESTION))
    try:
        (reply,) = fake.run(fake.server.wait_for_messages(USER, 1, timeout=60), timeout=90)
    except AssertionError:  # no reply in time
        pytest.fail(f"no reply; the webhook said: {fake.server.webhook.get('last_error_message')}")
    assert "228.1" in (reply.text or "")
    assert fake.server.webhook["url"] == PUBLIC_URL  # what Telegram was told: the public URL
    assert fake.server.pending == []
    # What the proxy forwards without Telegram's secret header is refused.
    upstream = f"http://127.0.0.1:{port}/tg"
    assert fake.run(fake.server.post_update(upstream, update_id)) == 403
    assert fake.run(fake.server.post_update(upstream, update_id, secret_token="wrong")) == 403
    assert bot.poll() is None


@pytest.mark.parametrize("public_url", ["https://bot.example.org/news+bot/hook.v1"])
def test_a_path_with_regex_characters_is_served_as_written(
    behind_proxy: tuple[FakeTelegramThread, subprocess.Popen[str], int], public_url: str
) -> None:
    fake, _, port = behind_proxy
    fake.run(fake.server.send_text(USER, SEED_QUESTION))
    (reply,) = fake.run(fake.server.wait_for_messages(USER, 1, timeout=60), timeout=90)
    assert "228.1" in (reply.text or "")
    # "+" and "." are themselves, not a repetition and any character.
    near_miss = f"http://127.0.0.1:{port}/newssbot/hookXv1"
    update = {"update_id": 99, "message": fake.server.updates[1]["message"]}
    assert fake.run(fake.server.post_update(near_miss, update, secret_token=SECRET)) == 404


def test_a_webhook_bot_touches_the_heartbeat_when_telegram_answers(
    behind_proxy: tuple[FakeTelegramThread, subprocess.Popen[str], int], tmp_path: Path
) -> None:
    fake, bot, _ = behind_proxy
    beat = tmp_path / "heartbeat"
    deadline = time.monotonic() + 60
    while not beat.exists():
        assert bot.poll() is None and time.monotonic() < deadline, "no heartbeat"
        time.sleep(0.1)
    assert any(call.method == "getWebhookInfo" for call in fake.server.calls)
