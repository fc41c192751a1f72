"""The context every handler receives: python-telegram-bot's, with the bot's state typed."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.state import BotState


class NewsContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """`CallbackContext` with `state`, the `BotState` that `build_application` puts in bot_data."""

    @property
    def state(self) -> BotState:
        """The state every handler shares."""
        state = self.bot_data["state"]
        if not isinstance(state, BotState):
            raise TypeError("bot_data['state'] is not the bot's state")
        return state


CONTEXT_TYPES = ContextTypes(context=NewsContext)
