"""/start and /help: what the bot does, with an example, the newest headlines and freshness."""

from __future__ import annotations

from telegram import Update

from bot import render
from bot.context import NewsContext


async def start_command(update: Update, context: NewsContext) -> None:
    """Greet the user with an example question and the newest headlines in the index."""
    message = update.effective_message
    if message is None:
        return
    index = context.state.newsroom.index
    user = update.effective_user
    n_articles, headlines, freshness = 0, [], ""
    if index is not None:
        n_articles = index.n_articles
        newest = index.articles_newest_first(0, 3)
        headlines = [a.title for a in newest if a.title]
        newest_date = newest[0].date if newest else None
        freshness = render.freshness_html(newest_date, context.state.newsroom.refreshed_at)
    first_name = user.first_name if user else None
    await message.reply_text(render.start_html(first_name, n_articles, headlines, freshness))


async def help_command(update: Update, context: NewsContext) -> None:
    """Say what the bot does and list its commands."""
    if update.effective_message is None:
        return
    await update.effective_message.reply_text(render.help_html(context.bot.username or "bot"))
