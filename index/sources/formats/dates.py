"""Publication dates, as ISO 8601, from the many forms sources write them in.

A date is a date or nothing: text that reads as no date ("Breaking", "Tue, 31 Feb 2026") makes
an article undated, and a date more than `MAX_AHEAD` after the source was read (a feed's 2099) is
that read time (`clamp_date`), so neither pins an article to the top of newest-first lists. The
stored `date` keeps its ISO form (with its own offset); lists sort by `utc_seconds`, the instant
it names, so "2026-02-06T10:00:00+05:00" comes before "2026-02-06T06:00:00+00:00".
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC, date, datetime, timedelta

from index.sources.formats.text import one_line

# How far after the read time a source's date may lie before it is taken for that read time:
# a day covers every time zone's "today" and small clock errors.
MAX_AHEAD = timedelta(days=1)

_DATE_LAYOUTS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%A, %B %d, %Y")
_DATETIME_LAYOUTS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def normalize_date(value: object) -> str | None:
    """Return a date as ISO 8601: `YYYY-MM-DD`, or a full datetime when a time is given.

    Accepts ISO strings, RFC 822 dates (feeds), a few spelled-out forms ("March 3, 2026"),
    `date`/`datetime`/`time.struct_time` values and Unix timestamps (seconds or milliseconds).
    Text that is not a date ("Breaking", "Tue, 31 Feb 2026") and other values give `None`: the
    article is undated.
    """
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, datetime):
            return value.isoformat(timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, time.struct_time):  # feedparser's, in UTC
            return datetime(*value[:6], tzinfo=UTC).isoformat(timespec="seconds")
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > 100_000_000_000 else value
            return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return None
    if not isinstance(value, str):
        return None
    return parse_date_text(one_line(value)[:100])


def clamp_date(value: str | None, read_at: datetime) -> str | None:
    """Return an ISO date, or `read_at` (ISO, UTC, seconds) when it lies past `MAX_AHEAD` later.

    Args:
        value: A date as `normalize_date` gives it, or None.
        read_at: When the source was read (aware).
    """
    limit = read_at.timestamp() + MAX_AHEAD.total_seconds()
    if value is None or utc_seconds(value) <= limit:
        return value
    return read_at.astimezone(UTC).isoformat(timespec="seconds")


def utc_seconds(value: str | None) -> float:
    """Return the instant a stored date names, in POSIX seconds: the key lists sort by.

    A date alone is its midnight in UTC, a naive datetime is taken in UTC. No date, or text that
    is not an ISO date (an index built before dates were checked), is minus infinity: last in a
    newest-first list.
    """
    if not value:
        return -math.inf
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return -math.inf
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return -math.inf


def parse_date_text(text: str) -> str | None:
    """Return the ISO form of a date string, or None when no known form matches."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).isoformat(timespec="seconds")
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).isoformat(timespec="seconds")
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for layout in _DATE_LAYOUTS:
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    for layout in _DATETIME_LAYOUTS:
        try:
            return datetime.strptime(text, layout).isoformat(timespec="seconds")
        except ValueError:
            continue
    return None
