"""Per-user flood limits, paging memory and per-chat ordering."""

from __future__ import annotations

import asyncio

from bot.state import Admission, AskedQuestion, ChatTurns, FloodGuard, QuestionLog


def test_flood_guard_answers_a_burst_queues_a_few_then_warns_once_then_drops() -> None:
    now = [0.0]
    guard = FloodGuard(burst=3, interval=2.0, queue=2, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(7)] == [
        Admission("answer"),
        Admission("answer"),
        Admission("answer"),
        Admission("answer", 2.0),  # queued: the next token is 2 s away
        Admission("answer", 4.0),
        Admission("warn"),
        Admission("drop"),
    ]
    assert guard.check(2) == Admission("answer")  # other users are not affected
    now[0] += 2.0
    assert guard.check(1) == Admission("answer", 4.0)  # a place in the queue came free
    assert guard.check(1) == Admission("drop")  # still the same flood: no second warning
    now[0] += 60.0
    assert [guard.check(1).verdict for _ in range(6)] == [
        "answer", "answer", "answer", "answer", "answer", "warn"
    ]  # fmt: skip


def test_question_log_forgets_the_oldest() -> None:
    log = QuestionLog(capacity=2)
    first = log.add(AskedQuestion("a", 7, "gen-1"))
    second = log.add(AskedQuestion("b", 7, "gen-1"))
    third = log.add(AskedQuestion("c", 8, "gen-1"))
    assert (first, second, third) == (1, 2, 3)
    assert log.get(first) is None
    assert log.get(second) == AskedQuestion("b", 7, "gen-1")
    assert log.get(third) == AskedQuestion("c", 8, "gen-1")


async def test_chat_turns_keep_order_within_a_chat_only() -> None:
    turns = ChatTurns()
    seen: list[str] = []

    async def work(chat: int, name: str, delay: float) -> None:
        async with turns.turn(chat):
            await asyncio.sleep(delay)
            seen.append(name)

    await asyncio.gather(work(1, "1a", 0.05), work(1, "1b", 0.0), work(2, "2a", 0.01))
    assert seen == ["2a", "1a", "1b"]
    assert turns.busy_chats == 0
