"""Alerts: each new generation's new articles matched against the standing questions, and sent.

After every swap (`Newsroom.swap_listeners`) and once at start, the articles of the serving
generation never seen before (by content key, kept in the state file) are matched against every
standing question (`index.follow.percolate`); each match becomes an alert recorded as pending in the
same transaction that marks the articles seen (`Subscriptions.record_matches`), then is sent and
marked sent. A bot killed between the two sends it at its next start; one killed before the
transaction matches the articles again, as they are still unseen.

A user gets one alert per story (`index.follow.stories`: a copy in another outlet, or a later
update, sends none), at most `NEWSBOT_ALERTS_PER_HOUR` in a clock hour; the rest are held and
summarized in one message when the hour ends, or in the digest when the user has one. A user who
blocked the bot (403) is unsubscribed: everything kept about them is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import numpy as np
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import callbacks, render, texts
from bot.callbacks import StopFollowing
from bot.newsroom import Newsroom
from bot.state_records import Alert, NewAlert, StandingQuestion
from bot.subscriptions import Subscriptions
from index.answers.search import NewsIndex
from index.follow.percolate import Match, Percolator, Standing, answer_of
from index.follow.stories import StoryGroups
from index.store import layout

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def standing(question: StandingQuestion) -> Standing:
    """The percolator's view of a stored standing question."""
    return Standing(question.id, question.text, question.terms, question.vector)


def stop_keyboard(standing_id: int) -> InlineKeyboardMarkup:
    """The alert's one button: stop following the question it answers."""
    data = callbacks.encode(StopFollowing(standing_id))
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.STOP_FOLLOWING_BUTTON, callback_data=data)]]
    )


