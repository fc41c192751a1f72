"""Run the real bot Application against the fake Bot API, as `newsbot run` would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import Application

from bot.app import build_application
from bot.settings import Settings
from bot.state import BotState
from tests.fake_telegram import FakeTelegram

ADMIN = 1001
USER = 2002


@dataclass
class RunningBot:
    """A started Application and the fake Telegram it talks to."""

    app: Application  # type: ignore[type-arg]
    telegram: FakeTelegram

    @property
    def state(self) -> BotState:
        state: BotState = self.app.bot_data["state"]
        return state


def bot_settings(
    telegram: FakeTelegram,
    index_dir: Path,
    sources: Sequence[str | Path],
    admins: frozenset[int] = frozenset({ADMIN}),
) -> Settings:
    """Settings as the environment would give them, pointing at the fake server."""
    return Settings(
        token=telegram.token,
        api_url=telegram.base_url,
        admin_ids=admins,
        sources=tuple(str(s) for s in sources),
        index_dir=index_dir,
        state_db=index_dir.parent / "state.sqlite3",
    )


@asynccontextmanager
async def running_bot(telegram: FakeTelegram, settings: Settings) -> AsyncIterator[RunningBot]:
    """Initialize, post-init (index, menus), poll and start the bot; stop it afterwards."""
    for admin in settings.admin_ids:
        telegram.add_chat(admin)  # admins have opened a chat with the bot
    app = build_application(settings)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield RunningBot(app, telegram)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
