"""Publication dates, as ISO 8601, from the many forms sources write them in."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, date, datetime

from index.formats.text import one_line

_DATE_LAYOUTS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%A, %B %d, %Y")
_DATETIME_LAYOUTS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def normalize_date(value: object) -> str | None:
    """Return a date as ISO 8601: `YYYY-MM-DD`, or a full datetime when a time is given.

    Accepts ISO strings, RFC 822 dates (feeds), a few spelled-out forms ("March 3, 2026"),
    `date`/`datetime`/`time.struct_time` values and Unix timestamps (seconds or milliseconds).
    Text that is not a date is returned as given; other values give `None`.
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
    text = one_line(value)[:100]
    return parse_date_text(text) or text or None


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
