"""Questions about time: find "yesterday", "last week", "in January" in a question.

`find_period` finds one time expression in a question and returns the period it names (a
half-open interval of aware datetimes in the bot's time zone) and the words left to search for.
`NewsIndex.ask` answers from the articles dated in the period (`article_spans`, `Period.holds`).

Two kinds of period, because a date in a question does not always mean the news's own date:

- *strict*: the words name when the news came out ("yesterday", "last week", "this morning",
  "2 days ago", "since Monday"). Only articles of the period answer, and the words are taken out
  of the question, so BM25 does not look for "yesterday" in the articles.
- *soft*: a calendar date ("in 2025", "in January", "on 6 February 2026", "between March and
  May", "since 2020"), which may be the date of the fact asked about ("How much was China-Russia
  trade in 2025?" is answered by an article of 2026). Articles of the period are tried first, with
  the question whole (the article's own "2025" is good evidence); when none of them answers, the
  whole index does (`NewsIndex.ask`).

An expression is recognised only by an explicit pattern a person would read as time, never by
a month name or a weekday alone ("May", "Sun", "march"), and read by calendar arithmetic or, for
the date inside an absolute one, by dateparser (`index.text.time_phrases`, which says why
dateparser's own search is not used).

A period that starts after now names the future ("in 2030"): no article can be from it, so it
is left in the question as words and no period is returned.

Only the first `MAX_CANDIDATES` expressions of a question are read (leftmost first): reading one
costs up to about a millisecond (dateparser), and a stranger's 4,096 characters of "in 2150"
would otherwise be 500 reads (0.6 s of CPU, docs/reliability.md "Leaks and bounds").

The bot's time zone is `NEWSBOT_TIMEZONE` (an IANA name such as "Europe/Berlin"), default UTC,
read by `timezone_from_env`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from index.text.time_phrases import Span, candidates, days, is_strict, read_date

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

TIMEZONE_ENV = "NEWSBOT_TIMEZONE"
DEFAULT_TIMEZONE = "UTC"
# Time expressions read per question, leftmost first (the module doc): a question a person asks
# names one or two.
MAX_CANDIDATES = 4


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of time a question asks about: `start <= t < end`.

    Attributes:
        start: First instant of the period (aware).
        end: First instant after the period (aware).
        text: The words of the question that named it, as written ("last week").
        strict: Only articles of the period may answer (the module doc); False for a calendar
            date that may be the fact's rather than the news's.
    """

    start: datetime
    end: datetime
    text: str
    strict: bool = True

    def contains(self, article_date: str | None) -> bool:
        """Return whether an article dated `article_date` may be from this period.

        Args:
            article_date: The article's date as the index stores it (`Article.date`): an ISO
                date (the whole day, in the period's time zone, overlapping the period counts),
                an ISO datetime (naive ones are taken in the period's time zone), or anything
                else. Undated and unreadable dates never match.
        """
        span = date_span(article_date, self.start.tzinfo)
        return span is not None and span[0] < self.end and span[1] > self.start

    def label(self) -> str:
        """Return the period for a person, with its days: 'yesterday (29 Nov 2026)'.

        A period of several days gives its first and last ('in 2025 (1 Jan 2025 - 31 Dec
        2025)'); an open one only its known end ('from 2026-01-05 (5 Jan 2026 on)').
        """
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        if first == last:
            days = _day_label(first)
        elif self.start.year <= 1:
            days = f"up to {_day_label(last)}"
        elif self.end.year >= 9999:
            days = f"{_day_label(first)} on"
        else:
            days = f"{_day_label(first)} - {_day_label(last)}"
        return f"{self.text} ({days})" if self.text else days

    def holds(self, starts: FloatArray, ends: FloatArray) -> BoolArray:
        """Return which of the articles whose `article_spans` are given may be from the period."""
        return (starts < self.end.timestamp()) & (ends > self.start.timestamp())

    def to_json(self) -> dict[str, object]:
        """Return the period in the CLI's stable JSON shape."""
        return {  # an open end is null
            "start": None if self.start.year <= 1 else self.start.isoformat(),
            "end": None if self.end.year >= 9999 else self.end.isoformat(),
            "text": self.text,
            "strict": self.strict,
        }


def _day_label(day: date) -> str:
    """Return '29 Nov 2026'."""
    return f"{day.day} {day.strftime('%b %Y')}"


def shown_date(value: str | None) -> str | None:
    """Return an article's ISO date for a person ('6 Mar 1987'), else the value as given."""
    if not value:
        return None
    try:
        return _day_label(date.fromisoformat(value[:10]))
    except ValueError:
        return value


