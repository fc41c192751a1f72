"""Stories: copies and updates of one article grouped, by MinHash with locality-sensitive hashing.

Outlets run the same wire text under another title, rewrite the lead, add two paragraphs; a
reader wants one story, not five. Two articles are copies when the Jaccard similarity of their
word shingles (`SHINGLE` consecutive words) reaches `THRESHOLD` and the numbers they quote
agree (`NUMBERS_AGREE`: templated stories differ by them); datasketch's
`MinHashLSH` finds the candidates (Broder 1997; Leskovec, Rajaraman and Ullman, *Mining of
Massive Datasets*, ch. 3), and the candidates' estimated Jaccard confirms them. docs/follow.md
gives the precision and recall on made-up syndicated pairs and on Reuters-21578, against the
sentence vectors.

`StoryGroups` keeps the stories of the articles it was shown, by content key (which survives
generations), and assigns each new article the story of its first copy already known, else a
story of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

from index.answers.search import NewsIndex
from index.model import Article
from index.store import layout
from index.text.boilerplate import line_hashes

# Consecutive words per shingle; the Jaccard of shingle sets at which two texts are one story;
# MinHash permutations. Set before measuring; docs/follow.md measures them (bench/stories.py).
SHINGLE = 3
THRESHOLD = 0.3
PERMUTATIONS = 128
# Articles kept in the LSH, the last indexed: a copy arriving later than this many articles is a
# story of its own. A start fingerprints them again, in the matching thread (MinHash and numbers:
# 0.29 ms of CPU for a Reuters story of 141 words, so seconds for 20,000, plus their reading).
WINDOW = 20_000
# Words of an article read for its signature: the lead and body a copy shares.
MAX_WORDS = 2000

# Two texts that both quote numbers are one story only when this share of the numbers of the
# one quoting fewer is in the other (a copy with paragraphs added quotes more): templated
# stories ("measure 3 passed", "Shr 10 cts vs 5 cts") differ by them.
NUMBERS_AGREE = 0.5

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d[\d.,]*")


def numbers(text: str) -> frozenset[str]:
    """Return the numbers a text quotes, as written (trailing punctuation dropped)."""
    return frozenset(n.rstrip(".,") for n in _NUMBER.findall(text[: MAX_WORDS * 8]))


def numbers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two texts' numbers allow them to be one story (`NUMBERS_AGREE`)."""
    if not a or not b:
        return True
    return len(a & b) / min(len(a), len(b)) >= NUMBERS_AGREE


def same_story(
    first: MinHash,
    first_numbers: frozenset[str],
    second: MinHash,
    second_numbers: frozenset[str],
    threshold: float = THRESHOLD,
) -> bool:
    """The rule: estimated shingle Jaccard at `threshold` or more, and numbers that agree."""
    return first.jaccard(second) >= threshold and numbers_agree(first_numbers, second_numbers)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Return the set of `size`-word shingles of `text` (casefolded words), as bytes."""
    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def signature(text: str, permutations: int = PERMUTATIONS) -> MinHash:
    """Return the MinHash of `text`'s shingles."""
    minhash = MinHash(num_perm=permutations)
    minhash.update_batch(sorted(shingles(text)))
    return minhash


def article_text(index: NewsIndex, article: int) -> str:
    """Return an article's title and sentences, as a signature reads them."""
    first, last = index.article_rows(article)
    sentences = [index.sentence(r) for r in range(first, last + 1)]
    return "\n".join([index.article(article).title, *sentences])


