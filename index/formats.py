"""Parse one source document (text, Markdown, HTML, JSON, feed) into article fields.

Each parser takes the document's decoded text (a feed: its bytes) and yields `Draft`s (articles
without an id or path yet) and `Problem`s (entries it could not use, with a 1-based line or entry
number). Parsers never raise on bad input; `index.ingest` turns drafts into articles and problems
into skipped items.

Article text is plain text with one paragraph per line: the sentence splitter splits paragraphs
on newlines first, so a line break in the middle of a sentence would cut it in two.
"""

from __future__ import annotations

import email.utils
import io
import itertools
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import feedparser
import lxml.etree
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

TITLE_FIELDS = ("title", "headline")
TEXT_FIELDS = ("text", "body", "content", "article", "description", "summary")
URL_FIELDS = ("url", "link", "href")
DATE_FIELDS = ("date", "published", "published_at", "pubDate", "datePublished", "created_at")
SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
ID_FIELDS = ("id", "guid", "uuid", "_id")
TITLE_LIMIT = 120

# -- text ----------------------------------------------------------------------------------------

# Control characters (but tab and newline) and lone surrogates, which cannot be encoded as UTF-8.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n"})
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "'", ")", "”", "’", "»")


def scrub(text: str) -> str:
    """Return `text` with every line break as a newline and control characters as spaces."""
    return _INVISIBLE.sub(" ", text.replace("\r\n", "\n").translate(_BREAKS))


def one_line(text: str) -> str:
    """Return `text` as one line: control characters dropped, whitespace collapsed."""
    return " ".join(scrub(text).split())


def paragraphs(text: str, *, unwrap: bool | None = None) -> str:
    """Return `text` with one paragraph per line, whitespace collapsed, blank lines dropped.

    Args:
        text: Plain text.
        unwrap: Whether lines were hard-wrapped at a fixed width (newswire style): then a
            paragraph starts after a blank line or at an indented line, and the other line
            breaks become spaces. `None` guesses it from the text (`looks_hard_wrapped`).
    """
    lines = scrub(text).split("\n")
    if unwrap is None:
        unwrap = looks_hard_wrapped(lines)
    if unwrap:
        blocks: list[list[str]] = [[]]
        for line in lines:
            if not line.strip() or line[:1].isspace():
                blocks.append([])
            blocks[-1].append(line)
        lines = [" ".join(block) for block in blocks]
    return "\n".join(p for p in (" ".join(line.split()) for line in lines) if p)


def looks_hard_wrapped(lines: list[str]) -> bool:
    """Whether lines were broken at a fixed width rather than at paragraph ends.

    Wrapped text has short lines, and most breaks between two unindented lines fall in the
    middle of a sentence; paragraph-per-line text has long lines that end sentences.
    """
    content = [line.rstrip() for line in lines if line.strip()]
    if len(content) < 2 or sum(len(line) <= 100 for line in content) < 0.9 * len(content):
        return False
    breaks = [
        a.rstrip()
        for a, b in itertools.pairwise(lines)
        if a.strip() and b.strip() and not b[:1].isspace()
    ]
    open_ended = sum(not line.endswith(_SENTENCE_END) for line in breaks)
    return bool(breaks) and open_ended >= 0.5 * len(breaks)


def headline(body: str) -> str:
    """Return a title made from the first paragraph of `body`, cut at a word."""
    first = body.split("\n", 1)[0]
    if len(first) <= TITLE_LIMIT:
        return first
    return (first[:TITLE_LIMIT].rsplit(" ", 1)[0] or first[:TITLE_LIMIT]) + "…"


# -- dates ---------------------------------------------------------------------------------------

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
    return _parse_date_text(text) or text or None


def _parse_date_text(text: str) -> str | None:
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


# -- plain text ----------------------------------------------------------------------------------


