"""/reindex: admins (by numeric user id) rebuild the index while the bot keeps answering.

Admin commands are answered in the admin's private chat only: what they show (feed URLs with
their query strings, server paths, build errors) is not for a group's members.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot import render, texts
from bot.context import NewsContext
from bot.newsroom import BuildJob, RebuildResult
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
    """Return the message of an admin's new command in a private chat, or None.

    A non-admin is refused; an admin in a group is asked to write privately, and shown nothing.
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
    if chat is None or chat.type != ChatType.PRIVATE:
        await message.reply_text(texts.ADMIN_PRIVATE_ONLY)
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
    rebuild, taken = newsroom.request(BuildJob(full=True))
    log.info("user %s asked for a rebuild (%s)", user.id if user else "unknown", taken)
    sources = counted(len(newsroom.sources), "source")
    text = {
        "now": render.fill(texts.REINDEX_STARTED, sources=sources),
        "joined": render.plain(texts.REINDEX_RUNNING),
        "queued": render.plain(texts.REINDEX_QUEUED),
    }[taken]
    ack = await message.reply_text(text)
    context.application.create_task(report_rebuild(state, rebuild, ack), update=update)


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


async def report_rebuild(
    state: BotState, rebuild: asyncio.Future[RebuildResult], ack: Message
) -> None:
    """Wait for the rebuild and edit the acknowledgement (in an admin's chat) into its summary."""
    try:
        result = await rebuild
    except asyncio.CancelledError:  # the bot is stopping: the build was not run
        return
    index = state.newsroom.index
    still = counted(index.n_articles, "article") if index else texts.STILL_SERVING_NOTHING
    await ack.edit_text(render.rebuild_html(result, still))
