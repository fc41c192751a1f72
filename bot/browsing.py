"""Paging: answers ("More", "Back", the closest passages) and the /sources list.

Every button press arrives here (`button`), is decoded by `bot.callbacks`, and goes through the
same per-user pace as questions. A button whose question was forgotten, asked in another chat,
or answered from an index since rebuilt is told so, and loses its buttons.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot import callbacks, feedadmin, render, stories, texts
from bot.callbacks import AnswersPage, SourceChoice, SourcesPage
from bot.context import NewsContext
from bot.state import AskedQuestion, BotState
from index.model import Findings

log = logging.getLogger(__name__)

ANSWERS_PER_PAGE = 3
SOURCES_PER_PAGE = 8


def answers_page(
    state: BotState, qid: int, asked: AskedQuestion, found: Findings, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render a page of answers (asked with one extra to know whether there are more)."""
    answers = found.answers
    page, also = stories.fold_answers(state, list(answers[:ANSWERS_PER_PAGE]))
    body, shown = render.answers_html(
        asked.text,
        page,
        state.newsroom.matcher(asked.text),
        first_number=offset + 1,
        note=render.findings_note(found),
        also=also,
    )
    shown += ANSWERS_PER_PAGE - len(page) if shown == len(page) else 0
    buttons = []
    if offset > 0:
        back = AnswersPage(qid, max(0, offset - ANSWERS_PER_PAGE))
        buttons.append(_button(texts.BACK_BUTTON, back))
    if len(answers) > shown and offset + shown <= callbacks.MAX_OFFSET:
        buttons.append(_button(texts.MORE_BUTTON, AnswersPage(qid, offset + shown)))
    return body, InlineKeyboardMarkup([buttons]) if buttons else None


def closest_keyboard(qid: int) -> InlineKeyboardMarkup:
    """Return the button that shows the closest (weak) passages of question `qid`."""
    return InlineKeyboardMarkup([[_button(texts.CLOSEST_BUTTON, AnswersPage(qid, 0))]])


def sources_page(state: BotState, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render page `page` of the indexed articles, newest first."""
    index = state.newsroom.index
    if index is None or index.n_articles == 0:
        return texts.NO_INDEX, None
    first = page * SOURCES_PER_PAGE
    newest = index.articles_newest_first(0, 1)
    body = render.sources_html(
        index.n_articles,
        index.n_sentences,
        str(index.header.get("created", "unknown")),
        index.articles_newest_first(first, SOURCES_PER_PAGE),
        render.freshness_html(newest[0].date if newest else None, state.newsroom.refreshed_at),
    )
    generation = state.newsroom.generation
    buttons = []
    if page > 0:
        buttons.append(_button(texts.NEWER_BUTTON, SourcesPage(page - 1, generation)))
    if first + SOURCES_PER_PAGE < index.n_articles:
        buttons.append(_button(texts.OLDER_BUTTON, SourcesPage(page + 1, generation)))
    return body, InlineKeyboardMarkup([buttons]) if buttons else None


def _button(label: str, target: callbacks.Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(target))


async def sources_command(update: Update, context: NewsContext) -> None:
    """List indexed articles, newest first, with paging buttons."""
    message = update.effective_message
    if message is None:
        return
    body, markup = sources_page(context.state, 0)
    await message.reply_text(body, reply_markup=markup)


async def button(update: Update, context: NewsContext) -> None:
    """Answer a button press: turn a page of answers or of sources, or say it expired."""
    query = update.callback_query
    if query is None:
        return
    state = context.state
    verdict = await state.flood.admit(query.from_user.id)
    if verdict == "drop":
        return
    if verdict == "warn":
        await query.answer(texts.SLOW_DOWN)
        return
    target = callbacks.decode(query.data)
    if isinstance(target, AnswersPage):
        await _turn_answers(query, state, target)
    elif isinstance(target, SourcesPage):
        await _turn_sources(query, state, target)
    elif isinstance(target, SourceChoice):
        await feedadmin.source_button(query, context, target)
    else:
        await _expire(query, texts.SEARCH_EXPIRED)


async def _turn_answers(query: CallbackQuery, state: BotState, target: AnswersPage) -> None:
    """Edit a message of answers into the page `target` names."""
    asked = state.questions.get(target.question_id)
    chat_id = query.message.chat.id if query.message is not None else None
    if asked is None or asked.chat_id != chat_id:
        await _expire(query, texts.SEARCH_EXPIRED)
        return
    newsroom = state.newsroom
    if asked.generation != newsroom.generation:
        await _expire(query, texts.SEARCH_REBUILT)
        return
    found = await newsroom.ask(
        asked.text, ANSWERS_PER_PAGE + 1, offset=target.offset, min_coverage=asked.min_coverage
    )
    if not found.answers:
        await query.answer(texts.NO_MORE)
        await _drop_buttons(query.message)
        return
    await query.answer()
    body, markup = answers_page(state, target.question_id, asked, found, target.offset)
    await query.edit_message_text(body, reply_markup=markup)


async def _turn_sources(query: CallbackQuery, state: BotState, target: SourcesPage) -> None:
    """Edit a /sources message into the page `target` names."""
    index = state.newsroom.index
    if target.generation != state.newsroom.generation or index is None:
        await _expire(query, texts.SOURCES_REBUILT)
        return
    if target.page * SOURCES_PER_PAGE >= index.n_articles:
        await _expire(query, texts.SOURCES_EXPIRED)
        return
    await query.answer()
    body, markup = sources_page(state, target.page)
    await query.edit_message_text(body, reply_markup=markup)


async def _expire(query: CallbackQuery, text: str) -> None:
    """Tell the user a button no longer works, and remove the buttons of its message."""
    await query.answer(text, show_alert=True)
    await _drop_buttons(query.message)


async def _drop_buttons(message: object) -> None:
    """Remove the inline keyboard of a message the bot sent, if it still can."""
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:  # already without buttons, or too old to edit
            log.debug("could not remove buttons: %s", exc)
