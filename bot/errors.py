"""What is not a question: failures in handlers, non-text messages, unknown commands."""

from __future__ import annotations

import logging

from telegram import Update

from bot import texts
from bot.context import NewsContext
from index.scale.sharded import UNAVAILABLE, ShardsUnavailable

log = logging.getLogger(__name__)


async def non_text(update: Update, context: NewsContext) -> None:
    """Tell the user, in one line, that only text questions are understood."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.NOT_TEXT)


async def unknown_command(update: Update, context: NewsContext) -> None:
    """Point to /help for commands the bot does not know."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def on_error(update: object, context: NewsContext) -> None:
    """Log the failure with its update, and apologise to the user."""
    summary = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error("update %s caused an error", str(summary)[:2000], exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        # A shard with no live replica (docs/scale.md): said as such, never a partial ranking.
        partial = isinstance(context.error, ShardsUnavailable)
        try:
            await update.effective_message.reply_text(UNAVAILABLE if partial else texts.SORRY)
        except Exception:  # the apology itself failed (network): logged above already
            log.warning("could not send the apology for update %s", update.update_id)
