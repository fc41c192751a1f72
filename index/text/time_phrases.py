"""Time expressions in a question ("yesterday", "last week", "in January") and the span each names.

`candidates` finds the expressions of a question by a table of patterns (`_RULES`), each with the
rule that reads it into a span of aware datetimes; `is_strict` says whether an expression names
the news's own time or a calendar date (the two kinds of period of `index.text.timeframe`, which
turns a span into a `Period`).

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
an absolute expression is read by dateparser's `DateDataParser` (`read_date`), which also says
how much of it was given (a day, a month or a year) and picks the most recent past month for
"in January".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo

from dateparser.date import DateDataParser  # type: ignore[import-untyped]

# A stretch of time, `start <= t < end`, as two aware datetimes.
Span = tuple[datetime, datetime]


# -- calendar arithmetic --------------------------------------------------------------------------


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    """Return the first instant of `day` in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def days(first: date, count: int, zone: tzinfo | None) -> Span:
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
        return days(today + timedelta(days=shift), 1, zone)
    if unit == "week":  # ISO weeks: Monday to Sunday
        return days(today - timedelta(days=today.weekday()) + timedelta(weeks=shift), 7, zone)
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


def read_date(text: str, now: datetime) -> Span | None:
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
    return days(when.date(), 1, zone)


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
    return days(monday + timedelta(days=5), 2, now.tzinfo)


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
    return days(_weekday(now, match["weekday"], before_today=before_today), 1, now.tzinfo)


def _since(match: re.Match[str], now: datetime) -> Span | None:
    """Since Monday, since January, since 6 February: from then to the end of today."""
    if match["weekday"]:
        start = _midnight(_weekday(now, match["weekday"], before_today=False), now.tzinfo)
        return start, _tomorrow(now)
    span = read_date(match["date"], now)
    return None if span is None else (span[0], _tomorrow(now))


def _absolute(match: re.Match[str], now: datetime) -> Span | None:
    """In January, in 2025, on 6 February 2026, 2026-02-06: the day, month or year named."""
    return read_date(match["date"], now)


_YEAR_AT_END = re.compile(rf"{_YEAR}$")


def _between(match: re.Match[str], now: datetime) -> Span | None:
    """Between March and May 2025, from 2020 to 2024: the start of one to the end of the other."""
    first, last = match["first"] or match["first2"], match["last"]
    year = _YEAR_AT_END.search(last)
    if year and not _YEAR_AT_END.search(first) and not first.isdigit():
        first = f"{first} {year.group(0)}"  # "March" in "between March and May 2025" is 2025's
    start, end = read_date(first, now), read_date(last, now)
    return None if start is None or end is None else (start[0], end[1])


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


# -- reading a question --------------------------------------------------------------------------


def candidates(question: str, limit: int) -> list[tuple[re.Match[str], Rule]]:
    """Return the first `limit` time expressions of a question and how to read each.

    Leftmost first, the longest first at one place. Each pattern's matches are taken in order and
    no more than `limit` of them, so the work is bounded by the question's length.
    """
    matches = [
        (m, rule)
        for pattern, rule in _RULES
        for m in itertools.islice(pattern.finditer(question), limit)
    ]
    return sorted(matches, key=lambda mr: (mr[0].start(), -mr[0].end()))[:limit]


def is_strict(rule: Rule, match: re.Match[str]) -> bool:
    """Whether the expression names the news's own time, not a calendar date.

    The strict and soft periods of `index.text.timeframe`'s module doc.
    """
    if rule is _since:
        return match["weekday"] is not None
    return rule not in (_absolute, _between)
