"""/latest [topic]: the newest headlines, on a topic when one is named."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot import render, texts
from bot.context import NewsContext
from index.latest import latest


async def latest_command(update: Update, context: NewsContext) -> None:
    """List the newest headlines (matching the topic, if given), at the user's pace."""
    message = update.effective_message
    chat, user = update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    state = context.state
    verdict = await state.flood.admit(user.id if user else chat.id)
    if verdict == "drop":
        return
    async with state.chats.turn(chat.id):
        if verdict == "warn":
            await message.reply_text(texts.SLOW_DOWN)
            return
        index = state.newsroom.index
        if index is None:
            await message.reply_text(texts.NO_INDEX)
            return
        topic = " ".join(context.args or []).strip()
        articles = await asyncio.to_thread(latest, index, topic)
        await message.reply_text(render.latest_html(topic, articles))
