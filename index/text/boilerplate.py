"""Sentences that say nothing of their own: sign-offs, datelines, credits, table rows, fragments.

Wire text carries lines that are not statements: Reuters' "Reuter" sign-off, a dateline on a
line of its own ("NEW YORK, March 3 -"), "(Reporting by ...; Editing by ...)", photo credits,
"Read more", the rows of an earnings table ("Shr 12 cts vs 10 cts", "12 mths", "Year"). Each
sentence is embedded as "title: sentence" (`index.semantic.vectors.embedding_text`), so such a
line's vector is its headline's, and ranked by that cosine it becomes the first answer of any
question about the story (docs/quality.md, "Wire text"). They are found by what they are, not by a
list of words, and each kind has a bit in the flags stored per sentence row (`sentence_flags.npy`):

- `FRAGMENT`: fewer than two words of letters ("Reuter", "Year", "Ltd>."), or a line without
  closing punctuation (`index.answers.passages.is_heading`) of fewer than `FRAGMENT_WORDS` words of
  letters ("12 mths", "Read more", "Record March 13", a dateline, a byline, a heading);
- `TABLE`: a line without closing punctuation of which numbers make `TABLE_NUMBERS` of the
  words or more ("Shr 12 cts vs 10 cts", "Net 1,247,000 vs profit 454,000"), or with it,
  `TABLE_NUMBERS_STOPPED`; and a short line without it right beside a table row ("Oper shr
  profit six cts vs loss two cts");
- `ASIDE`: a line wholly within parentheses or brackets, not closed by a stop of its own
  (credits, "(Reporting by ...)", "[Photo: ...]");
- `BORROWED`: no analyzed term beyond its headline's (a lead repeating the headline, "It said.");
- `REPEATED`: the same line, numbers aside, in at least `REPEAT_ARTICLES` articles and
  `REPEAT_SHARE` of the articles of its source (a feed's "Read more at ...", a sign-off).

An article's only sentence is never flagged: a title-only article's title is its content. The
flags are computed when a generation is written (`save_flags`), over all of its rows, so that
`REPEATED` is exact for the whole generation after every build, update, merge and compaction;
the cost is in docs/quality.md ("Wire text"). Flagged sentences stay in the index and may be the
context of a passage; they are never an answer's best sentence
(`index.answers.fusion.with_content`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import numpy.typing as npt
import xxhash

from index.answers.passages import is_heading
from index.store import generations, layout
from index.text.analysis import Analyzer, AnalyzerSettings

FRAGMENT = 1
TABLE = 2
ASIDE = 4
BORROWED = 8
REPEATED = 16

# A line without closing punctuation of fewer words is a label, not a statement.
FRAGMENT_WORDS = 5
# A line without closing punctuation is a table row when numbers are this share of its words;
# with it, when they are `TABLE_NUMBERS_STOPPED` ("Bread wheat prev 1,655.8, Feb 872.0, ...").
TABLE_NUMBERS = 0.25
TABLE_NUMBERS_STOPPED = 0.4
# A line without closing punctuation beside a table row, of fewer words, is a row too.
TABLE_NEIGHBOUR_WORDS = 12
# A line is boilerplate of its source when it recurs in this many of its articles and this share.
REPEAT_ARTICLES = 20
REPEAT_SHARE = 0.05

FlagArray = npt.NDArray[np.uint8]

_LETTERS = re.compile(r"[^\W\d_]{2,}")
# A number: digits with their separators and fractions, with at most a unit's two letters
# ("12", "1,247,000", "5-7/8", "4th", "1986/87", "$3.5", "12%").
_NUMBER = re.compile(r"\W*\d[\d.,/:%\-–]*[^\W\d_]{0,2}\W*")
_DIGITS = re.compile(r"\d+")
_ENCLOSED = (("(", ")"), ("[", "]"))
_STOPS = tuple(".!?…")


def shape_flags(sentence: str) -> int:
    """Return the `FRAGMENT`, `TABLE` and `ASIDE` bits of one sentence, by its shape alone.

    An interviewer's question is not flagged: it is what a reader's question matches, and its
    passage holds the answer after it (flagging questions cost 2 of 196 dev questions' Hit@3).
    """
    text = sentence.strip()
    words = text.split()
    lettered = sum(1 for w in words if _LETTERS.search(w))
    flags = 0
    if lettered < 2 or (is_heading(text) and lettered < FRAGMENT_WORDS):
        flags |= FRAGMENT
    if words:
        numbers = sum(1 for w in words if _NUMBER.fullmatch(w))
        share = TABLE_NUMBERS if is_heading(text) else TABLE_NUMBERS_STOPPED
        if numbers >= 1 and numbers >= share * len(words):
            flags |= TABLE
    if _is_aside(text):
        flags |= ASIDE
    return flags


def _is_aside(text: str) -> bool:
    """Whether `text` is one parenthesis or bracket from its first character to its last.

    A sentence in parentheses, closed by its own stop ("(The company declined to comment.)"), is
    a statement; a credit or a note is not ("(Reporting by Jane Doe; Editing by John Roe)").
    """
    body = text.rstrip(".")
    if body[1:-1].rstrip().endswith(_STOPS):
        return False
    for opening, closing in _ENCLOSED:
        if body.startswith(opening) and body.endswith(closing):
            depth = 0
            for i, char in enumerate(body):
                depth += (char == opening) - (char == closing)
                if depth == 0:
                    return i == len(body) - 1
    return False


def borrows(sentence: str, title: str, analyzer: Analyzer) -> bool:
    """Whether `sentence` has no analyzed term that its headline `title` lacks."""
    return set(analyzer.terms(sentence)) <= set(analyzer.terms(title))


def line_key(sentence: str) -> str:
    """Return the form a repeated line is counted by: case folded, numbers as '#', one space."""
    return " ".join(_DIGITS.sub("#", sentence.casefold()).split())


def is_boilerplate(sentence: str, title: str, analyzer: Analyzer | None = None) -> bool:
    """Whether one sentence of a longer article says nothing of its own (all bits but REPEATED).

    For checking one sentence (tests, benches); a generation's flags come from `article_flags`.
    """
    return bool(shape_flags(sentence)) or borrows(sentence, title, analyzer or Analyzer())


def article_flags(
    titles: Sequence[str], sentences: Sequence[Sequence[str]], analyzer: Analyzer
) -> FlagArray:
    """Return the flags of every sentence of the given articles but `REPEATED`, row after row.

    Args:
        titles: Each article's headline.
        sentences: Each article's sentences, in row order.
        analyzer: The index's analyzer (what `BORROWED` compares).
    """
    flags: list[int] = []
    for title, article in zip(titles, sentences, strict=True):
        if len(article) == 1:  # an article's only sentence is its content
            flags.append(0)
            continue
        title_terms = set(analyzer.terms(title))
        own = [
            shape_flags(s) | (BORROWED if set(analyzer.terms(s)) <= title_terms else 0)
            for s in article
        ]
        flags.extend(_within_tables(article, own))
    return np.asarray(flags, dtype=np.uint8)


def _within_tables(sentences: Sequence[str], flags: list[int]) -> list[int]:
    """Return `flags` with the short unpunctuated lines between table rows flagged `TABLE`.

    A table row whose numbers are spelled out ("Oper shr profit six cts vs loss two cts") is
    found by its place: a line without closing punctuation, under `TABLE_NEIGHBOUR_WORDS` words,
    right before or after a table row. Repeated until no row changes, so a run of them is found.
    """
    flags = list(flags)
    changed = True
    while changed:
        changed = False
        for i, sentence in enumerate(sentences):
            beside = [flags[j] for j in (i - 1, i + 1) if 0 <= j < len(flags)]
            if (
                not flags[i] & TABLE
                and any(f & TABLE for f in beside)
                and is_heading(sentence)
                and len(sentence.split()) < TABLE_NEIGHBOUR_WORDS
            ):
                flags[i] |= TABLE
                changed = True
    return flags


def line_hashes(sentences: Sequence[str]) -> npt.NDArray[np.uint64]:
    """Return the xxHash64 of each sentence's `line_key`: what `REPEATED` counts."""
    return np.asarray(
        [xxhash.xxh64_intdigest(line_key(s).encode("utf-8")) for s in sentences], dtype=np.uint64
    )


def repeated(
    lines: npt.NDArray[np.uint64],
    article_of_row: npt.NDArray[np.int64],
    source_of_article: npt.NDArray[np.int64],
    live: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Return, per row, whether its line recurs across its source's articles (`REPEATED`).

    Counted over the `live` rows: a line is repeated when at least `REPEAT_ARTICLES` articles of
    one source, and `REPEAT_SHARE` of that source's articles, hold it. Sources are numbered per
    article; an article's only sentence is not counted (it is its content, never flagged).
    """
    counts = np.bincount(article_of_row, minlength=len(source_of_article))
    rows = np.flatnonzero(live & (counts[article_of_row] > 1))
    sources = source_of_article[article_of_row[rows]]
    # One key per (source, line): the source number spread over the 64 bits (Fibonacci hashing).
    pairs = lines[rows] ^ (sources.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    articles = article_of_row[rows]
    order = np.lexsort((articles, pairs))
    pairs, articles = pairs[order], articles[order]
    first_of_article = np.ones(len(pairs), dtype=bool)  # first row of its (pair, article)
    first_of_article[1:] = (pairs[1:] != pairs[:-1]) | (articles[1:] != articles[:-1])
    _, pair_of_row = np.unique(pairs, return_inverse=True)
    per_pair = np.bincount(pair_of_row, weights=first_of_article).astype(np.int64)
    live_articles = np.bincount(article_of_row[live], minlength=len(source_of_article)) > 0
    per_source = np.bincount(source_of_article[live_articles], minlength=1)
    needed = np.maximum(REPEAT_ARTICLES, REPEAT_SHARE * per_source[sources[order]])
    flagged = np.zeros(len(lines), dtype=bool)
    flagged[rows[order]] = per_pair[pair_of_row] >= needed
    return flagged


def save_flags(folder: Path, settings: AnalyzerSettings, previous: Path | None = None) -> None:
    """Store the flags of every sentence row of the generation written in `folder`.

    Called once the archive of `folder` is complete (and its `dead_rows.npy`, if any), by a
    full build and by an update alike, with the `previous` (current) generation if any: articles
    it holds with the same content key, of the same format version and analyzed alike, keep
    their rows' flags and line hashes; the others are computed (about 120 µs a sentence on a
    busy core: 2 minutes at 1M, paid once). A change of these rules must bump
    `index.store.layout.FORMAT_VERSION`, so that nothing computed by the old ones is reused.
    `REPEATED` is then counted again over the whole generation (2.6 s for an update at 1M:
    docs/quality.md, "Wire text").
    """
    archive = _ArchiveText(folder)
    n_rows = len(archive.offsets) - 1
    counts = np.diff(archive.first).astype(np.int64)
    article_of_row = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    flags = np.zeros(n_rows, dtype=np.uint8)
    lines = np.zeros(n_rows, dtype=np.uint64)
    todo = _reuse(previous, settings, archive, flags, lines)
    titles, _ = archive.meta()
    texts = [archive.sentences(a) for a in todo]
    rows = _rows(archive.first, np.asarray(todo, dtype=np.int64))
    flags[rows] = article_flags([titles[a] for a in todo], texts, Analyzer(settings))
    lines[rows] = line_hashes([s for article in texts for s in article])
    flags &= ~np.uint8(REPEATED)
    live = np.ones(n_rows, dtype=bool)
    if layout.array_path(folder, "dead_rows").exists():
        live[np.asarray(layout.load_array(folder, "dead_rows"))] = False
    flags[repeated(lines, article_of_row, archive.source_numbers(), live)] |= REPEATED
    layout.save_array(folder, "sentence_flags", flags)
    layout.save_array(folder, "sentence_lines", lines)


def previous_generation(index_dir: Path) -> Path | None:
    """Return the current generation of `index_dir`, whose flags a build may reuse, or None."""
    try:
        return generations.current_generation(index_dir)
    except generations.StoreError:
        return None


def _reuse(
    previous: Path | None,
    settings: AnalyzerSettings,
    archive: _ArchiveText,
    flags: FlagArray,
    lines: npt.NDArray[np.uint64],
) -> list[int]:
    """Copy the previous generation's rows for articles it holds unchanged; return the others."""
    n_articles = len(archive.first) - 1
    if previous is None:
        return list(range(n_articles))
    try:
        header = json.loads((previous / layout.HEADER).read_text(encoding="utf-8"))
        # Flags of another format may follow other rules (a change of them bumps the format).
        same_rules = header.get("format_version") == layout.FORMAT_VERSION
        if not same_rules or header.get("analyzer") != json.loads(json.dumps(asdict(settings))):
            return list(range(n_articles))
        old_keys = np.asarray(layout.load_array(previous, "article_keys"))
        old_first = np.asarray(layout.load_array(previous, "article_first"))
        old_flags = np.asarray(layout.load_array(previous, "sentence_flags"))
        old_lines = np.asarray(layout.load_array(previous, "sentence_lines"))
    except (OSError, ValueError):
        return list(range(n_articles))
    if not len(old_keys):
        return list(range(n_articles))
    order = np.argsort(old_keys, kind="stable")
    at = np.minimum(np.searchsorted(old_keys[order], archive.keys), len(order) - 1)
    old = order[at]
    same = (old_keys[old] == archive.keys) & (np.diff(old_first)[old] == np.diff(archive.first))
    kept = np.flatnonzero(same)
    if len(kept):
        new_rows, old_rows = _rows(archive.first, kept), _rows(old_first, old[kept])
        flags[new_rows] = old_flags[old_rows]
        lines[new_rows] = old_lines[old_rows]
    return np.flatnonzero(~same).tolist()


def _rows(first: npt.NDArray[np.int32], articles: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the sentence rows of `articles` (by article row), article after article."""
    starts = first[articles].astype(np.int64)
    counts = first[articles + 1].astype(np.int64) - starts
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return shift + np.arange(int(counts.sum()), dtype=np.int64)


class _ArchiveText:
    """The archive of a generation being written, read as `save_flags` needs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.offsets = np.asarray(layout.load_array(folder, "sentence_offsets", mmap=False))
        self.first = np.asarray(layout.load_array(folder, "article_first", mmap=False))
        self.keys = np.asarray(layout.load_array(folder, "article_keys", mmap=False))
        self._blob = layout.ReadOnlyFile(folder / layout.SENTENCE_TEXTS)
        self._meta: tuple[list[str], list[str | None]] | None = None

    def sentences(self, article: int) -> list[str]:
        """Return the sentences of article row `article`."""
        a, b = int(self.first[article]), int(self.first[article + 1])
        blob = self._blob.read(int(self.offsets[a]), int(self.offsets[b]))
        base = int(self.offsets[a])
        ends = (self.offsets[a : b + 1] - base).tolist()
        return [blob[x:y].decode("utf-8") for x, y in itertools.pairwise(ends)]

    def meta(self) -> tuple[list[str], list[str | None]]:
        """Return each article's title and source (read once)."""
        if self._meta is None:
            titles: list[str] = []
            sources: list[str | None] = []
            with (self.folder / layout.ARTICLE_LINES).open(encoding="utf-8") as lines:
                for line in lines:
                    meta = json.loads(line)
                    titles.append(meta["title"])
                    sources.append(meta.get("source"))
            self._meta = titles, sources
        return self._meta

    def source_numbers(self) -> npt.NDArray[np.int64]:
        """Return each article's source as a number (one per distinct source)."""
        numbers: dict[str | None, int] = {}
        _, sources = self.meta()
        return np.asarray([numbers.setdefault(s, len(numbers)) for s in sources], dtype=np.int64)


def load_flags(folder: Path, n_rows: int) -> npt.NDArray[np.bool_]:
    """Return, per sentence row, whether it says nothing of its own (any flag).

    Raises:
        ValueError: The flags do not have one entry per row.
        OSError: The file cannot be read.
    """
    flags = layout.load_array(folder, "sentence_flags", mmap=False)
    layout.check_length("sentence_flags.npy", flags, n_rows)
    return np.asarray(flags != 0)
