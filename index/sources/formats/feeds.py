"""RSS and Atom feeds, through feedparser.

XML expansion is capped before parsing: the DOCTYPE's internal subset is taken out, and each
reference to an entity it declared is replaced by the entity's value when that is no longer than
the reference (`&nbsp;` by `&#160;`), else by nothing. A document can then not grow while parsed,
whichever parser reads it. Measured (docs/reliability.md, `bench/hostile_feeds.py`): a 2 MB feed
of references to one 100-character entity cost 345 MB of peak memory and 2.6 s in feedparser
(expat's own amplification limit trips only at 100 times the input, past 8 MiB); now about what a
plain 2 MB feed costs. Why not defusedxml: feedparser builds its own SAX parser, and when that
fails it falls back to its loose parser, which expands the declared entities itself; defusedxml
would have to be patched into feedparser's module and would cover the first parser only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import feedparser

from index.sources.formats.dates import normalize_date, parse_date_text
from index.sources.formats.html import html_to_text
from index.sources.formats.records import Draft, Parsed, Problem, first_line
from index.sources.formats.text import headline, one_line, one_line_or_none, paragraphs


def parse_feed(data: bytes, content_type: str | None = None) -> Parsed:
    """RSS or Atom, through feedparser; each entry with text is an article.

    Args:
        data: The feed document as bytes (feedparser finds its encoding).
        content_type: The HTTP Content-Type header, when fetched (may name the charset).
    """
    data, refused = without_internal_subset(data)
    if refused:
        yield Problem(None, f"not a valid RSS/Atom feed ({refused})")
        return
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
        title = one_line_or_none(dict.get(entry, "title"))
        body = _entry_text(entry) or title  # a headline-only entry is read as its headline
        if not body:
            yield Problem(n, "feed entry has no text")
            continue
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


_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def not_a_feed(head: bytes) -> str | None:
    """Return why a document starting with `head` is no RSS/Atom feed, or None if it may be one.

    A look at the root element's name (RSS, Atom or RDF) and the DOCTYPE's entities only, so
    that the poller can tell a "checking your browser" page or an entity bomb from a feed
    without parsing it. UTF-16/32 documents are left to the parser.
    """
    if head.startswith(_WIDE_BOMS) or b"\x00" in head[:4]:
        return None
    root = _ROOT.search(_COMMENT.sub(b"", head))
    if root is None:
        return "not an RSS/Atom feed (no XML element)"
    name = root[1].decode("ascii").rsplit(":", 1)[-1].lower()
    if name in _FEED_ROOTS:
        return EXPANDING if expands(head) else None
    return (
        "not an RSS/Atom feed (an HTML page)"
        if name == "html"
        else (f"not an RSS/Atom feed (a <{name[:40]}> document)")
    )


_DOCTYPE = b"<!DOCTYPE"
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")
_DECLARED = re.compile(rb"<!ENTITY\s+([A-Za-z_][\w.:-]*)\s+(?:\"([^\"]*)\"|'([^']*)')\s*>")
_MOST_ENTITIES = 64  # real feeds declare a few (HTML's nbsp, copy, ...); each costs a pass
_WIDE_ENTITY = tuple(
    "<!ENTITY".encode(c) for c in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


EXPANDING = "refused: its DOCTYPE declares XML entities that expand"


def without_internal_subset(data: bytes) -> tuple[bytes, str | None]:
    """Return `data` without its DOCTYPE's internal subset, and why it is refused, if it is.

    References to the entities the subset declared are replaced by their values when these are
    no longer than the reference, else by nothing. Only the prolog (before the root element) is
    searched for a DOCTYPE: it is valid nowhere else.
    A subset that does not end, more than `_MOST_ENTITIES` declarations, or entity declarations
    in a UTF-16/32 document (not scanned here) refuse the document.
    """
    found = _internal_subset(data)
    if found is None or isinstance(found, str):
        return data, found
    opening, closing, declared = found
    body = data[closing + 1 :]
    for name, value in declared.items():  # bytes.replace: no object per reference
        body = body.replace(b"&" + name + b";", value if _kept(name, value) else b"")
    return data[:opening] + body, None


def expands(head: bytes) -> bool:
    """Return whether the document starting with `head` declares an entity that would expand.

    The poller's look before it keeps a body: an entity bomb is reported as a failing feed
    (`EXPANDING`), not spooled. A DOCTYPE that does not end within `head` is left to
    `without_internal_subset`, which sees the whole document.
    """
    found = _internal_subset(head)
    return isinstance(found, tuple) and not all(_kept(n, v) for n, v in found[2].items())


def _kept(name: bytes, value: bytes) -> bool:
    """Whether a reference `&name;` may be replaced by `value`: never longer than itself."""
    return len(value) <= len(name) + 2


def _internal_subset(data: bytes) -> tuple[int, int, dict[bytes, bytes]] | str | None:
    """Return the DOCTYPE's internal subset (where `[` and `]` are, its entities), or why not.

    None: no DOCTYPE, or one without an internal subset. A string: why the document is refused.
    """
    if any(wide in data for wide in _WIDE_ENTITY):
        return "entity declarations in a UTF-16/32 feed"
    start = data.find(_DOCTYPE)
    root = _FIRST_ELEMENT.search(data)
    if start < 0 or (root is not None and root.start() < start):
        return None
    opening = _subset_start(data, start + len(_DOCTYPE))
    if opening is None:
        return None
    closing = _subset_end(data, opening + 1)
    if closing is None:
        return "a DOCTYPE that does not end"
    declared = {
        name: double or single for name, double, single in _DECLARED.findall(data, opening, closing)
    }
    if len(declared) > _MOST_ENTITIES:
        return f"more than {_MOST_ENTITIES} entity declarations"
    return opening, closing, declared


def _subset_start(data: bytes, at: int) -> int | None:
    """Return where the DOCTYPE's `[` is, or None when it ends (`>`) without one."""
    quote = None
    for i in range(at, len(data)):
        c = data[i]
        if quote is not None:
            quote = None if c == quote else quote
        elif c in b"\"'":
            quote = c
        elif c == ord("["):
            return i
        elif c == ord(">"):
            return None
    return None


def _subset_end(data: bytes, at: int) -> int | None:
    """Return where the internal subset's `]` is (quotes and comments skipped), or None."""
    i = at
    while i < len(data):
        if data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
            continue
        c = data[i]
        if c in b"\"'":
            end = data.find(bytes([c]), i + 1)
            if end < 0:
                return None
            i = end + 1
            continue
        if c == ord("]"):
            return i
        i += 1
    return None