class Alerts:
    """Matches new articles against standing questions and delivers the alerts."""

    def __init__(
        self,
        store: Subscriptions,
        newsroom: Newsroom,
        bot: Bot,
        per_hour: int,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.newsroom = newsroom
        self.bot = bot
        self.per_hour = per_hour
        self.clock = clock
        self.percolator = Percolator(standing(q) for q in store.all_standing())
        self.stories = StoryGroups()
        self._percolating = asyncio.Lock()
        self._delivering = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()
        self.percolations = 0  # generations matched, for tests and logs

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Match what the serving generation holds that was never seen, send what is pending."""
        self.newsroom.swap_listeners.append(self.swapped)
        if self.newsroom.index is not None:
            self.swapped(self.newsroom.index)
        else:
            self._spawn(self.deliver())

    async def stop(self) -> None:
        """Stop listening and wait for the matching and sending under way."""
        with contextlib.suppress(ValueError):
            self.newsroom.swap_listeners.remove(self.swapped)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def swapped(self, index: NewsIndex) -> None:
        """A new generation serves: match its new articles, then send (in the background)."""
        self._spawn(self.after_swap(index))

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def after_swap(self, index: NewsIndex) -> None:
        """Match `index`'s unseen articles, then deliver what is pending."""
        try:
            async with self._percolating:
                await asyncio.to_thread(self.percolate, index)
        except Exception:  # the next swap or start matches the same unseen articles again
            log.exception("matching the standing questions failed")
        await self.deliver()

    # -- matching ---------------------------------------------------------------------------------

    def percolate(self, index: NewsIndex) -> int:
        """Match the unseen articles of `index`, record alerts; return how many were recorded."""
        keys = np.asarray(layout.load_array(index.folder, "article_keys")).tolist()
        live = index.archive.live_articles
        rows = [a for a in range(len(keys)) if live is None or live[a]]
        first_run = not self.store.has_seen_any()
        unseen = self.store.unseen([keys[a] for a in rows])
        new = [a for a in rows if keys[a] in unseen]
        story_of = self.stories.assign(index, rows, new, keys, self.store.stories_of)
        seen = {keys[a]: story_of[a] for a in new}
        alerts: list[NewAlert] = []
        if not first_run:  # a new state file: what is indexed now is not news to anyone
            matches = self.percolator.match(index, new)
            alerts = self._alerts(index, matches, story_of)
        pending = self.store.record_matches(seen, alerts, self.per_hour, self.clock())
        self.percolations += 1
        if new:
            log.info(
                "%d new articles in %s: %d alerts (%d to send now)",
                len(new),
                index.folder.name,
                len(alerts),
                len(pending),
            )
        return len(alerts)

    def _alerts(
        self, index: NewsIndex, matches: list[Match], story_of: dict[int, str]
    ) -> list[NewAlert]:
        questions = {q.id: q for q in self.store.all_standing()}
        by_story: dict[tuple[int, str], Match] = {}
        for match in matches:  # one alert per user and story: its best match
            question = questions.get(match.standing_id)
            if question is None:
                continue
            key = (question.user_id, story_of[match.article])
            kept = by_story.get(key)
            if kept is None or (match.similarity, match.coverage) > (
                kept.similarity,
                kept.coverage,
            ):
                by_story[key] = match
        alerts = []
        for (user_id, story), match in sorted(by_story.items()):
            question = questions[match.standing_id]
            answer = answer_of(index, match, question.terms)
            also = [index.article(a) for a in self.stories.copies(story) if a != match.article]
            body = render.alert_html(question.text, answer, _matcher(index, question), also)
            article = answer.article
            alerts.append(
                NewAlert(
                    user_id, question.id, story, article.title or texts.UNTITLED, article.url, body
                )
            )
        return alerts

    # -- sending ----------------------------------------------------------------------------------

    async def deliver(self) -> int:
        """Send every pending alert, oldest first; return how many Telegram accepted."""
        sent = 0
        async with self._delivering:
            for alert in self.store.alerts("pending"):
                if await self._send(alert):
                    sent += 1
        return sent

    async def _send(self, alert: Alert) -> bool:
        try:
            await self.bot.send_message(
                alert.chat_id, alert.body, reply_markup=stop_keyboard(alert.standing_id)
            )
        except Forbidden:
            self.unsubscribe(alert.user_id)
            return False
        except BadRequest as exc:  # the chat is gone, or the message is refused: not again
            log.warning("alert %d refused by Telegram: %s", alert.id, exc.message)
            self.store.mark([alert.id], "summarized")
            return False
        except TelegramError as exc:  # still failing after the rate limiter's retries
            log.warning("alert %d not sent (%s); trying again later", alert.id, exc)
            return False
        self.store.mark([alert.id], "sent")
        return True

    def unsubscribe(self, user_id: int) -> None:
        """The user blocked the bot: forget them and their standing questions."""
        for question in self.store.following(user_id):
            self.percolator.remove(question.id)
        self.store.forget(user_id)
        log.info("user %s blocked the bot: unsubscribed", user_id)

    async def summarize_held(self, digest_users: frozenset[int] = frozenset()) -> int:
        """Send one summary per user of the alerts held in an hour that has ended.

        Users in `digest_users` get theirs in the digest instead. Returns the summaries sent.
        """
        hour = self.clock().replace(minute=0, second=0, microsecond=0)
        held: dict[int, list[Alert]] = defaultdict(list)
        for alert in self.store.alerts("held"):
            if alert.created < hour and alert.user_id not in digest_users:
                held[alert.user_id].append(alert)
        sent = 0
        async with self._delivering:
            for user_alerts in held.values():
                body = render.held_summary_html([(a.title, a.url) for a in user_alerts])
                try:
                    await self.bot.send_message(user_alerts[0].chat_id, body)
                except Forbidden:
                    self.unsubscribe(user_alerts[0].user_id)
                    continue
                except TelegramError as exc:
                    log.warning("hourly summary not sent (%s); trying again later", exc)
                    continue
                self.store.mark([a.id for a in user_alerts], "summarized")
                sent += 1
        return sent


def _matcher(index: NewsIndex, question: StandingQuestion) -> Callable[[str], bool]:
    """Whether a word of a passage matches one of the question's terms (for bold)."""
    wanted = set(question.terms)
    return lambda word: any(term in wanted for term in index.analyzer.terms(word))


async def alerts_or_off(message: Message, alerts: Alerts | None) -> Alerts | None:
    """Return `alerts`, or say following is off (the bot has no state file) and return None.

    The one answer of /follow, /following, /unfollow, /digest and /timezone without a state.
    """
    if alerts is None:
        await message.reply_text(render.plain(texts.FOLLOW_OFF))
    return alerts
