"""Parse one source document (text, Markdown, HTML, JSON, feed) into article fields.

Each parser takes the document's decoded text (a feed: its bytes) and yields `Draft`s (articles
without an id or path yet) and `Problem`s (entries it could not use, with a 1-based line or entry
number). Parsers never raise on bad input; `index.sources.ingest` turns drafts into articles and
problems into skipped items.

One module per format family:

- `records`: `Draft`, `Problem`, what every parser yields;
- `text`: the text cleaning all parsers share (one paragraph per line), and `.txt` files;
- `markdown`: `.md` files with YAML front matter;
- `html`: HTML pages and fragments;
- `jsonl`: `.json` and `.jsonl` records;
- `tables`: `.csv` files with a header row;
- `encodings`: text in a legacy encoding, detected;
- `feeds`: RSS and Atom;
- `fields`: the common field names of records and front matter;
- `dates`: publication dates as ISO 8601.
"""

from index.sources.formats.dates import normalize_date
from index.sources.formats.feeds import parse_feed
from index.sources.formats.html import html_to_text, parse_html
from index.sources.formats.jsonl import parse_json, parse_jsonl
from index.sources.formats.markdown import parse_markdown
from index.sources.formats.records import Draft, Parsed, Problem
from index.sources.formats.tables import parse_csv
from index.sources.formats.text import headline, one_line, paragraphs, parse_txt, scrub

__all__ = [
    "Draft",
    "Parsed",
    "Problem",
    "headline",
    "html_to_text",
    "normalize_date",
    "one_line",
    "paragraphs",
    "parse_csv",
    "parse_feed",
    "parse_html",
    "parse_json",
    "parse_jsonl",
    "parse_markdown",
    "parse_txt",
    "scrub",
]