class StoryGroups:
    """Stories of the articles seen, by content key; new articles joined to their copies."""

    def __init__(self, threshold: float = THRESHOLD, permutations: int = PERMUTATIONS) -> None:
        self.threshold = threshold
        self.permutations = permutations
        self._lsh = MinHashLSH(threshold=threshold, num_perm=permutations)
        self._signatures: dict[int, MinHash] = {}
        self._numbers: dict[int, frozenset[str]] = {}
        self._story: dict[int, str] = {}  # content key -> story
        self._members: dict[str, list[int]] = {}  # story -> content keys, in arrival order
        self._rows: dict[int, int] = {}  # content key -> article row in the last generation
        self._arrival: dict[str, int] = {}  # story -> when it was first seen (a count)
        self._by_id: dict[str, int] = {}  # article id -> content key

    def story(self, key: int) -> str | None:
        """Return the story of the article with content key `key`, if known."""
        return self._story.get(key)

    def story_of(self, article: Article) -> str | None:
        """Return the story of an indexed article (by its id), if known."""
        key = self._by_id.get(article.id)
        return None if key is None else self._story.get(key)

    def also(self, index: NewsIndex, article: Article) -> list[Article]:
        """Return the other articles of `article`'s story in `index`, oldest first."""
        story = self.story_of(article)
        if story is None:
            return []
        rows = self.copies(story)
        return [a for a in (index.article(r) for r in rows) if a.id != article.id]

    def fold(
        self, index: NewsIndex, articles: Sequence[Article]
    ) -> list[tuple[int, list[Article]]]:
        """Return, for each story among `articles`, its first one's position and its copies.

        Later articles of a story already listed are left out: a story is shown once. Another
        passage of the article shown for it is no copy, and stays (with no copies of its own).
        """
        shown: dict[str, str] = {}  # story -> the id of the article shown for it
        out: list[tuple[int, list[Article]]] = []
        for position, article in enumerate(articles):
            story = self.story_of(article) or f"id:{article.id}"
            if story in shown:
                if shown[story] == article.id:
                    out.append((position, []))
                continue
            shown[story] = article.id
            out.append((position, self.also(index, article)))
        return out

    def copies(self, story: str) -> list[int]:
        """Return the article rows (in the last generation assigned) of a story's members."""
        return [self._rows[k] for k in self._members.get(story, []) if k in self._rows]

    def assign(
        self,
        index: NewsIndex,
        rows: Sequence[int],
        new: Sequence[int],
        keys: Sequence[int],
        recorded: Callable[[Sequence[int]], dict[int, str]],
    ) -> dict[int, str]:
        """Return the story of each new article row, joining it to a known copy when it has one.

        Args:
            index: The generation.
            rows: Its live article rows.
            new: Those never seen before.
            keys: Content key by article row.
            recorded: Stories recorded earlier by content key (the state file), for articles
                seen in an earlier run of the bot.
        """
        self._rows = {keys[a]: a for a in rows}
        fresh = set(new)
        old = [a for a in rows[-WINDOW:] if a not in fresh and keys[a] not in self._signatures]
        if old:  # a start: the articles seen in an earlier run, with their recorded stories
            stories = recorded([keys[a] for a in old])
            for a in old:
                self._add(keys[a], stories.get(keys[a], f"{keys[a]:016x}"), index, a)
        out: dict[int, str] = {}
        recent = set(rows[-WINDOW:])
        for a in new:
            key = keys[a]
            if key in self._story:
                out[a] = self._story[key]
                continue
            if a not in recent:  # a first run over a large index: older articles stand alone
                out[a] = f"{key:016x}"
                continue
            text = article_text(index, a)
            minhash, quoted = signature(text, self.permutations), numbers(text)
            story = self._first_copy(minhash, quoted) or f"{key:016x}"
            self._add(key, story, index, a, (minhash, quoted))
            out[a] = story
        return out

    def _first_copy(self, minhash: MinHash, quoted: frozenset[str]) -> str | None:
        """Return the story of the earliest known article that is a copy (`same_story`)."""
        found = [
            key
            for key in self._lsh.query(minhash)
            if same_story(
                self._signatures[key], self._numbers[key], minhash, quoted, self.threshold
            )
        ]
        if not found:
            return None
        return min((self._story[k] for k in found), key=lambda s: self._arrival[s])

    def _add(
        self,
        key: int,
        story: str,
        index: NewsIndex,
        row: int,
        fingerprint: tuple[MinHash, frozenset[str]] | None = None,
    ) -> None:
        if fingerprint is None:
            text = article_text(index, row)
            fingerprint = (signature(text, self.permutations), numbers(text))
        minhash, quoted = fingerprint
        if key not in self._signatures:
            self._lsh.insert(key, minhash)
        self._signatures[key] = minhash
        self._numbers[key] = quoted
        self._by_id[index.article(row).id] = key
        self._story[key] = story
        self._members.setdefault(story, []).append(key)
        self._arrival.setdefault(story, len(self._arrival))


