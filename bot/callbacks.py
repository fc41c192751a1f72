"""What the bot's buttons carry: callback data written and read in one place, checked strictly.

A client can send any callback data (up to 64 bytes), so it is read as untrusted input: only the
exact forms `encode` writes are accepted, numbers are ASCII digits in canonical form (Python's
`str.isdigit` also accepts '²' or '٣') and within bounds, and anything else decodes to None,
which the bot answers as an expired button.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

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
_SOURCE_CHOICE = re.compile("feed:(ask|yes|no):([0-9a-f]{16})")


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


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """An admin's button about removing a source: ask to confirm, confirm, or keep it.

    A source (a URL of up to 2,000 characters) does not fit in 64 bytes: the button carries a
    digest of it (`source_key`), which the handler looks up among the current sources.

    Attributes:
        action: "ask" (show the confirmation), "yes" (remove it), "no" (keep it).
        key: The source's `source_key`.
    """

    action: Literal["ask", "yes", "no"]
    key: str


def source_key(source: str) -> str:
    """Return the 16 hex digits that stand for `source` in a button."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


Button = AnswersPage | SourcesPage | StopFollowing | SourceChoice


def encode(button: Button) -> str:
    """Return the callback data for `button` (at most 64 bytes, as Telegram requires)."""
    if isinstance(button, AnswersPage):
        data = f"more:{button.question_id}:{button.offset}"
    elif isinstance(button, SourcesPage):
        data = f"src:{button.page}:{button.generation}"
    elif isinstance(button, StopFollowing):
        data = f"unf:{button.standing_id}"
    else:
        data = f"feed:{button.action}:{button.key}"
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
    if choice := _SOURCE_CHOICE.fullmatch(data):
        action: Literal["ask", "yes", "no"] = (
            "ask" if choice[1] == "ask" else "yes" if choice[1] == "yes" else "no"
        )
        return SourceChoice(action, choice[2])
    return None
