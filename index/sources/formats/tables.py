"""CSV files with a header row: one article a row, columns named as JSON records name fields.

The header's names are matched without regard to case or surrounding space against the
common field names (`index.sources.formats.fields`: title or headline, text or body, date, url or
link, source, id). A file whose header names neither a text nor a title column is skipped as a whole
with the reason; a row that cannot be used is skipped by its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from index.sources.formats.fields import (
    DATE_FIELDS,
    ID_FIELDS,
    SOURCE_FIELDS,
    TEXT_FIELDS,
    TITLE_FIELDS,
    URL_FIELDS,
    draft_of,
    text_field,
)
from index.sources.formats.records import Draft, Parsed, Problem, first_line

# The stdlib's default (131,072 characters) is below a long article's body; 16 MiB a field is
# more than any article and still bounds what one broken quote can swallow.
FIELD_SIZE_LIMIT = 16 << 20
_DELIMITERS = ",;\t|"
_KNOWN = {
    name.casefold(): name
    for names in (TITLE_FIELDS, TEXT_FIELDS, URL_FIELDS, DATE_FIELDS, SOURCE_FIELDS, ID_FIELDS)
    for name in names
}
NO_HEADER = (
    "CSV without a header naming a text or title column "
    "(title, headline, text, body, content, description, ...)"
)


def parse_csv(text: str) -> Parsed:
    """Read one article a row under a header row; problems are numbered by line."""
    if not text.strip():
        yield Problem(None, "empty file")
        return
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        header = next(reader)
    except csv.Error as exc:
        yield Problem(1, f"CSV header cannot be read ({first_line(exc)})")
        return
    columns = [_KNOWN.get(name.strip().casefold()) for name in header]
    if not any(c in TEXT_FIELDS or c in TITLE_FIELDS for c in columns if c):
        yield Problem(None, NO_HEADER)
        return
    yield from _rows(reader, columns)


def _rows(reader: Iterator[list[str]], columns: list[str | None]) -> Parsed:
    """Yield a draft or a problem for each row after the header."""
    line = 1  # the line the header ended on; a row starts on the line after the last one
    found = False
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            if not found:  # a header alone: said, so that no file vanishes without a word
                yield Problem(None, "no rows under the CSV header")
            return
        except csv.Error as exc:
            yield Problem(start, f"malformed CSV row ({first_line(exc)})")
            line = getattr(reader, "line_num", start)
            continue
        line = getattr(reader, "line_num", start)
        if not any(cell.strip() for cell in row):
            continue
        found = True
        if len(row) != len(columns):
            yield Problem(start, f"row has {len(row)} fields, the header {len(columns)}")
            continue
        yield _row(dict((c, v) for c, v in zip(columns, row, strict=True) if c), start)


def _row(fields: dict[str, str], n: int) -> Draft | Problem:
    """Turn one row's named fields into a draft; a row with a title alone is its title."""
    title = text_field(fields, TITLE_FIELDS)
    text = text_field(fields, TEXT_FIELDS) or title
    if text is None:
        return Problem(n, "no article text or title")
    return draft_of(fields, title=title, text=text, n=n)


def _dialect(text: str) -> type[csv.Dialect]:
    """Return Excel's CSV dialect with the delimiter the header line uses most (else a comma).

    Only the delimiter is guessed: `csv.Sniffer` also guesses quoting from the sample, and a
    header line without quotes leads it to read a doubled quote in a body as two fields.
    """
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(_DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect
