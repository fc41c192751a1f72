"""The state file's records: standing questions, alerts and readers, each read from its row.

Frozen values that `bot.subscriptions` returns and takes; the `*_of` functions turn a row of its
SELECTs (columns in the record's order) into one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

AlertState = Literal["pending", "held", "sent", "summarized"]


@dataclass(frozen=True, slots=True)
class StandingQuestion:
    """A question a user follows.

    Attributes:
        id: Its row id (stable; alerts name it).
        user_id: Whose it is.
        text: As the user wrote it.
        terms: Analyzed when followed, with the index's analyzer.
        vector: Its unit vector, embedded when followed; None without the semantic layer.
    """

    id: int
    user_id: int
    text: str
    terms: tuple[str, ...]
    vector: npt.NDArray[np.float32] | None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert recorded for a user: what to send, and where it stands.

    Attributes:
        id: Its row id.
        user_id: To whom.
        chat_id: The chat to send it to.
        standing_id: The standing question it answers (its "stop following" button).
        story: The story it tells (one alert per user and story).
        title: The headline, for a summary line.
        url: The article's link, for a summary line.
        body: The message, HTML as `bot.render` wrote it.
        state: pending (to send), held (over the hourly cap), sent, summarized.
        created: When it was recorded.
    """

    id: int
    user_id: int
    chat_id: int
    standing_id: int
    story: str
    title: str
    url: str | None
    body: str
    state: AlertState
    created: datetime


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert the percolator found, before it is recorded (`record_matches`)."""

    user_id: int
    standing_id: int
    story: str
    title: str
    url: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Reader:
    """What is kept about a user besides questions: their chat, zone and digest time."""

    user_id: int
    chat_id: int
    timezone: str | None
    digest_at: str | None
    last_digest: datetime | None


def standing_of(row: tuple[object, ...]) -> StandingQuestion:
    """Return a `standing` row (id, user_id, text, terms, vector) as a `StandingQuestion`."""
    qid, user_id, text, terms, blob = row
    vector = None
    if isinstance(blob, bytes):
        vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return StandingQuestion(
        int(str(qid)), int(str(user_id)), str(text), tuple(json.loads(str(terms))), vector
    )


def reader_of(row: tuple[object, ...]) -> Reader:
    """Return a `users` row (user_id, chat_id, timezone, digest_at, last_digest) as a `Reader`."""
    user_id, chat_id, zone, at, last = row
    return Reader(
        int(str(user_id)),
        int(str(chat_id)),
        None if zone is None else str(zone),
        None if at is None else str(at),
        None if last is None else datetime.fromisoformat(str(last)),
    )


def alert_of(row: tuple[object, ...]) -> Alert:
    """Return an `alerts` row (its columns in `Alert`'s order, `sent` left out) as an `Alert`."""
    aid, user_id, chat_id, standing_id, story, title, url, body, state, created = row
    return Alert(
        int(str(aid)),
        int(str(user_id)),
        int(str(chat_id)),
        int(str(standing_id)),
        str(story),
        str(title),
        None if url is None else str(url),
        str(body),
        state,  # type: ignore[arg-type]
        datetime.fromisoformat(str(created)),
    )
