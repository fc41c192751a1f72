"""Common field names of article records (JSON, front matter), and a draft made from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from index.sources.formats.dates import normalize_date
from index.sources.formats.records import Draft, Problem
from index.sources.formats.text import headline, one_line, paragraphs

TITLE_FIELDS = ("title", "headline")
TEXT_FIELDS = ("text", "body", "content", "article", "description", "summary")
URL_FIELDS = ("url", "link", "href")
DATE_FIELDS = ("date", "published", "published_at", "pubDate", "datePublished", "created_at")
SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
ID_FIELDS = ("id", "guid", "uuid", "_id")


def draft_of(
    fields: Mapping[str, Any],
    *,
    title: str | None,
    text: str,
    n: int | None = None,
    unwrap: bool | None = None,
) -> Draft | Problem:
    """Build a draft from `fields` (JSON record, front matter) plus a chosen title and body."""
    body = paragraphs(text, unwrap=unwrap) or one_line(title or "")  # a title alone is the story
    if not body:
        return Problem(n, "empty article text")
    ids = (fields.get(k) for k in ID_FIELDS)
    article_id = next((one_line(str(v)) for v in ids if is_id(v)), "")
    date_value = next((fields[k] for k in DATE_FIELDS if fields.get(k) not in (None, "")), None)
    return Draft(
        title=one_line(title or "") or headline(body),
        text=body,
        source=text_field(fields, SOURCE_FIELDS),
        date=normalize_date(date_value),
        url=text_field(fields, URL_FIELDS),
        id=article_id or None,
    )


def is_id(value: object) -> bool:
    """Whether `value` can be an article id: non-blank text or an integer."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int) and not isinstance(value, bool)


def text_field(fields: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """Return the first of `names` holding non-blank text (or a mapping with a "name")."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, dict):  # e.g. "source": {"name": "Reuters"}, "link": {"href": ..}
            value = value.get("name") or value.get("title") or value.get("href")
        if isinstance(value, str) and value.strip():
            return value if name in TEXT_FIELDS else one_line(value)
    return None
