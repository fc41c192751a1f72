"""Per-user flood limits, paging memory and per-chat ordering."""

from __future__ import annotations

import asyncio

from bot.state import AskedQuestion, ChatTurns, FloodGuard, QuestionLog


def test_flood_guard_allows_a_burst_then_warns_once_then_drops() -> None:
    now = [0.0]
    guard = FloodGuard(burst=3, interval=2.0, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(6)] == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert guard.check(2) == "ok"  # other users are not affected
    now[0] += 2.0
    assert guard.check(1) == "ok"
    assert guard.check(1) == "drop"  # still the same flood: no second warning
    now[0] += 60.0
    assert [guard.check(1) for _ in range(4)] == ["ok", "ok", "ok", "warn"]


def test_question_log_forgets_the_oldest() -> None:
    log = QuestionLog(capacity=2)
    first = log.add(AskedQuestion("a", "gen-1"))
    second = log.add(AskedQuestion("b", "gen-1"))
    third = log.add(AskedQuestion("c", "gen-1"))
    assert log.get(first) is None
    assert log.get(second) == AskedQuestion("b", "gen-1")
    assert log.get(third) == AskedQuestion("c", "gen-1")
    assert len(third) <= 8


async def test_chat_turns_keep_order_within_a_chat_only() -> None:
    turns = ChatTurns()
    seen: list[str] = []

    async def work(chat: int, name: str, delay: float) -> None:
        async with turns.turn(chat):
            await asyncio.sleep(delay)
            seen.append(name)

    await asyncio.gather(work(1, "1a", 0.05), work(1, "1b", 0.0), work(2, "2a", 0.01))
    assert seen == ["2a", "1a", "1b"]
    assert turns._locks == {}
