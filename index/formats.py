"""Parse one source document (text, Markdown, HTML, JSON, feed) into article fields.

Each parser takes the document's text and returns `Draft`s (articles without an id yet) and
`Problem`s (entries it could not use, with a line or entry number). Parsers never raise on bad
input; `index.ingest` turns drafts into articles and problems into skipped items.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import feedparser
import lxml.html
import trafilatura
import yaml


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

TITLE_FIELDS = ("title", "headline", "name")
TEXT_FIELDS = ("text", "body", "content", "article", "description", "summary")
URL_FIELDS = ("url", "link", "href")
DATE_FIELDS = ("date", "published", "published_at", "pubDate", "datePublished", "created_at")
SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
ID_FIELDS = ("id", "guid", "uuid", "_id")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr")


def clean_text(text: str) -> str:
    """Drop control characters, unwrap hard-wrapped lines, and trim each paragraph."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _looks_hard_wrapped(text):
        text = _unwrap(text)
    paragraphs = (" ".join(p.split()) for p in text.split("\n"))
    return "\n".join(p for p in paragraphs if p)


def _looks_hard_wrapped(text: str) -> bool:
    """Whether lines were broken at a fixed width (newswire style) rather than at paragraphs."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 3:
        return False
    short = sum(len(line) <= 90 for line in lines)
    open_ended = sum(not line.rstrip().endswith((".", "!", "?", '"', "”", ":")) for line in lines)
    return short >= 0.7 * len(lines) and open_ended >= 0.5 * len(lines)


def _unwrap(text: str) -> str:
    """Join wrapped lines; a blank line or an indented line starts a new paragraph."""
    paragraphs: list[list[str]] = [[]]
    for line in text.split("\n"):
        if not line.strip() or line[:1] in (" ", "\t"):
            paragraphs.append([])
        if line.strip():
            paragraphs[-1].append(line.strip())
    return "\n".join(" ".join(p) for p in paragraphs if p)


def normalize_date(value: object) -> str | None:
    """Return an ISO date (YYYY-MM-DD) for the usual date forms, the text itself otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, time.struct_time):
        return date(value.tm_year, value.tm_mon, value.tm_mday).isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value)).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()[:100]
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    for layout in ("%d-%b-%Y %H:%M:%S.%f", "%B %d, %Y", "%d %B %Y", "%b %d, %Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    return text or None


def parse_txt(text: str) -> Parsed:
    """First non-empty line is the title; the rest is the body."""
    lines = text.replace("\r\n", "\n").split("\n")
    for n, line in enumerate(lines):
        if line.strip():
            body = clean_text("\n".join(lines[n + 1 :]))
            if not body:
                yield Problem(None, "no article text after the title line")
                return
            yield Draft(title=" ".join(line.split()), text=body)
            return
    yield Problem(None, "empty file")


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1")
_MD_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)")


