"""Replies keep their order within a chat (issue #9.2): per-chat turns, alone and in the bot.

The bug this pins: `ChatTurns` dropped a chat's lock as its holder released it, before the
waiting handler had taken it, so a third message took a fresh lock and ran beside the second
(replies A, C, B). It needs a message to arrive exactly between a release and the next take,
hence many chats, several messages each, staggered arrivals and random hold times.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.state import ChatTurns
from tests.fake_telegram import FakeTelegram
from tests.harness import RunningBot


async def replay(turns: ChatTurns, chats: int, per_chat: int, seed: int) -> dict[int, list[int]]:
    """Send `per_chat` numbered messages to each chat at random moments; return handling order.

    Each handler holds its chat's turn for a random few milliseconds, and takes another short
    random pause after it, as a handler does that still has work (a log line, a button) to do.
    """
    rng = random.Random(seed)
    handled: dict[int, list[int]] = {chat: [] for chat in range(chats)}

    async def handler(chat: int, number: int, hold: float) -> None:
        async with turns.turn(chat):
            await asyncio.sleep(hold)
            handled[chat].append(number)

    async def arrive(chat: int, number: int, at: float, hold: float) -> None:
        await asyncio.sleep(at)
        await handler(chat, number, hold)

    arrivals = []
    for chat in range(chats):
        times = sorted(rng.uniform(0, 0.05) for _ in range(per_chat))
        arrivals += [arrive(chat, n, at, rng.uniform(0, 0.01)) for n, at in enumerate(times)]
    await asyncio.gather(*arrivals)
    return handled


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_chat_turns_keep_the_order_of_five_messages_in_each_of_fifty_chats(
    seed: int,
) -> None:
    turns = ChatTurns()
    handled = await replay(turns, chats=50, per_chat=5, seed=seed)
    assert handled == {chat: [0, 1, 2, 3, 4] for chat in range(50)}
    assert turns.busy_chats == 0  # every chat's lock is forgotten once idle


async def test_a_third_message_waits_behind_the_second_not_beside_it() -> None:
    turns = ChatTurns()
    order: list[str] = []

    async def handler(name: str, hold: float) -> None:
        async with turns.turn(1):
            await asyncio.sleep(hold)
            order.append(name)

    first = asyncio.create_task(handler("A", 0.01))
    await asyncio.sleep(0)  # A holds the turn
    second = asyncio.create_task(handler("B", 0.01))
    await asyncio.sleep(0)  # B waits for it
    await first  # A has released the turn to B
    await asyncio.gather(second, handler("C", 0.0))
    assert order == ["A", "B", "C"]


@pytest.mark.process
@pytest.mark.slow
async def test_the_bot_replies_in_order_in_each_of_twenty_chats(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    rng = random.Random(9)
    chats = list(range(8000, 8020))
    questions = [
        "How much was trade between China and Russia in 2025?",
        "What did Putin and Xi Jinping discuss?",
        "What did Trump tell Xi about Taiwan?",
        "Which initiatives promote global stability?",
        "What did Putin promise?",
    ]
    for question in questions:
        for chat in rng.sample(chats, len(chats)):
            await telegram.send_text(chat, question)
            await asyncio.sleep(rng.uniform(0, 0.004))
    for chat in chats:
        replies = await telegram.wait_for_messages(chat, len(questions), timeout=30)
        headers = [(r.text or "").splitlines()[0] for r in replies]
        assert headers == [f"🔎 {q}" for q in questions], chat
