"""Questions at a rate through a `FakeTelegram`, and what became of each: latency, losses.

Usable from any event loop that runs the fake Bot API (`tests/fake_telegram.py`):
`stamp_deliveries` records when each update leaves the server, `ask_at_rate` plays the users
round-robin on an absolute schedule, `wait_for_replies` pairs each question with its reply
(`Load`, `Asked`), and `latency_row` renders the percentiles. Used by `bench/bot_load.py`,
`bench/live_at_scale.py` and `bench/soak_feeds.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.texts import SORRY
from tests.fake_telegram import FakeTelegram

FIRST_USER = 10_000_000


@dataclass
class Asked:
    """One question a user sent, and what became of it."""

    chat: int
    text: str
    update_id: int
    queued: float
    delivered: float | None = None
    replied: float | None = None
    reply: str | None = None

    @property
    def latency(self) -> float | None:
        """Update handed to the bot -> its reply received by the server, in seconds."""
        if self.replied is None or self.delivered is None:
            return None
        return self.replied - self.delivered

    @property
    def end_to_end(self) -> float | None:
        """Message queued -> reply received by the server, in seconds."""
        return None if self.replied is None else self.replied - self.queued


@dataclass
class Load:
    """Everything a load run produced."""

    asked: list[Asked] = field(default_factory=list)
    delivered: dict[int, float] = field(default_factory=dict)  # update_id -> first delivery
    started: float = 0.0
    ended: float = 0.0

    @property
    def lost(self) -> list[Asked]:
        """Questions with no reply."""
        return [a for a in self.asked if a.replied is None]

    @property
    def failed(self) -> list[Asked]:
        """Questions answered with the bot's apology for an error."""
        return [a for a in self.asked if a.reply == SORRY]


def stamp_deliveries(server: FakeTelegram, load: Load) -> None:
    """Record when each update first leaves the server in a getUpdates response."""
    get_updates = server._get_updates  # the fake dispatches on instance attributes

    async def stamped(params: dict[str, Any]) -> list[dict[str, Any]]:
        batch = await get_updates(params)
        now = time.monotonic()
        for update in batch:
            load.delivered.setdefault(update["update_id"], now)
        return batch

    server._get_updates = stamped  # type: ignore[method-assign]


async def ask_at_rate(
    server: FakeTelegram,
    load: Load,
    questions: Sequence[str],
    *,
    rate: float,
    seconds: float,
    users: int,
    first_user: int = FIRST_USER,
    keep_going: Callable[[], bool] = lambda: False,
) -> None:
    """Send `rate` questions a second, for `seconds` and while `keep_going()`, round-robin.

    Sends follow an absolute schedule, so a late wake-up is caught up, not lost from the rate.
    """
    texts = itertools.cycle(questions)
    load.started = time.monotonic()
    for n in itertools.count():
        due = load.started + n / rate
        if due - load.started >= seconds and not keep_going():
            break
        pause = due - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        chat = first_user + n % users
        text = next(texts)
        update_id = await server.send_text(chat, text)
        load.asked.append(Asked(chat, text, update_id, time.monotonic()))
    load.ended = time.monotonic()


def match_replies(server: FakeTelegram, load: Load) -> None:
    """Pair each question with the accepted sendMessage that answered it (k-th with k-th)."""
    replies: dict[int, list[tuple[float, str]]] = {}
    for call in server.calls_to("sendMessage"):
        if call.status == 200:
            chat = call.params["chat_id"]
            replies.setdefault(chat, []).append((call.received_at, str(call.params["text"])))
    seen: dict[int, int] = {}
    for asked in load.asked:
        k = seen.get(asked.chat, 0)
        seen[asked.chat] = k + 1
        asked.delivered = load.delivered.get(asked.update_id)
        chat_replies = replies.get(asked.chat, [])
        if k < len(chat_replies):
            asked.replied, asked.reply = chat_replies[k]


async def wait_for_replies(server: FakeTelegram, load: Load, grace: float) -> None:
    """Wait until every question has a reply, or `grace` seconds."""
    chats = {a.chat for a in load.asked}
    wanted = len(load.asked)

    def done() -> bool:
        accepted = sum(
            1
            for c in server.calls_to("sendMessage")
            if c.status == 200 and c.params["chat_id"] in chats
        )
        return accepted >= wanted

    with contextlib.suppress(AssertionError):  # the missing ones are counted as lost
        await server.wait_until(done, timeout=grace, what="every reply")
    match_replies(server, load)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil, at least the first
    return ordered[int(rank) - 1]


def latency_row(name: str, asked: Sequence[Asked]) -> str:
    """A markdown table row: count, then p50/p90/p99/max of both latencies in milliseconds."""
    bot = [a.latency for a in asked if a.latency is not None]
    e2e = [a.end_to_end for a in asked if a.end_to_end is not None]

    def ms(values: Sequence[float]) -> str:
        return " / ".join(
            f"{1000 * v:.0f}"
            for v in (percentile(values, 0.5), percentile(values, 0.99), max(values, default=0))
        )

    return f"| {name} | {len(asked):,} | {ms(bot)} | {ms(e2e)} |"
