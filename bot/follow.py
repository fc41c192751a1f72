"""/follow, /following, /unfollow, /forget and the "stop following" buttons; alerts' start and stop.

A standing question is analyzed with the serving index's analyzer and embedded once, when
followed, then kept in the state file (`bot.subscriptions`) and in the percolator
(`bot.alerts`). Commands go through the same per-user pace and chat turns as questions.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import browsing, callbacks, digest, render, texts
from bot.alerts import Alerts, alerts_or_off, standing
from bot.callbacks import StopFollowing
from bot.context import NewsContext
from bot.questions import answering_turn
from bot.state import BotState
from bot.subscriptions import MAX_FOLLOWED, FollowLimitError, StateError, Subscriptions

log = logging.getLogger(__name__)

# Characters of a standing question kept (what is analyzed and shown).
MAX_QUESTION = 300
# Seconds between two looks at held alerts (summaries at the end of an hour) and unsent ones.
SWEEP_SECONDS = 60.0
# "Stop N" buttons per keyboard row under /following.
BUTTONS_PER_ROW = 5


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Register the commands and the button of standing questions (before the catch-alls)."""
    new_message = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("follow", follow_command, filters=new_message))
    application.add_handler(CommandHandler("following", following_command, filters=new_message))
    application.add_handler(CommandHandler("unfollow", unfollow_command, filters=new_message))
    application.add_handler(CommandHandler("forget", forget_command, filters=new_message))
    application.add_handler(CommandHandler("digest", digest.digest_command, filters=new_message))
    application.add_handler(
        CommandHandler("timezone", digest.timezone_command, filters=new_message)
    )
    application.add_handler(
        CallbackQueryHandler(stop_button, pattern=callbacks.STOP_FOLLOWING_PATTERN)
    )


async def start(application: Application) -> None:  # type: ignore[type-arg]
    """Open the state file, match what was never seen, send what is pending, sweep each minute."""
    state: BotState = application.bot_data["state"]
    path = state.settings.state_db
    if path is None:
        return
    try:
        store = await asyncio.to_thread(Subscriptions, path)
    except StateError as exc:
        log.error("%s; /follow is off until it is fixed", exc)
        return
    state.alerts = Alerts(store, state.newsroom, application.bot, state.settings.alerts_per_hour)
    state.alerts.start()
    if application.job_queue is not None:
        application.job_queue.run_repeating(_sweep, SWEEP_SECONDS, first=SWEEP_SECONDS)


async def stop(application: Application) -> None:  # type: ignore[type-arg]
    """Wait for the matching and sending under way, and close the state file."""
    state: BotState = application.bot_data["state"]
    if state.alerts is not None:
        await state.alerts.stop()
        state.alerts.store.close()
        state.alerts = None


async def _sweep(context: NewsContext) -> None:
    """Run `sweep` from the JobQueue."""
    await sweep(context.state)


async def sweep(state: BotState) -> None:
    """Send the alerts still pending, the summaries of hours that have ended, due digests."""
    alerts = state.alerts
    if alerts is None:
        return
    digests = frozenset(r.user_id for r in alerts.store.readers_with_digest())
    await alerts.deliver()
    await alerts.summarize_held(digests)
    await digest.send_due(alerts, state.newsroom.index, state.settings.timezone)


async def follow_command(update: Update, context: NewsContext) -> None:
    """Follow a question: alerts when new articles answer it."""
    async with answering_turn(update, context) as message:
        user, chat = update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        index = context.state.newsroom.index
        text = " ".join(context.args or []).strip()[:MAX_QUESTION]
        if (alerts := await alerts_or_off(message, context.state.alerts)) is None:
            return
        if not text or index is None:
            await message.reply_text(render.plain(texts.FOLLOW_USAGE))
            return
        terms = tuple(index.analyzer.terms(text))
        vector = await asyncio.to_thread(index.embed_question, text)
        try:
            question = alerts.store.follow(user.id, chat.id, text, terms, vector)
        except FollowLimitError:
            await message.reply_text(render.fill(texts.FOLLOW_LIMIT, limit=str(MAX_FOLLOWED)))
            return
        alerts.percolator.add(standing(question))
        await message.reply_text(render.fill(texts.FOLLOWING_NOW, question=text))


async def following_command(update: Update, context: NewsContext) -> None:
    """List the user's standing questions, numbered, with a button to stop each."""
    async with answering_turn(update, context) as message:
        user = update.effective_user
        if message is None or user is None:
            return
        if (alerts := await alerts_or_off(message, context.state.alerts)) is None:
            return
        body, markup = following_page(alerts, user.id)
        await message.reply_text(body, reply_markup=markup)


def following_page(alerts: Alerts, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render /following for a user: the list and its "Stop N" buttons."""
    questions = alerts.store.following(user_id)
    buttons = [
        InlineKeyboardButton(
            texts.UNFOLLOW_BUTTON.format(number=n),
            callback_data=callbacks.encode(StopFollowing(q.id)),
        )
        for n, q in enumerate(questions, 1)
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    body = render.following_html([q.text for q in questions])
    return body, InlineKeyboardMarkup(rows) if rows else None


async def unfollow_command(update: Update, context: NewsContext) -> None:
    """Stop following question N of /following."""
    async with answering_turn(update, context) as message:
        user = update.effective_user
        if message is None or user is None:
            return
        if (alerts := await alerts_or_off(message, context.state.alerts)) is None:
            return
        questions = alerts.store.following(user.id)
        raw = " ".join(context.args or []).strip()
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0
        if not 1 <= number <= len(questions):
            await message.reply_text(render.plain(texts.UNFOLLOW_USAGE))
            return
        gone = alerts.store.unfollow(user.id, questions[number - 1].id)
        if gone is not None:
            alerts.percolator.remove(gone.id)
        await message.reply_text(render.fill(texts.UNFOLLOWED, question=questions[number - 1].text))


async def forget_command(update: Update, context: NewsContext) -> None:
    """Delete everything kept about the user."""
    async with answering_turn(update, context) as message:
        user = update.effective_user
        alerts = context.state.alerts
        if message is None or user is None:
            return
        if alerts is not None:
            for question in alerts.store.following(user.id):
                alerts.percolator.remove(question.id)
            alerts.store.forget(user.id)
        await message.reply_text(render.plain(texts.FORGOTTEN))


async def stop_button(update: Update, context: NewsContext) -> None:
    """Stop following the question a button names (only its owner's press counts)."""
    query = update.callback_query
    alerts = context.state.alerts
    if query is None:
        return
    target = callbacks.decode(query.data)
    if not isinstance(target, StopFollowing):  # PTB passes empty data to every pattern
        await browsing.button(update, context)
        return
    if await context.state.flood.admit(query.from_user.id) != "answer":
        await query.answer()
        return
    gone = None
    if alerts is not None:
        gone = alerts.store.unfollow(query.from_user.id, target.standing_id)
    if gone is None or alerts is None:
        await query.answer(texts.UNFOLLOW_GONE)
    else:
        alerts.percolator.remove(gone.id)
        await query.answer(texts.UNFOLLOWED.format(question=gone.text)[:200])
    message = query.message
    if not isinstance(message, Message):
        return
    if alerts is not None and (message.text or "").startswith(texts.FOLLOWING_HEADER):
        body, markup = following_page(alerts, query.from_user.id)
        await message.edit_text(body, reply_markup=markup)
    elif message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)
