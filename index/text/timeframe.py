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

Why a table of patterns first and dateparser second: dateparser's own `search.search_dates`
finds expressions inside running text, but measured on questions (see docs/live.md) it takes
"the May government" for May, "Sun Microsystems" for a Sunday, "march in Paris" for March and
"tariffs of 25%" for the 25th, and it returns points in time, not periods ("last week" comes
back as seven days ago, "in 2025" as today's date in 2025). A false period is worse than a
missed one: it hides every right answer. So an expression is recognised here only by an
explicit pattern that a person would read as time: a relative word ("yesterday", "this
morning", "2 days ago"), a calendar unit after "this"/"last"/"past", or a date after a
preposition ("in", "since", "on", "between ... and", "from ... to") or with a day and a month
side by side ("6 February 2026", "February 6, 2026", "2026-02-06"). A month name or a weekday
alone ("May", "Sun", "march") never counts. Relative periods are calendar arithmetic in the
table below (dateparser has no notion of "the calendar week before this one"); the date inside
an absolute expression is read by dateparser's `DateDataParser`, which also says how much of it
was given (a day, a month or a year) and picks the most recent past month for "in January".

A period that starts after now names the future ("in 2030"): no article can be from it, so it
is left in the question as words and no period is returned.

Only the first `MAX_CANDIDATES` expressions of a question are read (leftmost first): reading one
costs up to about a millisecond (dateparser), and a stranger's 4,096 characters of "in 2150"
would otherwise be 500 reads (0.6 s of CPU, docs/reliability.md "Leaks and bounds").

The bot's time zone is `NEWSBOT_TIMEZONE` (an IANA name such as "Europe/Berlin"), default UTC,
read by `timezone_from_env`.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from dateparser.date import DateDataParser  # type: ignore[import-untyped]

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
        return _days(day, 1, zone)
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
    for match, rule in _candidates(question):
        span = rule(match, local_now)
        if span is None or span[0] >= span[1] or span[0] > local_now:
            continue
        strict = _is_strict(rule, match)
        period = Period(span[0], span[1], match.group(0).strip(), strict)
        rest = question[: match.start()] + " " + question[match.end() :]
        return DatedQuestion(period, _tidy(rest))
    return None


def _candidates(question: str) -> list[tuple[re.Match[str], Rule]]:
    """Return the first `MAX_CANDIDATES` time expressions of a question and how to read each.

    Leftmost first, the longest first at one place. Each pattern's matches are taken in order and
    no more than `MAX_CANDIDATES` of them, so the work is bounded by the question's length.
    """
    matches = [
        (m, rule)
        for pattern, rule in _RULES
        for m in itertools.islice(pattern.finditer(question), MAX_CANDIDATES)
    ]
    return sorted(matches, key=lambda mr: (mr[0].start(), -mr[0].end()))[:MAX_CANDIDATES]


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
    span = _read_date(text, now)
    if span is None:
        raise ValueError(f"{flag}: not a date: {text!r}")
    return span


# -- calendar arithmetic --------------------------------------------------------------------------

Span = tuple[datetime, datetime]


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    """Return the first instant of `day` in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _days(first: date, count: int, zone: tzinfo | None) -> Span:
    """Return `count` whole days from `first` on."""
    return _midnight(first, zone), _midnight(first + timedelta(days=count), zone)


def _month_start(year: int, month: int, shift: int = 0) -> date:
    """Return the first day of the month `shift` months after `year`-`month`."""
    index = year * 12 + (month - 1) + shift
    return date(index // 12, index % 12 + 1, 1)


def _unit(now: datetime, unit: str, shift: int) -> Span:
    """Return the calendar day/week/month/year `shift` units from the one holding `now`."""
    today, zone = now.date(), now.tzinfo
    if unit == "day":
        return _days(today + timedelta(days=shift), 1, zone)
    if unit == "week":  # ISO weeks: Monday to Sunday
        return _days(today - timedelta(days=today.weekday()) + timedelta(weeks=shift), 7, zone)
    if unit == "month":
        first = _month_start(today.year, today.month, shift)
        return _midnight(first, zone), _midnight(_month_start(first.year, first.month, 1), zone)
    year = today.year + shift
    return _midnight(date(year, 1, 1), zone), _midnight(date(year + 1, 1, 1), zone)


def _tomorrow(now: datetime) -> datetime:
    """Return the end of today: periods reaching "up to now" include the rest of today."""
    return _unit(now, "day", 0)[1]


def _back(now: datetime, count: int, unit: str) -> datetime:
    """Return the instant `count` hours/days/weeks/months/years before `now`."""
    if unit in ("hour", "day", "week"):
        return now - timedelta(**{unit + "s": count})
    months = count * (12 if unit == "year" else 1)
    first = _month_start(now.year, now.month, -months)
    last_day = (_month_start(first.year, first.month, 1) - timedelta(days=1)).day
    return now.replace(year=first.year, month=first.month, day=min(now.day, last_day))


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(now: datetime, name: str, *, before_today: bool) -> date:
    """Return the most recent `name`day on or before today (strictly before with the flag)."""
    back = (now.weekday() - _WEEKDAYS.index(name.lower())) % 7
    return now.date() - timedelta(days=back or (7 if before_today else 0))


# -- dates read by dateparser ----------------------------------------------------------------------


def _read_date(text: str, now: datetime) -> Span | None:
    """Return the day, month or year an absolute date names, in `now`'s time zone.

    A date without a year is the most recent one not in the future ("in January" asked in
    February is this January; asked in December, also this January).
    """
    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "PREFER_DAY_OF_MONTH": "first",
    }
    try:  # a reader costs microseconds; its settings (now) are fixed when it is made
        found = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    except (ValueError, OverflowError):
        return None
    when: datetime | None = found.date_obj
    if when is None:
        return None
    zone = now.tzinfo
    if found.period == "year":
        return _midnight(date(when.year, 1, 1), zone), _midnight(date(when.year + 1, 1, 1), zone)
    if found.period == "month":
        first = date(when.year, when.month, 1)
        return _midnight(first, zone), _midnight(_month_start(when.year, when.month, 1), zone)
    return _days(when.date(), 1, zone)


# -- the expressions ------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
# Not inside a word, a possessive ("May's"), a compound, a fiscal year ("1987/88") or a number.
_END = r"(?![\w'’/%-]|[.,]\d)"
_DAY_MONTH = rf"(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+{_DAY}{_END})"
_DAY_DATE = rf"(?:\d{{4}}-\d\d-\d\d|{_DAY_MONTH}(?:,?\s+{_YEAR})?)"
_DATE = rf"(?:{_DAY_DATE}|{_MONTH}(?:,?\s+{_YEAR})?|{_YEAR}){_END}"
_WEEKDAY = r"(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
_COUNT = r"(?P<count>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_NUMBERS = (
    *("one", "two", "three", "four", "five", "six"),
    *("seven", "eight", "nine", "ten", "eleven", "twelve"),
)
_PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 18), "evening": (18, 24), "night": (18, 24)}
_SHIFTS = {"this": 0, "last": -1, "previous": -1}

Rule = Callable[[re.Match[str], datetime], Span | None]


def _count(match: re.Match[str]) -> int:
    """Return the number a `_COUNT` group names ("a week ago", "2 days ago", "three weeks")."""
    word = match["count"].lower()
    if word.isdigit():
        return int(word)
    return 1 if word in ("a", "an") else _NUMBERS.index(word) + 1


def _hours(now: datetime, day_shift: int, first: int, last: int) -> Span:
    """Return hours `first` to `last` (24: midnight after) of the day `day_shift` days away."""
    start, midnight = _unit(now, "day", day_shift)
    return start.replace(hour=first), midnight if last == 24 else start.replace(hour=last)


def _relative_day(match: re.Match[str], now: datetime) -> Span:
    """Today, yesterday, the day before yesterday, and parts of them ("this morning")."""
    words = match.group(0).lower().split()
    shift = -2 if "before" in words else -1 if "yesterday" in words else 0
    part = words[-1] if words[-1] in _PARTS_OF_DAY else "night" if "tonight" in words else None
    if part is None:
        return _unit(now, "day", shift)
    return _hours(now, shift, *_PARTS_OF_DAY[part])


def _last_night(match: re.Match[str], now: datetime) -> Span:
    """Last night: yesterday 18:00 to today 06:00."""
    return _hours(now, -1, 18, 24)[0], _hours(now, 0, 0, 6)[1]


def _calendar_unit(match: re.Match[str], now: datetime) -> Span:
    """This/last/previous week, month or year, as calendar units."""
    return _unit(now, match["unit"].lower(), _SHIFTS[match["which"].lower()])


def _weekend(match: re.Match[str], now: datetime) -> Span:
    """This weekend (of this ISO week) or last weekend: Saturday and Sunday."""
    monday = _unit(now, "week", _SHIFTS[match["which"].lower()])[0].date()
    return _days(monday + timedelta(days=5), 2, now.tzinfo)


def _units_ago(match: re.Match[str], now: datetime) -> Span:
    """N days, weeks, months or years ago: that calendar unit."""
    return _unit(now, match["unit"].lower(), -_count(match))


def _rolling(match: re.Match[str], now: datetime) -> Span:
    """The past week, the last 3 days, the past 24 hours: from then to the end of today."""
    count = _count(match) if match["count"] else 1
    return _back(now, count, match["unit"].lower()), _tomorrow(now)


def _on_weekday(match: re.Match[str], now: datetime) -> Span:
    """On Monday (the latest Monday, today included) or last Monday (before today)."""
    before_today = match.group(0).lower().startswith("last")
    return _days(_weekday(now, match["weekday"], before_today=before_today), 1, now.tzinfo)


def _since(match: re.Match[str], now: datetime) -> Span | None:
    """Since Monday, since January, since 6 February: from then to the end of today."""
    if match["weekday"]:
        start = _midnight(_weekday(now, match["weekday"], before_today=False), now.tzinfo)
        return start, _tomorrow(now)
    span = _read_date(match["date"], now)
    return None if span is None else (span[0], _tomorrow(now))


def _absolute(match: re.Match[str], now: datetime) -> Span | None:
    """In January, in 2025, on 6 February 2026, 2026-02-06: the day, month or year named."""
    return _read_date(match["date"], now)


_YEAR_AT_END = re.compile(rf"{_YEAR}$")


def _between(match: re.Match[str], now: datetime) -> Span | None:
    """Between March and May 2025, from 2020 to 2024: the start of one to the end of the other."""
    first, last = match["first"] or match["first2"], match["last"]
    year = _YEAR_AT_END.search(last)
    if year and not _YEAR_AT_END.search(first) and not first.isdigit():
        first = f"{first} {year.group(0)}"  # "March" in "between March and May 2025" is 2025's
    start, end = _read_date(first, now), _read_date(last, now)
    return None if start is None or end is None else (start[0], end[1])


def _is_strict(rule: Rule, match: re.Match[str]) -> bool:
    """Whether the expression names the news's own time (the module doc), not a calendar date."""
    if rule is _since:
        return match["weekday"] is not None
    return rule not in (_absolute, _between)


def _rule(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = (
    (
        _rule(
            r"\b(?:the\s+day\s+before\s+yesterday|yesterday(?:\s+(?:morning|afternoon|evening))?"
            r"|(?<!usa\s)(?<!russia\s)today|tonight|this\s+(?:morning|afternoon|evening))\b"
        ),
        _relative_day,
    ),
    (_rule(r"\blast\s+night\b"), _last_night),
    (_rule(r"\b(?P<which>this|last|previous)\s+(?P<unit>week|month|year)\b"), _calendar_unit),
    (_rule(r"\b(?P<which>this|last|previous)\s+weekend\b"), _weekend),
    (_rule(rf"\b{_COUNT}\s+(?P<unit>day|week|month|year)s?\s+ago\b"), _units_ago),
    (
        _rule(
            rf"\b(?:(?:in|over|during)\s+)?(?:the\s+)?(?:past|last)\s+(?:{_COUNT}\s+)?"
            r"(?P<unit>hour|day|week|month|year)s?\b"
        ),
        _rolling,
    ),
    (_rule(rf"\b(?:on|last)\s+{_WEEKDAY}"), _on_weekday),
    (_rule(rf"\bsince\s+(?:{_WEEKDAY}|(?:the\s+)?(?P<date>{_DATE}))"), _since),
    (
        _rule(
            r"\b(?:in|during|throughout)\s+(?:(?:the\s+month\s+of|early|late)\s+)?"
            rf"(?P<date>(?:{_MONTH}(?:,?\s+{_YEAR})?|{_YEAR}){_END})"
        ),
        _absolute,
    ),
    (_rule(rf"\bon\s+(?:the\s+)?(?P<date>{_DAY_DATE}{_END})"), _absolute),
    (
        _rule(rf"\b(?:the\s+)?(?P<date>(?:\d{{4}}-\d\d-\d\d|{_DAY_MONTH},?\s+{_YEAR}){_END})"),
        _absolute,
    ),
    (
        _rule(
            rf"\b(?:between\s+(?:the\s+)?(?P<first>{_DATE})\s+and"
            rf"|from\s+(?:the\s+)?(?P<first2>{_DATE})\s+(?:to|until|till|through))"
            rf"\s+(?:the\s+)?(?P<last>{_DATE})"
        ),
        _between,
    ),
)


def _tidy(text: str) -> str:
    """Return a question with the gap left by a removed expression closed."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([?!.,;:])", r"\1", text).lstrip(",;:.?! ")
