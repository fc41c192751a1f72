"""The heartbeat file: touched while the bot is in touch with Telegram, read by health checks.

The bot touches the file (`NEWSBOT_HEARTBEAT`, default `heartbeat` beside the index folder, in
the data folder) after each successful poll of Telegram (every getUpdates answered; in webhook
mode, a getWebhookInfo every `WEBHOOK_CHECK_EVERY` seconds) and after each scheduled refresh of
the sources. A supervisor reads its age: `python -m bot.heartbeat` exits 0 when it was touched
within `MAX_AGE` seconds, 1 otherwise, with one line (the Containerfile's HEALTHCHECK).

A long poll returns at least every 10 seconds (python-telegram-bot's `run_polling` timeout), so
a file older than `MAX_AGE` means the bot has not reached Telegram for minutes: stuck, or cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from telegram import Bot
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TelegramError
from telegram.request import HTTPXRequest, RequestData

from index.config import default_index_dir

log = logging.getLogger(__name__)

HEARTBEAT_ENV = "NEWSBOT_HEARTBEAT"
HEARTBEAT_NAME = "heartbeat"  # beside the index folder, in the data folder
MAX_AGE = 300.0  # seconds without a beat before the bot counts as unhealthy
WEBHOOK_CHECK_EVERY = 60.0  # seconds between getWebhookInfo calls in webhook mode


def heartbeat_path(env: Mapping[str, str] | None = None, index_dir: Path | None = None) -> Path:
    """Return `$NEWSBOT_HEARTBEAT`, else `heartbeat` in the index folder's parent.

    Args:
        env: The environment to read; `os.environ` when None.
        index_dir: The index folder in use (a flag may have named it); else the default one.
    """
    env = os.environ if env is None else env
    raw = env.get(HEARTBEAT_ENV, "").strip()
    if raw:
        return Path(raw).expanduser()
    return (index_dir or default_index_dir(env)).parent / HEARTBEAT_NAME


class Heartbeat:
    """Touches one file; a failure to write is logged once, never raised (the bot goes on)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def beat(self) -> None:
        """Set the file's modification time to now, creating it (and its folder) if needed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError as exc:
            if not self._warned:
                log.warning("cannot touch the heartbeat file %s: %s", self.path, exc.strerror)
                self._warned = True
        else:
            self._warned = False


class BeatingUpdatesRequest(HTTPXRequest):
    """The getUpdates connection: each answer with status 200 is a successful poll, and beats."""

    def __init__(self, heartbeat: Heartbeat) -> None:
        super().__init__(connection_pool_size=1)  # what PTB gives getUpdates by default
        self.heartbeat = heartbeat

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request as `HTTPXRequest` does; beat when Telegram answered 200."""
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200:
            self.heartbeat.beat()
        return status, body


async def beat_while_webhook_set(bot: Bot, heartbeat: Heartbeat) -> None:
    """In webhook mode, ask Telegram for the webhook's state every minute; beat on an answer."""
    while True:
        with contextlib.suppress(TelegramError):
            await bot.get_webhook_info()
            heartbeat.beat()
        await asyncio.sleep(WEBHOOK_CHECK_EVERY)


def main() -> int:
    """Exit 0 when the heartbeat file is younger than `MAX_AGE`, else 1, with one line."""
    path = heartbeat_path()
    try:
        age = time.time() - path.stat().st_mtime
    except OSError as exc:
        print(f"unhealthy: no heartbeat at {path} ({exc.strerror})")
        return 1
    if age > MAX_AGE:
        print(f"unhealthy: the heartbeat {path} is {age:.0f} s old (limit {MAX_AGE:.0f} s)")
        return 1
    print(f"healthy: the heartbeat {path} is {age:.0f} s old")
    return 0


if __name__ == "__main__":
    sys.exit(main())