def parse_markdown(text: str) -> Parsed:
    """Markdown with optional YAML front matter (title, url, date, source)."""
    meta: dict[str, Any] = {}
    body = text.replace("\r\n", "\n")
    found = _FRONT_MATTER.match(body)
    if found:
        try:
            loaded = yaml.safe_load(found.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else None
            yield Problem(line, f"front matter is not valid YAML ({_first_line(exc)})")
            return
        if loaded is not None and not isinstance(loaded, dict):
            yield Problem(2, "front matter must be a mapping of fields")
            return
        meta = loaded or {}
        body = body[found.end() :]
    lines = body.split("\n")
    title = _text_field(meta, TITLE_FIELDS)
    if not title:
        for n, line in enumerate(lines):
            if line.strip():
                title = _MD_PREFIX.sub("", line).strip()
                del lines[n]
                break
    plain = [
        _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", _MD_PREFIX.sub("", line))) for line in lines
    ]
    paragraphs = "\n".join(plain)
    yield _draft(meta, title=title, text=paragraphs)


def parse_html(text: str, url: str | None = None) -> Parsed:
    """Article text and metadata extracted by trafilatura."""
    try:
        extracted = trafilatura.bare_extraction(text, url=url, with_metadata=True)
        document = extracted if isinstance(extracted, dict | None) else extracted.as_dict()
    except Exception as exc:  # trafilatura raises assorted lxml errors on broken markup
        yield Problem(None, f"HTML could not be parsed ({_first_line(exc)})")
        return
    if not isinstance(document, dict) or not (document.get("text") or "").strip():
        yield Problem(None, "no article text found in the HTML")
        return
    title = (document.get("title") or "").strip()
    body = clean_text(document["text"])
    first, _, rest = body.partition("\n")
    if title and first.strip() == title and rest.strip():
        body = rest
    yield Draft(
        title=title or body.split("\n", 1)[0][:120],
        text=body,
        source=document.get("sitename") or document.get("hostname"),
        date=normalize_date(document.get("date")),
        url=document.get("url") or url,
    )


def parse_jsonl(text: str) -> Parsed:
    """One JSON object per line; blank lines are ignored."""
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield Problem(n, f"invalid JSON ({_first_line(exc)})")
            continue
        yield _record(record, n)


def parse_json(text: str) -> Parsed:
    """An article object, an array of them, or an object with an "articles"/"items" array."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        yield Problem(getattr(exc, "lineno", None), f"invalid JSON ({_first_line(exc)})")
        return
    if isinstance(data, dict):
        for key in ("articles", "items", "entries", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for n, record in enumerate(records, 1):
        yield _record(record, n)


def parse_feed(content: bytes | str) -> Parsed:
    """RSS or Atom, through feedparser; each entry is an article."""
    feed = feedparser.parse(content)
    entries = feed.get("entries") or []
    if not entries:
        if feed.get("bozo"):
            reason = _first_line(feed.get("bozo_exception", "unreadable"))
            yield Problem(None, f"not a valid RSS/Atom feed ({reason})")
        else:
            yield Problem(None, "the feed has no entries")
        return
    outlet = (feed.get("feed") or {}).get("title") or None
    for n, entry in enumerate(entries, 1):
        contents = entry.get("content") or []
        raw = contents[0].get("value", "") if contents else entry.get("summary", "")
        body = html_to_text(raw or "")
        title = " ".join((entry.get("title") or "").split())
        if not body:
            yield Problem(n, "feed entry has no text")
            continue
        yield Draft(
            title=title or body.split("\n", 1)[0][:120],
            text=body,
            source=outlet,
            date=normalize_date(entry.get("published_parsed") or entry.get("updated_parsed"))
            or normalize_date(entry.get("published") or entry.get("updated")),
            url=entry.get("link") or None,
            id=entry.get("id") or None,
        )


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment, one paragraph per block element."""
    if "<" not in fragment:
        return clean_text(fragment)
    try:
        tree = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in tree.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    for junk in tree.iter("script", "style"):
        junk.drop_tree()
    return clean_text(tree.text_content())


def _record(record: object, n: int) -> Draft | Problem:
    """Turn one JSON record into a draft, accepting the common field names."""
    if not isinstance(record, dict):
        return Problem(n, "expected a JSON object")
    text = _text_field(record, TEXT_FIELDS)
    if not text:
        return Problem(n, "no article text (text, body or content)")
    return _draft(record, title=_text_field(record, TITLE_FIELDS), text=text, n=n)


def _draft(
    fields: Mapping[str, Any], *, title: str | None, text: str, n: int | None = None
) -> Draft | Problem:
    """Build a draft from `fields` plus an already chosen title and body."""
    body = clean_text(text)
    if not body:
        return Problem(n, "empty article text")
    record_id = next((fields[k] for k in ID_FIELDS if fields.get(k) not in (None, "")), None)
    return Draft(
        title=" ".join((title or body.split("\n", 1)[0][:120]).split()),
        text=body,
        source=_text_field(fields, SOURCE_FIELDS),
        date=normalize_date(next((fields[k] for k in DATE_FIELDS if fields.get(k)), None)),
        url=_text_field(fields, URL_FIELDS),
        id=str(record_id) if record_id is not None else None,
    )


def _text_field(fields: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """Return the first of `names` whose value is a non-empty string (or a named mapping)."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, dict):  # e.g. "source": {"name": "Reuters"}
            value = value.get("name") or value.get("title")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _first_line(error: object) -> str:
    """Return the first line of an error's message, shortened."""
    return (str(error).strip().split("\n", 1)[0] or type(error).__name__)[:200]
