"""Questions: private messages, /ask, mentions and replies in groups, and inline queries.

Each question is paced per user (`FloodGuard`), then answered in its chat's turn (`ChatTurns`)
so that a chat's replies keep the order of its questions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from uuid import uuid4

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)

from bot import browsing, render, texts
from bot.context import NewsContext
from bot.state import AskedQuestion
from index.answers.excerpts import shorten
from index.answers.policy import MIN_COVERAGE, WEAK_COVERAGE
from index.model import Answer

INLINE_RESULTS = 5


async def private_question(update: Update, context: NewsContext) -> None:
    """Answer a text message in a private chat."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await answer(update, context, message.text)


async def ask_command(update: Update, context: NewsContext) -> None:
    """Answer `/ask <question>` (in groups, and anywhere else)."""
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await message.reply_text(render.plain(texts.ASK_USAGE))
        return
    await answer(update, context, text)


async def group_message(update: Update, context: NewsContext) -> None:
    """Answer group messages that mention the bot or reply to it; ignore other chatter."""
    message = update.effective_message
    if message is None or not message.text:
        return
    mention = f"@{context.bot.username}".casefold() if context.bot.username else None
    mentioned = mention is not None and any(
        text.casefold() == mention
        for text in message.parse_entities([MessageEntity.MENTION]).values()
    )
    replied = (
        message.reply_to_message is not None
        and message.reply_to_message.from_user is not None
        and message.reply_to_message.from_user.id == context.bot.id
    )
    if not (mentioned or replied):
        return
    text = message.text
    if mentioned and context.bot.username:
        text = _strip_mention(text, context.bot.username)
    if not text.strip():
        await message.reply_text(texts.MENTION_WITHOUT_QUESTION)
        return
    await answer(update, context, text)


def _strip_mention(text: str, username: str) -> str:
    """Remove @username (any case) from `text`."""
    lowered, target = text.casefold(), f"@{username}".casefold()
    while target in lowered:
        at = lowered.index(target)
        text = text[:at] + text[at + len(target) :]
        lowered = text.casefold()
    return " ".join(text.split())


@asynccontextmanager
async def answering_turn(update: Update, context: NewsContext) -> AsyncIterator[Message | None]:
    """Hold the chat's turn for a reply, at the sender's pace; yield the message to answer.

    Yields None, and the body must not answer, when the sender is over the pace (told once to
    slow down) or no index is loaded yet (told so).
    """
    message = update.effective_message
    chat, user = update.effective_chat, update.effective_user
    if message is None or chat is None:
        yield None
        return
    state = context.state
    verdict = await state.flood.admit(user.id if user else chat.id)
    if verdict == "drop":
        yield None
        return
    async with state.chats.turn(chat.id):
        if verdict == "warn":
            await message.reply_text(texts.SLOW_DOWN)
            yield None
        elif state.newsroom.index is None:
            await message.reply_text(texts.NO_INDEX)
            yield None
        else:
            yield message


async def answer(update: Update, context: NewsContext, text: str) -> None:
    """Reply to `text` with the first page of answers, at the user's pace, in the chat's turn."""
    async with answering_turn(update, context) as message:
        chat = update.effective_chat
        if message is None or chat is None:
            return
        state = context.state
        newsroom = state.newsroom
        found = await newsroom.ask(text, browsing.ANSWERS_PER_PAGE + 1)
        if found.answers or found.closest:
            # Refused for names no article mentions: the closest passages under the caveat,
            # paged as weak matches are (asked again below the floor, the caveat kept).
            floor = WEAK_COVERAGE if not found.answers else MIN_COVERAGE
            asked = AskedQuestion(text, chat.id, newsroom.generation, floor)
            qid = state.questions.add(asked)
            shown = found if found.answers else replace(found, answers=found.closest)
            body, markup = browsing.answers_page(state, qid, asked, shown, offset=0)
            await message.reply_text(body, reply_markup=markup)
            return
        markup = None
        if found.closest_exist:
            asked = AskedQuestion(text, chat.id, newsroom.generation, WEAK_COVERAGE)
            markup = browsing.closest_keyboard(state.questions.add(asked))
        await message.reply_text(render.nothing_found(found), reply_markup=markup)


async def inline_query(update: Update, context: NewsContext) -> None:
    """Offer the top answers as inline results in any chat, at the user's pace."""
    query = update.inline_query
    if query is None:
        return
    state = context.state
    verdict = await state.flood.admit(query.from_user.id)
    if verdict == "drop":
        return
    text = query.query.strip()
    answers: tuple[Answer, ...] = ()
    if text and verdict == "answer":
        answers = (await state.newsroom.ask(text, INLINE_RESULTS)).answers
    is_match = state.newsroom.matcher(text)
    results = []
    for answer in answers:
        body, _ = render.answers_html(text, [answer], is_match)
        results.append(
            InlineQueryResultArticle(
                id=uuid4().hex,
                title=shorten(answer.article.title or texts.UNTITLED, 100),
                description=shorten(answer.sentence, 200),
                input_message_content=InputTextMessageContent(body),
            )
        )
    await query.answer(results, cache_time=30 if verdict == "answer" else 0)