def parse_txt(text: str) -> Parsed:
    """First non-empty line is the title; the rest is the body, one paragraph per line."""
    lines = scrub(text).split("\n")
    for n, line in enumerate(lines):
        if line.strip():
            body = paragraphs("\n".join(lines[n + 1 :]))
            if not body:
                yield Problem(None, "no article text after the title line")
                return
            yield Draft(title=" ".join(line.split()), text=body)
            return
    yield Problem(None, "empty file")


# -- Markdown ------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_MD_FENCE = re.compile(r" {0,3}(```|~~~)")
_MD_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_MD_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_MD_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:[ \t]*\S+")
_MD_LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+")
_MD_QUOTE = re.compile(r"(?: {0,3}>[ \t]?)+")
_MD_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"(`+)(.+?)\1"), r"\2"),  # code spans
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"), r"\1"),
)
# Escaped punctuation ("\*") is set aside as a private-use character while markup is removed.
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_ESCAPED = re.compile("[\U000f0021-\U000f007e]")


def parse_markdown(text: str) -> Parsed:
    """Markdown with optional YAML front matter (`title`, `url`, `date`, `source`, `id`).

    Without a title in the front matter, the first `#` heading is the title, else the first
    line. Paragraphs, headings and list items become lines; markup is reduced to its text.
    """
    body = scrub(text)
    meta: dict[str, Any] = {}
    found = _FRONT_MATTER.match(body)
    if found:
        try:
            loaded = yaml.safe_load(found.group(1))
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else None
            yield Problem(line, f"front matter is not valid YAML ({_first_line(exc)})")
            return
        if loaded is not None and not isinstance(loaded, dict):
            yield Problem(2, "front matter is not a mapping of fields")
            return
        meta = loaded or {}
        body = body[found.end() :]
    blocks = _markdown_blocks(body.split("\n"))
    title = _text_field(meta, TITLE_FIELDS)
    if title is None:
        first_heading = next((i for i, (level, _) in enumerate(blocks) if level == 1), None)
        if first_heading is not None:
            title = blocks.pop(first_heading)[1]
        else:
            lines = body.split("\n")
            start = next((n for n, line in enumerate(lines) if line.strip()), len(lines))
            first = _markdown_blocks(lines[start : start + 1])
            title = first[0][1] if first else None
            blocks = _markdown_blocks(lines[start + 1 :])
    elif blocks and blocks[0][0] and blocks[0][1].casefold() == one_line(title).casefold():
        del blocks[0]  # the front matter's title repeated as the first heading
    if not title and not blocks:
        yield Problem(None, "empty file")
        return
    yield _draft(meta, title=title, text="\n".join(text for _, text in blocks), unwrap=False)


def _markdown_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """Return (heading level or 0, plain text) for each block of Markdown lines."""
    blocks: list[tuple[int, str]] = []
    paragraph: list[str] = []
    in_code = was_quoted = False

    def flush(level: int = 0) -> None:
        text = _markdown_inline(" ".join(paragraph))
        if text:
            blocks.append((level, text))
        paragraph.clear()

    for raw in lines:
        if _MD_FENCE.match(raw):
            flush()
            in_code = not in_code
            continue
        if in_code:
            blocks.append((0, " ".join(raw.split())))
            continue
        quoted = raw.lstrip().startswith(">")
        if quoted != was_quoted:  # a quote starts or ends a block
            flush()
            was_quoted = quoted
        line = _MD_QUOTE.sub("", raw, count=1) if quoted else raw
        heading = _MD_HEADING.match(line)
        setext = _MD_SETEXT.match(line)
        if not line.strip():
            flush()
        elif setext and paragraph:
            flush(1 if setext.group(1)[0] == "=" else 2)
        elif heading:
            flush()
            paragraph.append(heading.group(2) or "")
            flush(len(heading.group(1)))
        elif _MD_RULE.match(line) or _MD_LINK_DEFINITION.match(line):
            flush()
        elif item := _MD_LIST_ITEM.match(line):
            flush()
            paragraph.append(line[item.end() :])
        else:
            paragraph.append(line.strip())
    flush()
    return [block for block in blocks if block[1]]


