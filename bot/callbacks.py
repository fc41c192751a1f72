"""What the bot's buttons carry: callback data written and read in one place, checked strictly.

A client can send any callback data (up to 64 bytes), so it is read as untrusted input: only the
exact forms `encode` writes are accepted, numbers are ASCII digits in canonical form (Python's
`str.isdigit` also accepts '²' or '٣') and within bounds, and anything else decodes to None,
which the bot answers as an expired button.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A page of answers starts at most this many answers in: `NewsIndex.ask` reads about 4 x
# (offset + k) hits, so an unbounded offset would be unbounded work for one button.
MAX_OFFSET = 99
# A page of /sources: enough for a million articles at eight a page.
MAX_PAGE = 125_000

_NUMBER = "(0|[1-9][0-9]{0,8})"  # ASCII digits only, no leading zeros, below 10**9
_ANSWERS = re.compile(f"more:{_NUMBER}:{_NUMBER}")
_SOURCES = re.compile(f"src:{_NUMBER}:(gen-[0-9A-Za-z-]{{1,40}})")
_STOP = re.compile(f"unf:{_NUMBER}")
# What `bot.follow`'s handler is registered for (ahead of `bot.browsing.button`).
STOP_FOLLOWING_PATTERN = r"^unf:"


@dataclass(frozen=True, slots=True)
class AnswersPage:
    """A page of answers to a remembered question ("More", "Back", the closest passages).

    Attributes:
        question_id: The question's id in the `QuestionLog`.
        offset: How many answers come before this page.
    """

    question_id: int
    offset: int


@dataclass(frozen=True, slots=True)
class SourcesPage:
    """A page of the /sources list.

    Attributes:
        page: The page number, from 0 (newest articles).
        generation: The index generation the list was made from.
    """

    page: int
    generation: str


@dataclass(frozen=True, slots=True)
class StopFollowing:
    """Stop following a standing question (an alert's button, /following's buttons).

    Attributes:
        standing_id: The question's id in the state file (only its owner can stop it).
    """

    standing_id: int


Button = AnswersPage | SourcesPage | StopFollowing


def encode(button: Button) -> str:
    """Return the callback data for `button` (at most 64 bytes, as Telegram requires)."""
    if isinstance(button, AnswersPage):
        data = f"more:{button.question_id}:{button.offset}"
    elif isinstance(button, SourcesPage):
        data = f"src:{button.page}:{button.generation}"
    else:
        data = f"unf:{button.standing_id}"
    if decode(data) != button:
        raise ValueError(f"cannot encode {button!r}")
    return data


def decode(data: str | None) -> Button | None:
    """Return the button `data` stands for, or None when it is not one this bot wrote."""
    if data is None:
        return None
    if answers := _ANSWERS.fullmatch(data):
        question_id, offset = int(answers[1]), int(answers[2])
        return AnswersPage(question_id, offset) if offset <= MAX_OFFSET else None
    if sources := _SOURCES.fullmatch(data):
        page = int(sources[1])
        return SourcesPage(page, sources[2]) if page <= MAX_PAGE else None
    if stop := _STOP.fullmatch(data):
        return StopFollowing(int(stop[1]))
    return None
