"""/feeds: each source's health for the admins (last success, last error, articles, next check)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden

from bot import render, texts
from bot.context import NewsContext
from bot.feedadmin import count_articles, removal_keyboard
from bot.refresh import AdminEvent, Notify
from bot.reindex import admin_request
from index.sources.feedschedule import FeedEvent

log = logging.getLogger(__name__)

RETIRED_SHOWN = 20  # no-longer-configured sources listed (each with its button)


async def feeds_command(update: Update, context: NewsContext) -> None:
    """Show an admin every source's health, a message per page; refuse others like /reindex."""
    message = await admin_request(update, context, "/feeds", texts.FEEDS_REFUSED)
    if message is None:
        return
    state = context.state
    refresher = state.refresher
    if refresher is None:
        await message.reply_text(texts.FEEDS_OFF)
    else:
        counts = await asyncio.to_thread(count_articles, state, state.newsroom.sources)
        pages = render.feeds_pages(refresher.statuses(), counts, refresher.policy.refresh)
        for page in pages:
            await message.reply_text(page)
    retired = state.ledger.retired[:RETIRED_SHOWN]
    if retired:
        counts = await asyncio.to_thread(count_articles, state, retired)
        text = render.retired_html(retired, counts)
        await message.reply_text(text, reply_markup=removal_keyboard(retired))


def admin_notifier(bot: Bot, admins: frozenset[int]) -> Notify:
    """Return what the refresher calls with a feed's event or a failed update.

    A message to every admin, in their private chat: it names the source as configured.
    """

    async def notify(event: AdminEvent) -> None:
        if isinstance(event, FeedEvent):
            text = render.feed_event_html(event)
        else:
            text = render.update_failed_html(event.result)
        for admin in sorted(admins):
            try:
                await bot.send_message(admin, text)
            except (BadRequest, Forbidden) as exc:  # the admin never opened a chat, or left it
                log.warning("could not tell admin %s about %s: %s", admin, event, exc)

    return notify