def _markdown_inline(text: str) -> str:
    """Return `text` with links as their text and emphasis, code and escapes as plain text."""
    text = _MD_ESCAPE.sub(lambda m: chr(0xF0000 + ord(m.group(1))), text)
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    text = _MD_ESCAPED.sub(lambda m: chr(ord(m.group()) - 0xF0000), text)
    return " ".join(text.split())


# -- HTML ----------------------------------------------------------------------------------------


def parse_html(text: str) -> Parsed:
    """Article text and metadata (title, date, canonical URL, site name) by trafilatura."""
    try:
        document = trafilatura.bare_extraction(
            scrub(text),
            with_metadata=True,
            include_comments=False,
            date_extraction_params={"extensive_search": True, "original_date": True},
        )
    except Exception as exc:  # lxml and trafilatura raise assorted errors on broken markup
        yield Problem(None, f"HTML could not be parsed ({_first_line(exc)})")
        return
    body = paragraphs(getattr(document, "text", None) or "", unwrap=False)
    if not body:
        yield Problem(None, "no article text found in the HTML")
        return
    title = one_line(getattr(document, "title", None) or "")
    first, _, rest = body.partition("\n")
    if title and first.casefold() == title.casefold() and rest:
        body = rest
    site = getattr(document, "sitename", None) or getattr(document, "hostname", None)
    yield Draft(
        title=title or headline(body),
        text=body,
        source=one_line(site) if isinstance(site, str) and site.strip() else None,
        date=normalize_date(getattr(document, "date", None)),
        url=_one_line_or_none(getattr(document, "url", None)),
    )


def html_to_text(fragment: str) -> str:
    """Return the text of an HTML fragment (a feed summary), one paragraph per block element."""
    fragment = scrub(fragment)
    if not fragment.strip():
        return ""
    try:
        tree = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):  # e.g. an XML declaration in a str
        try:
            parser = lxml.html.HTMLParser(encoding="utf-8")
            tree = lxml.html.fragment_fromstring(
                fragment.encode("utf-8"), create_parent="div", parser=parser
            )
        except (ValueError, lxml.etree.ParserError):
            return ""
    for junk in list(tree.iter("script", "style")):
        junk.drop_tree()
    for element in tree.iter():
        # Newlines inside HTML text are spaces (except in <pre>); blocks make paragraphs.
        keep = element.tag == "pre" or any(a.tag == "pre" for a in element.iterancestors())
        if element.text and not keep:
            element.text = element.text.replace("\n", " ")
        if element.tail:
            element.tail = element.tail.replace("\n", " ")
    for element in tree.iter(*_BLOCK_TAGS):
        element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    return paragraphs(tree.text_content(), unwrap=False)


_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "table", "section", "article", "header", "footer", "figure", "figcaption", "hr", "dd",
    "dt",
)  # fmt: skip


# -- JSON ----------------------------------------------------------------------------------------


_UNDECODED = re.compile(r"[\udc80-\udcff]")  # bytes that were not UTF-8, "surrogateescape"d


def parse_jsonl(text: str) -> Parsed:
    """One JSON object per line; blank lines are ignored.

    Lines holding undecodable bytes (decoded with "surrogateescape") are reported as such.
    """
    found = False
    undecoded = _UNDECODED.search(text) is not None
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        found = True
        if undecoded and _UNDECODED.search(line):
            yield Problem(n, "not valid UTF-8 text")
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield Problem(n, f"invalid JSON ({_first_line(exc)})")
            continue
        yield _record(record, n)
    if not found:
        yield Problem(None, "empty file")