def date_span(article_date: str | None, zone: tzinfo | None) -> Span | None:
    """Return the stretch of time an article's stored date stands for, or None.

    An ISO date is its whole day in `zone` (so a period overlapping that day holds it); an ISO
    datetime is one instant (a naive one is taken in `zone`), as a microsecond; anything else,
    and no date, is None: an undated article never matches a dated question.
    """
    if not article_date:
        return None
    try:
        day = date.fromisoformat(article_date)
    except ValueError:
        pass
    else:
        return days(day, 1, zone)
    try:
        moment = datetime.fromisoformat(article_date)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment, moment + timedelta(microseconds=1)


def article_spans(
    dates: Sequence[str | None], zone: tzinfo | None
) -> tuple[FloatArray, FloatArray]:
    """Return the start and end (POSIX seconds) of each article's `date_span`.

    Undated articles get NaN, which no `Period.holds` comparison accepts.
    """
    starts = np.full(len(dates), np.nan)
    ends = np.full(len(dates), np.nan)
    for i, article_date in enumerate(dates):
        span = date_span(article_date, zone)
        if span is not None:
            starts[i], ends[i] = span[0].timestamp(), span[1].timestamp()
    return starts, ends


@dataclass(frozen=True, slots=True)
class DatedQuestion:
    """A question split into the period it asks about and the words left to search for.

    Attributes:
        period: The period named in the question.
        question: The question with the time expression taken out.
    """

    period: Period
    question: str


def timezone_from_env(env: Mapping[str, str] | None = None) -> ZoneInfo:
    """Return the time zone named by `$NEWSBOT_TIMEZONE`, else UTC.

    Args:
        env: The environment to read; `os.environ` when None.

    Raises:
        ValueError: The name is not an IANA time zone, with the name in the message.
    """
    env = os.environ if env is None else env
    name = env.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{TIMEZONE_ENV}: unknown time zone {name!r}") from exc


def find_period(question: str, now: datetime, zone: tzinfo | None = None) -> DatedQuestion | None:
    """Return the period a question asks about and the question without it, or None.

    Args:
        question: The question as asked.
        now: The current time (aware).
        zone: The time zone calendar days are counted in; `now`'s own when None.

    Returns:
        The first time expression found (leftmost; the longest at the same place), or None
        when there is none, it names no real date, or it lies in the future.
    """
    local_now = now.astimezone(zone) if zone is not None else now
    for match, rule in candidates(question, MAX_CANDIDATES):
        span = rule(match, local_now)
        if span is None or span[0] >= span[1] or span[0] > local_now:
            continue
        strict = is_strict(rule, match)
        period = Period(span[0], span[1], match.group(0).strip(), strict)
        rest = question[: match.start()] + " " + question[match.end() :]
        return DatedQuestion(period, _tidy(rest))
    return None


def period_between(since: str | None, until: str | None, now: datetime) -> Period:
    """Return the period from `since` to the end of `until` (`newsbot ask --since/--until`).

    Each is a date as a person writes it ("2026-02-01", "6 February 2026", "January",
    "yesterday", "3 days ago"), read by dateparser at `now` in `now`'s time zone. `until` counts
    whole: "--until 2026-02-06" includes that day. A missing bound is open. Strict: only articles
    of the period answer.

    Raises:
        ValueError: A bound is not a date, or the period is empty; the message names it.
    """
    start = _bound(since, now, "--since")[0] if since else datetime.min.replace(tzinfo=UTC)
    end = _bound(until, now, "--until")[1] if until else datetime.max.replace(tzinfo=UTC)
    if start >= end:
        raise ValueError(f"--since {since!r} is not before --until {until!r}")
    if since and until:
        words = f"from {since} to {until}"
    else:
        words = f"from {since}" if since else f"up to {until}"
    return Period(start, end, words, strict=True)


def _bound(text: str, now: datetime, flag: str) -> Span:
    """Return the day, month or year a flag's date names (a relative one: its whole day)."""
    dated = find_period(text, now)
    if dated is not None and not dated.question.strip(" ,.?!"):
        return dated.period.start, dated.period.end
    span = read_date(text, now)
    if span is None:
        raise ValueError(f"{flag}: not a date: {text!r}")
    return span


def _tidy(text: str) -> str:
    """Return a question with the gap left by a removed expression closed."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([?!.,;:])", r"\1", text).lstrip(",;:.?! ")
