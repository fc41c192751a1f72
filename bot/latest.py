"""/latest [topic]: the newest headlines, on a topic when one is named."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update

from bot import render
from bot.context import NewsContext
from bot.questions import answering_turn
from bot.stories import fold_articles
from index.answers.latest import LATEST_LIMIT, latest


async def latest_command(update: Update, context: NewsContext) -> None:
    """List the newest headlines (matching the topic, if given), at the user's pace."""
    async with answering_turn(update, context) as message:
        index = context.state.newsroom.index
        if message is None or index is None:
            return
        topic = " ".join(context.args or []).strip()
        now = datetime.now(context.state.newsroom.timezone)
        # Stories, not copies: more articles are read, each story's first kept.
        articles = await asyncio.to_thread(latest, index, topic, 3 * LATEST_LIMIT, now=now)
        stories = fold_articles(context.state, articles)[:LATEST_LIMIT]
        await message.reply_text(render.latest_html(topic, stories))
