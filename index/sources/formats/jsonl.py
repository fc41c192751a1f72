"""JSON files (an article, an array of them, or an object holding one) and JSON Lines."""

from __future__ import annotations

import json
import re

from index.sources.formats.fields import TEXT_FIELDS, TITLE_FIELDS, draft_of, text_field
from index.sources.formats.records import Draft, Parsed, Problem, first_line

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
            yield Problem(n, f"invalid JSON ({first_line(exc)})")
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
        yield Problem(getattr(exc, "lineno", None), f"invalid JSON ({first_line(exc)})")
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
    title = text_field(record, TITLE_FIELDS)
    text = text_field(record, TEXT_FIELDS) or title  # a wire brief: its headline is the story
    if text is None:
        return Problem(n, "no article text (text, body or content)")
    return draft_of(record, title=title, text=text, n=n)
