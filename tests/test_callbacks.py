"""Callback data: one codec, read strictly; hostile buttons are answered, never an error (#9.3)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import callbacks
from bot.callbacks import AnswersPage, SourcesPage
from bot.state import FloodGuard
from bot.texts import SEARCH_EXPIRED, SORRY, SOURCES_EXPIRED
from tests.conftest import SEED_QUESTION
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, RunningBot

OTHER = 2345
GENERATION = "gen-20260206T101500-0123abcd"


@pytest.mark.parametrize(
    ("button", "data"),
    [
        (AnswersPage(1, 0), "more:1:0"),
        (AnswersPage(123456, 99), "more:123456:99"),
        (SourcesPage(0, GENERATION), f"src:0:{GENERATION}"),
        (SourcesPage(125_000, GENERATION), f"src:125000:{GENERATION}"),
    ],
)
def test_buttons_encode_to_short_data_and_back(button: callbacks.Button, data: str) -> None:
    assert callbacks.encode(button) == data
    assert callbacks.decode(data) == button
    assert len(data.encode()) <= 64


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "more",
        "more:1",
        "more:1:0:0",
        "more:١:0",  # Arabic-Indic one: str.isdigit() says yes
        "more:1:²",  # superscript two: str.isdigit() says yes
        "more:1:٣",
        "more:１:0",  # fullwidth one
        "more:01:0",  # not canonical
        "more:-1:0",
        "more: 1:0",
        "more:1:0\n",
        "more:1:100",  # beyond MAX_OFFSET
        "more:1:99999999999999999999",
        "src:1",
        "src:٣:" + GENERATION,
        "src:125001:" + GENERATION,  # beyond MAX_PAGE
        "src:0:../../etc",
        "src:0:gen-x/y",
        "x" * 64,
    ],
)
def test_anything_else_decodes_to_nothing(data: str | None) -> None:
    assert callbacks.decode(data) is None


def test_a_button_that_cannot_be_read_back_is_not_written() -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        callbacks.encode(AnswersPage(1, callbacks.MAX_OFFSET + 1))


@pytest.mark.process
async def test_hostile_buttons_are_answered_expired_never_an_error(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    bot.state.flood = FloodGuard(burst=100)  # this user presses many buttons on purpose
    await telegram.send_text(OTHER, SEED_QUESTION)
    await telegram.wait_for_messages(OTHER, 1, timeout=10)
    await telegram.send_text(USER, SEED_QUESTION)
    (reply,) = await telegram.wait_for_messages(USER, 1, timeout=10)
    others_question = 1  # the first question asked, in the other user's chat
    generation = bot.state.newsroom.generation
    hostile = {
        "more:١:0": SEARCH_EXPIRED,
        "more:2:²": SEARCH_EXPIRED,
        "more:2:99999999999999999999": SEARCH_EXPIRED,
        "more:2:100": SEARCH_EXPIRED,
        f"more:{others_question}:0": SEARCH_EXPIRED,  # a question of another chat
        "more:999999:0": SEARCH_EXPIRED,  # never asked
        f"src:٣:{generation}": SEARCH_EXPIRED,
        f"src:125000:{generation}": SOURCES_EXPIRED,  # a page past the last
        "garbage": SEARCH_EXPIRED,
        "": SEARCH_EXPIRED,
    }
    with caplog.at_level(logging.ERROR):
        pressed = {}
        for data in hostile:
            pressed[data] = await telegram.send_callback_query(USER, reply.message_id, data)
        for data, update in pressed.items():
            await telegram.wait_until(lambda u=update: u in telegram.callback_answers)
            assert telegram.callback_answers[update]["text"] == hostile[data], data
    assert "caused an error" not in caplog.text
    assert SORRY not in [m.text for m in telegram.chats[USER].bot_messages]
    # The user's own question still pages (or says there is no more): it was never an error.
    update = await telegram.send_callback_query(USER, reply.message_id, "more:2:3")
    await telegram.wait_until(lambda: update in telegram.callback_answers)
    assert telegram.callback_answers[update].get("text") != SEARCH_EXPIRED
    await asyncio.sleep(0.5)  # time for an apology, were the page an error
    assert SORRY not in [m.text for m in telegram.chats[USER].bot_messages]
