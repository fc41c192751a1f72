"""/feeds: each source's health for the admins (last success, last error, articles, next check)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden

from bot import render, texts
from bot.context import NewsContext
from bot.refresh import AdminEvent, Notify
from bot.reindex import admin_request
from bot.state import BotState
from index.feedpoll import FeedEvent
from index.watch import articles_per_source

log = logging.getLogger(__name__)


async def feeds_command(update: Update, context: NewsContext) -> None:
    """Show an admin every source's health, a message per page; refuse others like /reindex."""
    message = await admin_request(update, context, "/feeds", texts.FEEDS_REFUSED)
    if message is None:
        return
    state = context.state
    refresher = state.refresher
    if refresher is None:
        await message.reply_text(texts.FEEDS_OFF)
        return
    counts = await asyncio.to_thread(_articles_per_source, state)
    pages = render.feeds_pages(refresher.statuses(), counts, refresher.policy.refresh)
    for page in pages:
        await message.reply_text(page)


def _articles_per_source(state: BotState) -> list[int]:
    """Count the serving index's articles by the source they came from."""
    index = state.newsroom.index
    sources = state.newsroom.sources
    if index is None:
        return [0] * len(sources)
    paths = (article.path for article in index.articles_newest_first(0, index.n_articles))
    return articles_per_source(paths, sources)


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
