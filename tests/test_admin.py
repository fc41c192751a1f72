"""/reindex from non-admins: refused, and told and logged at most once a minute per user (#9.7)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.state import Cooldown
from bot.texts import REINDEX_REFUSED
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, RunningBot

OTHER = 2345


def test_cooldown_allows_one_event_a_minute_per_user() -> None:
    now = [100.0]
    cooldown = Cooldown(60.0, clock=lambda: now[0])
    assert [cooldown.ready(USER) for _ in range(3)] == [True, False, False]
    assert cooldown.ready(OTHER) is True  # others have their own minute
    now[0] += 59.9
    assert cooldown.ready(USER) is False
    now[0] += 0.1
    assert cooldown.ready(USER) is True
    assert cooldown.ready(USER) is False


@pytest.mark.process
async def test_a_non_admin_repeating_reindex_is_answered_and_logged_once_a_minute(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    bot.state.refusals = Cooldown(60.0, clock=lambda: now[0])

    def refusals(chat: int) -> int:
        return [m.text for m in telegram.chats[chat].bot_messages].count(REINDEX_REFUSED)

    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            await telegram.send_text(USER, "/reindex")
        await telegram.send_text(OTHER, "/reindex")
        await telegram.wait_for_messages(OTHER, 1)
        await asyncio.sleep(0.5)  # time for any further refusal to show
        assert (refusals(USER), refusals(OTHER)) == (1, 1)
        now[0] += 60.0  # a minute later: told (and logged) once more
        for _ in range(3):
            await telegram.send_text(USER, "/reindex")
        await telegram.wait_for_messages(USER, 2)
        await asyncio.sleep(0.5)
    assert refusals(USER) == 2
    logged = [r.getMessage() for r in caplog.records if "refused /reindex" in r.getMessage()]
    assert logged == [
        f"refused /reindex from user {USER} in chat {USER}",
        f"refused /reindex from user {OTHER} in chat {OTHER}",
        f"refused /reindex from user {USER} in chat {USER}",
    ]
    assert bot.state.newsroom.rebuilding is False
