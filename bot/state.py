"""What the bot keeps between updates: recent questions, per-chat turns, per-user limits."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from bot.alerts import Alerts
from bot.ledger import SourceLedger
from bot.newsroom import Newsroom
from bot.refresh import Refresher
from bot.settings import Settings
from index.answers.policy import MIN_COVERAGE

# More users than this in a table: those idle long enough to be back at rest are forgotten.
_TABLE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question whose answers can be paged with "More".

    Attributes:
        text: The question as asked.
        chat_id: The chat it was asked in: only that chat's buttons may page it.
        generation: The index generation its answers came from.
        min_coverage: The floor its answers were asked with (lower: the closest, weak matches).
    """

    text: str
    chat_id: int
    generation: str
    min_coverage: float = MIN_COVERAGE


class QuestionLog:
    """The most recent questions, by number, for paging their answers (oldest forgotten)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._items: OrderedDict[int, AskedQuestion] = OrderedDict()
        self._capacity = capacity
        self._ids = itertools.count(1)

    def add(self, question: AskedQuestion) -> int:
        """Remember a question; return its id."""
        qid = next(self._ids)
        self._items[qid] = question
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return qid

    def get(self, qid: int) -> AskedQuestion | None:
        """Return a remembered question, or None when it was forgotten."""
        return self._items.get(qid)


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    handlers: int = 0  # holding the lock or waiting for it


class ChatTurns:
    """One handler at a time per chat, first come first served, so replies keep their order.

    A chat's lock is forgotten only when no handler holds it or waits for it: dropping it as the
    holder releases it would let a newcomer take a fresh lock ahead of the waiters (issue #9.2).
    """

    def __init__(self) -> None:
        self._turns: dict[int, _Turn] = {}

    @property
    def busy_chats(self) -> int:
        """How many chats have a handler holding or waiting for their turn."""
        return len(self._turns)

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for this chat's turn, and hold it in the block."""
        turn = self._turns.setdefault(chat_id, _Turn())
        turn.handlers += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.handlers -= 1
            if turn.handlers == 0:
                del self._turns[chat_id]


Verdict = Literal["answer", "warn", "drop"]


@dataclass(frozen=True, slots=True)
class Admission:
    """What to do with a user's message, and when.

    Attributes:
        verdict: "answer" it, "warn" the user to slow down instead (once per flood), or "drop" it.
        wait: Seconds to wait before answering: the message is queued behind the user's others.
    """

    verdict: Verdict
    wait: float = 0.0


@dataclass(slots=True)
class _Bucket:
    tokens: float  # below zero: that many messages are queued
    updated: float
    warned: bool = False


class FloodGuard:
    """A token bucket per user: a burst, then one message per `interval`, a few more queued.

    The first `burst` messages are answered at once; after that one per `interval` seconds, and
    up to `queue` messages wait for their token, so someone slightly over the pace is answered
    late rather than never. Beyond the queue, the user is warned once and further messages are
    dropped until the bucket is full again.
    """

    def __init__(
        self,
        burst: int = 6,
        interval: float = 2.0,
        queue: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._interval = interval
        self._queue = queue
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int) -> Admission:
        """Take a token (now or a queued one) for a message from `user_id`."""
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > _TABLE_LIMIT:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) / self._interval)
        bucket.updated = now
        if bucket.tokens >= self._burst:
            bucket.warned = False  # at rest again: a new flood gets a new warning
        if bucket.tokens - 1 >= -self._queue:
            bucket.tokens -= 1
            return Admission("answer", max(0.0, -bucket.tokens) * self._interval)
        if bucket.warned:
            return Admission("drop")
        bucket.warned = True
        return Admission("warn")

    async def admit(self, user_id: int) -> Verdict:
        """Check a message from `user_id` and, when it is queued, wait for its turn."""
        admission = self.check(user_id)
        if admission.wait > 0:  # no await otherwise: messages keep their order into ChatTurns
            await asyncio.sleep(admission.wait)
        return admission.verdict

    def _forget_idle(self, now: float) -> None:
        at_rest = (self._burst + self._queue) * self._interval
        for user, bucket in list(self._buckets.items()):
            if now - bucket.updated > at_rest:
                del self._buckets[user]


class Cooldown:
    """At most one event per user every `seconds`, e.g. one refusal a minute."""

    def __init__(self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def ready(self, user_id: int) -> bool:
        """Return whether `user_id` may have the event now, and if so start their cooldown."""
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self._seconds:
            return False
        if len(self._last) > _TABLE_LIMIT:
            self._last = {u: t for u, t in self._last.items() if now - t < self._seconds}
        self._last[user_id] = now
        return True


@dataclass(slots=True)
class BotState:
    """Everything handlers share, kept in `application.bot_data["state"]`.

    Attributes:
        settings: The bot's settings.
        newsroom: The index being served, and its rebuilds.
        questions: Recent questions, for their "More" buttons.
        chats: Per-chat turns, so that replies keep their order.
        flood: The per-user pace of questions, inline queries and buttons.
        refusals: When a non-admin may next be told (and logged) that /reindex is refused.
        refresher: The scheduled refresh of the sources; None when it is off.
        alerts: Standing questions and their alerts (`bot.follow`); None when no state is kept.
        ledger: Which sources are configured, added from the chat, or retired.
    """

    settings: Settings
    newsroom: Newsroom
    questions: QuestionLog = field(default_factory=QuestionLog)
    chats: ChatTurns = field(default_factory=ChatTurns)
    flood: FloodGuard = field(default_factory=FloodGuard)
    refusals: Cooldown = field(default_factory=Cooldown)
    refresher: Refresher | None = None
    alerts: Alerts | None = None
    ledger: SourceLedger = field(default_factory=SourceLedger)
