"""/latest [topic]: the newest headlines, on a topic when one is named."""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update

from bot import render
from bot.context import NewsContext
from bot.questions import answering_turn
from index.latest import latest


async def latest_command(update: Update, context: NewsContext) -> None:
    """List the newest headlines (matching the topic, if given), at the user's pace."""
    async with answering_turn(update, context) as message:
        index = context.state.newsroom.index
        if message is None or index is None:
            return
        topic = " ".join(context.args or []).strip()
        now = datetime.now(context.state.newsroom.timezone)
        articles = await asyncio.to_thread(latest, index, topic, now=now)
        await message.reply_text(render.latest_html(topic, articles))