def near_duplicates(a: str, b: str, threshold: float = THRESHOLD) -> bool:
    """Whether two texts are copies of one story (exact shingle Jaccard, no hashing)."""
    first, second = shingles(a), shingles(b)
    if not first or not second:
        return False
    return len(first & second) / len(first | second) >= threshold


def jaccard(a: str, b: str) -> float:
    """Return the exact Jaccard similarity of two texts' shingle sets."""
    first, second = shingles(a), shingles(b)
    union = first | second
    return len(first & second) / len(union) if union else 0.0


# Sentences read for the articles quoting an answer's sentence (`copies_quoting`).
QUOTING_CANDIDATES = 20
# Generations whose rows are kept sorted by line hash (`quoting_rows`): the one served and the next.
LINE_TABLES = 2


@functools.lru_cache(maxsize=LINE_TABLES)
def _line_table(folder: Path) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]] | None:
    """Return a generation's sentence line hashes sorted, and the rows in that order."""
    try:
        lines = np.asarray(layout.load_array(folder, "sentence_lines"))
    except (OSError, ValueError):
        return None
    order = np.argsort(lines, kind="stable")
    return lines[order], order


def quoting_rows(index: NewsIndex, sentence: str) -> list[int]:
    """Return live rows that may hold `sentence` word for word (the caller compares the text).

    Rows are found by the hash of their line (`index.text.boilerplate.line_hashes`, which every
    generation stores), looked up in the rows sorted by it once per generation: a binary search
    instead of a BM25 search per answer. Without the file, the BM25 search of the sentence.
    """
    table = _line_table(index.archive.folder)
    if table is None:
        return [h.sentence for h in index.search(sentence, QUOTING_CANDIDATES)]
    keys, order = table
    key = line_hashes([sentence])[0]
    rows = order[np.searchsorted(keys, key, "left") : np.searchsorted(keys, key, "right")]
    live = index.archive.live_sentences
    if live is not None:
        rows = rows[live[rows]]
    return [int(r) for r in rows[:QUOTING_CANDIDATES]]


def copies_quoting(index: NewsIndex, article: Article, sentence: str) -> list[Article]:
    """Return the other articles of `article`'s story that quote `sentence` word for word.

    Stateless, for one answer: the articles holding the same sentence are found by its line's
    hash (`quoting_rows`), then confirmed as copies (`same_story` on their texts). What
    `newsbot ask --json` reports as `also`; the bot's story groups also find copies that
    rewrote every sentence the answer quotes.
    """
    rows = quoting_rows(index, sentence)
    mine = next(
        (index.article_of(r) for r in rows if index.article(index.article_of(r)).id == article.id),
        None,
    )
    if mine is None:
        return []
    quoting = dict.fromkeys(
        other
        for row in rows
        if (other := index.article_of(row)) != mine and index.sentence(row) == sentence
    )
    if not quoting:  # the common case: no other article holds the sentence, no MinHash to make
        return []
    text = article_text(index, mine)
    fingerprint = (signature(text), numbers(text))
    found: list[Article] = []
    for other in quoting:
        copy = article_text(index, other)
        if same_story(*fingerprint, signature(copy), numbers(copy)):
            found.append(index.article(other))
    return found
