"""What a parser yields: `Draft`s (articles as read) and `Problem`s (entries it could not use)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Draft:
    """An article's fields as read, before it gets an id and a path."""

    title: str
    text: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """An entry that could not be used: where in the document (1-based), and why."""

    line: int | None
    reason: str


Parsed = Iterator[Draft | Problem]


def first_line(error: object) -> str:
    """Return the first line of an error's message, shortened (for a `Problem`'s reason)."""
    return (str(error).strip().split("\n", 1)[0] or type(error).__name__)[:200]
