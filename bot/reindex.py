"""/reindex: admins (by numeric user id) rebuild the index while the bot keeps answering."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update

from bot import render, texts
from bot.context import NewsContext
from bot.newsroom import RebuildResult, RebuildRunningError
from bot.state import BotState
from index.model import counted

log = logging.getLogger(__name__)


def is_admin(state: BotState, update: Update) -> bool:
    """Return whether the sender is an admin, by numeric user id (never by username)."""
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


async def admin_request(
    update: Update, context: NewsContext, command: str, refused: str
) -> Message | None:
    """Return the message of an admin's new command, or None (a non-admin is refused).

    An edit of an earlier command is not a new request: None, silently.
    """
    message = update.effective_message
    user, chat = update.effective_user, update.effective_chat
    if message is None:
        return None
    state = context.state
    if not is_admin(state, update):
        user_id, chat_id = (user.id if user else None), (chat.id if chat else None)
        await refuse(state, message, user_id, chat_id, command, refused)
        return None
    if update.edited_message is not None:
        return None
    return message


async def reindex_command(update: Update, context: NewsContext) -> None:
    """Rebuild the index for an admin, answering from the old one meanwhile."""
    message = await admin_request(update, context, "/reindex", texts.REINDEX_REFUSED)
    if message is None:
        return
    state = context.state
    user = update.effective_user
    newsroom = state.newsroom
    try:
        rebuild = newsroom.start_rebuild()
    except RebuildRunningError:
        await message.reply_text(texts.REINDEX_RUNNING)
        return
    log.info("user %s started a rebuild", user.id if user else "unknown")
    sources = counted(len(newsroom.sources), "source")
    ack = await message.reply_text(render.fill(texts.REINDEX_STARTED, sources=sources))
    context.application.create_task(_report_rebuild(state, rebuild, ack), update=update)


async def refuse(
    state: BotState,
    message: Message,
    user: int | None,
    chat: int | None,
    command: str = "/reindex",
    text: str = texts.REINDEX_REFUSED,
) -> None:
    """Tell a non-admin an admin command is not theirs, and log it: once a minute per user at most.

    The minute is shared by every admin command, so that trying them all gets one answer.
    """
    if not state.refusals.ready(user if user is not None else 0):
        return  # a refusal a minute is enough: more would let anyone make the bot talk and log
    log.warning(
        "refused %s from user %s in chat %s",
        command,
        user if user is not None else "unknown",
        chat if chat is not None else "unknown",
    )
    await message.reply_text(text)


async def _report_rebuild(
    state: BotState, rebuild: asyncio.Future[RebuildResult], ack: Message
) -> None:
    """Wait for the rebuild and edit the acknowledgement into its summary."""
    result = await rebuild
    index = state.newsroom.index
    still = counted(index.n_articles, "article") if index else texts.STILL_SERVING_NOTHING
    await ack.edit_text(render.rebuild_html(result, still))
