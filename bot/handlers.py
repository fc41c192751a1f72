"""Telegram handlers: each turns an update into index calls and the result into a reply."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import cast
from uuid import uuid4

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import render
from bot.newsroom import RebuildResult, RebuildRunningError
from bot.state import AskedQuestion, BotState
from index.model import Answer, counted
from index.search import MIN_COVERAGE, WEAK_COVERAGE

log = logging.getLogger(__name__)

ANSWERS_PER_PAGE = 3
SOURCES_PER_PAGE = 8
INLINE_RESULTS = 5

CLOSEST_BUTTON = "Show the closest passages ›"
CLOSEST_NOTE = "Weak matches: they share only some of your words and may not answer the question."

NOTHING_FOUND = (
    "I couldn't find that in the indexed news. Try other words, or see /sources for what I "
    "have read."
)
NO_INDEX = "No news is indexed yet; an admin can run /reindex."
SLOW_DOWN = "You're sending questions faster than I can read them. Please wait a few seconds."
NOT_TEXT = "I can only read text. Send me a question in words, like: what happened in Ukraine?"
SORRY = "Sorry, something went wrong on my side while answering. Please try again."
HELP = (
    "I answer questions about the news with the best-matching passages from the articles I "
    "have indexed, each with its source.\n\n"
    "Just send me a question in plain words. In groups, use /ask &lt;question&gt;, mention me, "
    "or reply to one of my messages. In any chat, type @{username} and a question.\n\n"
    "/start: a greeting and example questions\n"
    "/help: this message\n"
    "/sources: what I have indexed\n"
    "/ask &lt;question&gt;: ask in a group"
)


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """Return the shared bot state."""
    return cast(BotState, context.bot_data["state"])


def is_admin(state: BotState, update: Update) -> bool:
    """Return whether the sender is an admin, by numeric user id (never by username)."""
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user with an example question and the newest headlines in the index."""
    message = update.effective_message
    if message is None:
        return
    state = state_of(context)
    index = state.newsroom.index
    user = update.effective_user
    name = html.escape(user.first_name) if user and user.first_name else "there"
    if index is None or index.n_articles == 0:
        await message.reply_text(f"Hi {name}! {NO_INDEX}")
        return
    headlines = [
        f"• {html.escape(render.shorten(a.title, 90), quote=False)}"
        for a in index.articles_newest_first(0, 3)
        if a.title
    ]
    newest = (
        "Newest headlines, to ask about:\n" + "\n".join(headlines) + "\n\n" if headlines else ""
    )
    await message.reply_text(
        f"Hi {name}! Ask me about the news in plain words, say <i>How much was trade between "
        "China and Russia?</i>, and I'll reply with the best passages from "
        f"{counted(index.n_articles, 'indexed article')}, with their sources.\n\n"
        f"{newest}See /help for more."
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and list its commands."""
    if update.effective_message is None:
        return
    username = html.escape(context.bot.username or "bot")
    await update.effective_message.reply_text(HELP.format(username=username))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message in a private chat."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await answer(update, context, message.text)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `/ask <question>` (in groups, and anywhere else)."""
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await message.reply_text("Usage: /ask &lt;question&gt;, e.g. /ask who won the election?")
        return
    await answer(update, context, text)


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
        await message.reply_text("Yes? Ask me a question about the news.")
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


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Reply to `text` with the first page of answers, in this chat's turn."""
    message = update.effective_message
    chat, user = update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    state = state_of(context)
    verdict = state.flood.check(user.id if user else chat.id)
    if verdict == "drop":
        return
    async with state.chats.turn(chat.id):
        if verdict == "warn":
            await message.reply_text(SLOW_DOWN)
            return
        newsroom = state.newsroom
        if newsroom.index is None:
            await message.reply_text(NO_INDEX)
            return
        answers = await newsroom.ask(text, ANSWERS_PER_PAGE + 1)
        if answers:
            asked = AskedQuestion(text, newsroom.generation)
            qid = state.questions.add(asked)
            body, markup = _page(state, qid, asked, answers, offset=0)
            await message.reply_text(body, reply_markup=markup)
            return
        closest = await newsroom.ask(text, 1, min_coverage=WEAK_COVERAGE)
        markup = None
        if closest:
            qid = state.questions.add(AskedQuestion(text, newsroom.generation, WEAK_COVERAGE))
            button = InlineKeyboardButton(CLOSEST_BUTTON, callback_data=f"more:{qid}:0")
            markup = InlineKeyboardMarkup([[button]])
        await message.reply_text(NOTHING_FOUND, reply_markup=markup)


def _page(
    state: BotState, qid: str, asked: AskedQuestion, answers: list[Answer], offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render a page of answers (asked with one extra to know whether there are more)."""
    index = state.newsroom.index
    is_match = _matcher(state, asked.text)
    weak = asked.min_coverage < MIN_COVERAGE
    body, shown = render.answers_html(
        asked.text,
        answers[:ANSWERS_PER_PAGE],
        is_match,
        first_number=offset + 1,
        note=CLOSEST_NOTE if weak else None,
    )
    buttons = []
    if offset > 0:
        back = max(0, offset - ANSWERS_PER_PAGE)
        buttons.append(InlineKeyboardButton("‹ Back", callback_data=f"more:{qid}:{back}"))
    if len(answers) > shown and index is not None:
        buttons.append(InlineKeyboardButton("More ›", callback_data=f"more:{qid}:{offset + shown}"))
    return body, InlineKeyboardMarkup([buttons]) if buttons else None


def _matcher(state: BotState, text: str) -> render.Matcher:
    """Return a predicate: does a word of a passage match one of the question's terms?"""
    index = state.newsroom.index
    if index is None:
        return lambda word: False
    wanted = set(index.analyze(text).known)
    analyzer = index.analyzer
    return lambda word: any(term in wanted for term in analyzer.terms(word))


async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show another page of answers by editing the message that holds the button."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    state = state_of(context)
    _, qid, raw_offset = ([*query.data.split(":"), "", ""])[:3]
    asked = state.questions.get(qid)
    newsroom = state.newsroom
    if asked is None or not raw_offset.isdigit():
        await query.answer("This search has expired. Please ask again.", show_alert=True)
        await _drop_buttons(query.message)
        return
    if asked.generation != newsroom.generation:
        await query.answer(
            "The news index was rebuilt since. Please ask again for fresh answers.",
            show_alert=True,
        )
        await _drop_buttons(query.message)
        return
    offset = int(raw_offset)
    answers = await newsroom.ask(
        asked.text, ANSWERS_PER_PAGE + 1, offset=offset, min_coverage=asked.min_coverage
    )
    if not answers:
        await query.answer("No more answers.")
        await _drop_buttons(query.message)
        return
    await query.answer()
    body, markup = _page(state, qid, asked, answers, offset)
    await query.edit_message_text(body, reply_markup=markup)


async def _drop_buttons(message: object) -> None:
    """Remove the inline keyboard of a message the bot sent, if it still can."""
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:  # already without buttons, or too old to edit
            log.debug("could not remove buttons: %s", exc)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List indexed articles, newest first, with paging buttons."""
    message = update.effective_message
    if message is None:
        return
    body, markup = _sources_page(state_of(context), 0)
    await message.reply_text(body, reply_markup=markup)


async def sources_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Turn a page of the /sources list."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    state = state_of(context)
    _, raw_page, generation = ([*query.data.split(":", 2), "", ""])[:3]
    if generation != state.newsroom.generation or not raw_page.isdigit():
        await query.answer("The index was rebuilt since. Send /sources again.", show_alert=True)
        await _drop_buttons(query.message)
        return
    await query.answer()
    body, markup = _sources_page(state, int(raw_page))
    await query.edit_message_text(body, reply_markup=markup)


def _sources_page(state: BotState, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render page `page` of the indexed articles."""
    index = state.newsroom.index
    if index is None or index.n_articles == 0:
        return NO_INDEX, None
    created = html.escape(str(index.header.get("created", "unknown")))
    lines = [
        f"📚 <b>{counted(index.n_articles, 'article')}</b>, "
        f"{counted(index.n_sentences, 'sentence')} "
        f"(indexed {created})"
    ]
    start = page * SOURCES_PER_PAGE
    lines += [
        "• " + render.source_html(a).removeprefix("📰 ")
        for a in index.articles_newest_first(start, SOURCES_PER_PAGE)
    ]
    generation = state.newsroom.generation
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton("‹ Newer", callback_data=f"src:{page - 1}:{generation}")
        )
    if start + SOURCES_PER_PAGE < index.n_articles:
        buttons.append(
            InlineKeyboardButton("Older ›", callback_data=f"src:{page + 1}:{generation}")
        )
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the top answers as inline results in any chat."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    state = state_of(context)
    answers = await state.newsroom.ask(text, INLINE_RESULTS) if text else []
    is_match = _matcher(state, text)
    results = []
    for answer in answers:
        body, _ = render.answers_html(text, [answer], is_match)
        results.append(
            InlineQueryResultArticle(
                id=uuid4().hex,
                title=render.shorten(answer.article.title or "Untitled", 100),
                description=render.shorten(answer.sentence, 200),
                input_message_content=InputTextMessageContent(body),
            )
        )
    await query.answer(results, cache_time=30)


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the user, in one line, that only text questions are understood."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(NOT_TEXT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help for commands the bot does not know."""
    if update.effective_message is not None:
        await update.effective_message.reply_text("I don't know that command. See /help.")


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Rebuild the index for an admin, answering from the old one meanwhile."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    state = state_of(context)
    if not is_admin(state, update):
        log.warning(
            "refused /reindex from user %s in chat %s",
            user.id if user else "unknown",
            update.effective_chat.id if update.effective_chat else "unknown",
        )
        await message.reply_text("Sorry, only the bot's admins can rebuild the index.")
        return
    if update.edited_message is not None:
        return  # an edit of an earlier /reindex is not a new request
    newsroom = state.newsroom
    try:
        rebuild = newsroom.start_rebuild()
    except RebuildRunningError:
        await message.reply_text("A rebuild is already running; I'll report here when it ends.")
        return
    log.info("user %s started a rebuild", user.id if user else "unknown")
    count = len(newsroom.sources)
    ack = await message.reply_text(
        f"⏳ Rebuilding the index from {count} source{'s' if count != 1 else ''}. "
        "I keep answering questions meanwhile."
    )
    context.application.create_task(_report_rebuild(state, rebuild, ack), update=update)


async def _report_rebuild(
    state: BotState, rebuild: asyncio.Future[RebuildResult], ack: Message
) -> None:
    """Wait for the rebuild and edit the acknowledgement into its summary."""
    result = await rebuild
    if result.ok:
        lines = [f"✅ Index rebuilt: {html.escape(result.summary)}"]
        for item in result.skipped[:10]:
            lines.append(f"• skipped {html.escape(render.shorten(item, 200))}")
        if len(result.skipped) > 10:
            lines.append(f"…and {len(result.skipped) - 10:,} more skipped.")
    else:
        index = state.newsroom.index
        still = counted(index.n_articles, "article") if index else "nothing"
        lines = [
            f"❌ Rebuild failed: {html.escape(render.shorten(result.summary, 500))}",
            f"Still serving the previous index ({still}).",
        ]
    await ack.edit_text(render.fit("\n".join(lines)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its update, and apologise to the user."""
    summary = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error("update %s caused an error", str(summary)[:2000], exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(SORRY)
        except Exception:  # the apology itself failed (network): logged above already
            log.warning("could not send the apology for update %s", update.update_id)
