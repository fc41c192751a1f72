"""RSS and Atom feeds, through feedparser."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import feedparser

from index.formats.dates import normalize_date, parse_date_text
from index.formats.html import html_to_text
from index.formats.records import Draft, Parsed, Problem, first_line
from index.formats.text import headline, one_line, one_line_or_none, paragraphs


def parse_feed(data: bytes, content_type: str | None = None) -> Parsed:
    """RSS or Atom, through feedparser; each entry with text is an article.

    Args:
        data: The feed document as bytes (feedparser finds its encoding).
        content_type: The HTTP Content-Type header, when fetched (may name the charset).
    """
    headers = {"content-type": content_type} if content_type else None
    # A file object, never bytes or str: feedparser would open those as a path or URL.
    feed = feedparser.parse(
        io.BytesIO(data), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries = feed.get("entries") or []
    if not entries:
        if feed.get("bozo"):
            reason = first_line(feed.get("bozo_exception") or "unreadable")
            yield Problem(None, f"not a valid RSS/Atom feed ({reason})")
        else:
            yield Problem(None, "the feed has no entries")
        return
    channel = feed.get("feed") or {}
    outlet = one_line_or_none(dict.get(channel, "title"))
    for n, entry in enumerate(entries, 1):
        body = _entry_text(entry)
        if not body:
            yield Problem(n, "feed entry has no text")
            continue
        title = one_line_or_none(dict.get(entry, "title"))
        yield Draft(
            title=title or headline(body),
            text=body,
            source=outlet,
            date=_entry_date(entry),
            url=one_line_or_none(dict.get(entry, "link")),
            id=one_line_or_none(dict.get(entry, "id")),
        )


def _entry_date(entry: dict[str, Any]) -> str | None:
    """Return an entry's publication date, with its own time zone when it gives one.

    `dict.get`, because feedparser's own `get` warns (DeprecationWarning) on some missing keys.
    """
    raw = [
        value for key in ("published", "updated") if isinstance(value := dict.get(entry, key), str)
    ]
    for value in raw:
        if parsed := parse_date_text(one_line(value)[:100]):
            return parsed
    for key in ("published_parsed", "updated_parsed"):
        if parsed := normalize_date(dict.get(entry, key)):
            return parsed
    return normalize_date(raw[0]) if raw else None


def _entry_text(entry: dict[str, Any]) -> str:
    """Return an entry's longest content, else its summary, as plain text."""
    candidates = [c for c in dict.get(entry, "content") or [] if isinstance(c, Mapping)]
    summary = dict.get(entry, "summary")
    if isinstance(summary, str):
        candidates.append({**(dict.get(entry, "summary_detail") or {}), "value": summary})
    for candidate in sorted(candidates, key=lambda c: -len(c.get("value") or "")):
        value = candidate.get("value")
        if not isinstance(value, str):
            continue
        plain = "html" not in str(candidate.get("type") or "text/html")
        text = paragraphs(value) if plain else html_to_text(value)
        if text:
            return text
    return ""