def parse_json(text: str) -> Parsed:
    """An article object, an array of them, or an object with an "articles" (or "items") array.

    Problems are numbered by entry in the array.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield Problem(getattr(exc, "lineno", None), f"invalid JSON ({_first_line(exc)})")
        return
    if isinstance(data, dict):
        for key in ("articles", "items", "entries", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    if not records:
        yield Problem(None, "no articles in the file")
    for n, record in enumerate(records, 1):
        yield _record(record, n if isinstance(data, list) else None)


def _record(record: object, n: int | None) -> Draft | Problem:
    """Turn one JSON record into a draft, accepting the common field names."""
    if not isinstance(record, dict):
        return Problem(n, "expected a JSON object")
    text = _text_field(record, TEXT_FIELDS)
    if text is None:
        return Problem(n, "no article text (text, body or content)")
    return _draft(record, title=_text_field(record, TITLE_FIELDS), text=text, n=n)


def _draft(
    fields: Mapping[str, Any],
    *,
    title: str | None,
    text: str,
    n: int | None = None,
    unwrap: bool | None = None,
) -> Draft | Problem:
    """Build a draft from `fields` (JSON record, front matter) plus a chosen title and body."""
    body = paragraphs(text, unwrap=unwrap)
    if not body:
        return Problem(n, "empty article text")
    ids = (fields.get(k) for k in ID_FIELDS)
    article_id = next((one_line(str(v)) for v in ids if _is_id(v)), "")
    date_value = next((fields[k] for k in DATE_FIELDS if fields.get(k) not in (None, "")), None)
    return Draft(
        title=one_line(title or "") or headline(body),
        text=body,
        source=_text_field(fields, SOURCE_FIELDS),
        date=normalize_date(date_value),
        url=_text_field(fields, URL_FIELDS),
        id=article_id or None,
    )


def _is_id(value: object) -> bool:
    """Whether `value` can be an article id: non-blank text or an integer."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int) and not isinstance(value, bool)


def _text_field(fields: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """Return the first of `names` holding non-blank text (or a mapping with a "name")."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, dict):  # e.g. "source": {"name": "Reuters"}, "link": {"href": ..}
            value = value.get("name") or value.get("title") or value.get("href")
        if isinstance(value, str) and value.strip():
            return value if name in TEXT_FIELDS else one_line(value)
    return None


# -- feeds ---------------------------------------------------------------------------------------


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
            reason = _first_line(feed.get("bozo_exception") or "unreadable")
            yield Problem(None, f"not a valid RSS/Atom feed ({reason})")
        else:
            yield Problem(None, "the feed has no entries")
        return
    channel = feed.get("feed") or {}
    outlet = _one_line_or_none(dict.get(channel, "title"))
    for n, entry in enumerate(entries, 1):
        body = _entry_text(entry)
        if not body:
            yield Problem(n, "feed entry has no text")
            continue
        title = _one_line_or_none(dict.get(entry, "title"))
        yield Draft(
            title=title or headline(body),
            text=body,
            source=outlet,
            date=_entry_date(entry),
            url=_one_line_or_none(dict.get(entry, "link")),
            id=_one_line_or_none(dict.get(entry, "id")),
        )


def _entry_date(entry: dict[str, Any]) -> str | None:
    """Return an entry's publication date, with its own time zone when it gives one.

    `dict.get`, because feedparser's own `get` warns (DeprecationWarning) on some missing keys.
    """
    raw = [
        value for key in ("published", "updated") if isinstance(value := dict.get(entry, key), str)
    ]
    for value in raw:
        if parsed := _parse_date_text(one_line(value)[:100]):
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


def _one_line_or_none(value: object) -> str | None:
    """Return a string value on one line, or None for a blank or a non-string."""
    if not isinstance(value, str):
        return None
    return one_line(value) or None


def _first_line(error: object) -> str:
    """Return the first line of an error's message, shortened."""
    return (str(error).strip().split("\n", 1)[0] or type(error).__name__)[:200]
