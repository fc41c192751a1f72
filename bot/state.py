"""What the bot keeps between updates: recent questions, per-chat turns, per-user flood limits."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.newsroom import Newsroom
from bot.settings import Settings
from index.search import MIN_COVERAGE


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question whose answers can be paged with "More".

    Attributes:
        text: The question as asked.
        generation: The index generation its answers came from.
        min_coverage: The floor its answers were asked with (lower: the closest, weak matches).
    """

    text: str
    generation: str
    min_coverage: float = MIN_COVERAGE


class QuestionLog:
    """The most recent questions, by short id, for paging their answers (oldest forgotten)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._items: OrderedDict[str, AskedQuestion] = OrderedDict()
        self._capacity = capacity
        self._ids = itertools.count(1)

    def add(self, question: AskedQuestion) -> str:
        """Remember a question; return its id (short enough for callback data)."""
        qid = format(next(self._ids), "x")
        self._items[qid] = question
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return qid

    def get(self, qid: str) -> AskedQuestion | None:
        """Return a remembered question, or None when it was forgotten."""
        return self._items.get(qid)


class ChatTurns:
    """One handler at a time per chat, so replies keep their order within a chat."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait for this chat's turn, and hold it in the block."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(chat_id) is lock:
                del self._locks[chat_id]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGuard:
    """A token bucket per user: bursts of `burst` messages, then one per `interval` seconds."""

    def __init__(
        self,
        burst: int = 6,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int) -> str:
        """Take a token for `user_id`.

        Returns:
            "ok" to answer, "warn" to answer with a request to slow down (once per flood),
            or "drop" to ignore the message.
        """
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) / self._interval)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self._burst - 1:
                bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def _forget_idle(self, now: float) -> None:
        full = self._burst * self._interval
        for user, bucket in list(self._buckets.items()):
            if now - bucket.updated > full:
                del self._buckets[user]


@dataclass(slots=True)
class BotState:
    """Everything handlers share, kept in `application.bot_data["state"]`."""

    settings: Settings
    newsroom: Newsroom
    questions: QuestionLog = field(default_factory=QuestionLog)
    chats: ChatTurns = field(default_factory=ChatTurns)
    flood: FloodGuard = field(default_factory=FloodGuard)
