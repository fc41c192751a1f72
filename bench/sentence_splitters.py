"""Compare sentence segmenters on the Wikinews gold sentences: boundary F1 and speed.

Run from the repository root (needs ../shared/corpus; candidates that are not installed are
skipped; `pip install -e '.[bench]' pysbd` installs them all):

    python bench/sentence_splitters.py

Every candidate reads each gold article's `text` the way newsbot's build does: split into
paragraphs at line breaks, then each paragraph split into sentences (newsbot's `split_sentences`
gets the whole text and does both). A boundary is the offset, counted in non-whitespace characters
from the start of the article, where a sentence ends; the ends of paragraphs are left out, as no
candidate can miss them. Precision, recall and F1 are over all boundaries of the 43 articles.
"F1 body" leaves out the first paragraph, which GUM makes of headline and dateline (newsbot reads
the title apart from the body).

Speed is sentences out per second on one core, over Reuters-21578 articles as `newsbot index`
reads them (unwrapped paragraphs), after a warm-up, best of up to three passes.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
GOLD = CORPUS / "wikinews-gum" / "articles.jsonl"
REUTERS = CORPUS / "reuters21578" / "articles.jsonl"
SPEED_ARTICLES = 2_000
# Punkt is trained on the first 5,000 Reuters articles, then on all of them (about 30 s).
PUNKT_TRAINING_ARTICLES = (5_000, None)

Splitter = Callable[[str], list[str]]


@dataclass(frozen=True)
class GoldArticle:
    """One gold article: its text and its boundaries (all, and those past the headline)."""

    text: str
    boundaries: frozenset[int]
    paragraph_ends: frozenset[int]
    headline_end: int


def squeezed_length(text: str) -> int:
    """Number of non-whitespace characters in `text`."""
    return sum(len(word) for word in text.split())


def ends(sentences: Iterable[str]) -> list[int]:
    """Offsets, in non-whitespace characters, where each sentence ends."""
    offsets, position = [], 0
    for sentence in sentences:
        position += squeezed_length(sentence)
        offsets.append(position)
    return offsets


def read_gold() -> list[GoldArticle]:
    """Read the gold articles and their boundaries."""
    articles = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        paragraphs: list[list[str]] = record["paragraphs"]
        sentence_ends = set(ends(s for p in paragraphs for s in p))
        paragraph_ends = frozenset(ends(" ".join(p) for p in paragraphs))
        articles.append(
            GoldArticle(
                text=record["text"],
                boundaries=frozenset(sentence_ends - paragraph_ends),
                paragraph_ends=paragraph_ends,
                headline_end=squeezed_length(" ".join(paragraphs[0])),
            )
        )
    return articles


def by_paragraph(split_paragraph: Splitter) -> Splitter:
    """Split text into paragraphs at line breaks, then each paragraph with `split_paragraph`."""

    def split(text: str) -> list[str]:
        return [
            sentence
            for line in text.splitlines()
            if line.strip()
            for sentence in split_paragraph(line.strip())
            if sentence.strip()
        ]

    return split


def f1(agreed: int, found: int, expected: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts."""
    precision, recall = agreed / max(found, 1), agreed / max(expected, 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


def accuracy(split: Splitter, gold: list[GoldArticle]) -> tuple[float, float, float, float]:
    """Precision, recall and F1 over all boundaries, and F1 without the headline paragraphs."""
    counts = [0, 0, 0]
    body = [0, 0, 0]
    for article in gold:
        found = set(ends(split(article.text))) - article.paragraph_ends
        for tally, keep in ((counts, 0), (body, article.headline_end)):
            mine = {b for b in found if b > keep}
            theirs = {b for b in article.boundaries if b > keep}
            tally[0] += len(mine & theirs)
            tally[1] += len(mine)
            tally[2] += len(theirs)
    precision, recall, score = f1(*counts)
    return precision, recall, score, f1(*body)[2]


def speed(split: Splitter, texts: list[str]) -> float:
    """Sentences per second over `texts`, after a warm-up, best of up to three passes."""
    for text in texts[:20]:
        split(text)
    best = float("inf")
    produced = 0
    for _ in range(3):
        started = time.perf_counter()
        produced = sum(len(split(text)) for text in texts)
        best = min(best, time.perf_counter() - started)
        if best > 5:
            break
    return produced / best


def reuters_texts() -> list[str]:
    """Article bodies of Reuters-21578 as `newsbot index` reads them, or none if absent."""
    if not REUTERS.exists():
        return []
    from index.sources.ingest import read_sources

    return [a.text for a in read_sources([REUTERS]).articles if a.text]


def candidates(gold: list[GoldArticle], reuters: list[str]) -> dict[str, Splitter]:
    """Every installed candidate, by name, each reading a whole article text."""
    found: dict[str, Splitter] = {
        "regex: [.!?] + space + capital": by_paragraph(
            re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(\[]*[A-Z])").split
        ),
    }
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False)
        found[f"pysbd {version('pysbd')}"] = by_paragraph(segmenter.segment)
    except ImportError:
        print("skipped pysbd: not installed")
    try:
        from syntok import segmenter as syntok

        found[f"syntok {version('syntok')}"] = by_paragraph(
            lambda t: [
                "".join(token.spacing + token.value for token in sentence)
                for paragraph in syntok.process(t)
                for sentence in paragraph
            ]
        )
    except ImportError:
        print("skipped syntok: not installed")
    try:
        from segtok.segmenter import split_single

        found[f"segtok {version('segtok')}"] = by_paragraph(split_single)
    except ImportError:
        print("skipped segtok: not installed")
    try:
        import sentencex

        found[f"sentencex {version('sentencex')}"] = by_paragraph(
            lambda t: list(sentencex.segment("en", t))
        )
    except ImportError:
        print("skipped sentencex: not installed")
    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        # Punkt's trained English model is a download, impossible here; Punkt learns
        # abbreviations unsupervised from raw text, so it is also trained on news text.
        found[f"nltk {version('nltk')} punkt, untrained"] = by_paragraph(
            PunktSentenceTokenizer().tokenize
        )
        for size in PUNKT_TRAINING_ARTICLES if reuters else ():
            articles = reuters[:size]
            trained = PunktSentenceTokenizer("\n\n".join(articles))
            found[f"nltk punkt, trained on {len(articles):,} Reuters articles"] = by_paragraph(
                trained.tokenize
            )
        on_gold = PunktSentenceTokenizer("\n\n".join(a.text for a in gold))
        found["nltk punkt, trained on the gold text itself (sees the test)"] = by_paragraph(
            on_gold.tokenize
        )
    except ImportError:
        print("skipped nltk: not installed")
    found.update(newsbot_steps())
    return found


def newsbot_steps() -> dict[str, Splitter]:
    """Bling Fire alone, then with each of newsbot's fixes added in turn; empty if not installed."""
    try:
        import blingfire
    except ImportError:
        print("skipped blingfire and newsbot: blingfire not installed")
        return {}
    from index.text import sentences

    return {
        f"blingfire {version('blingfire')}": by_paragraph(
            lambda t: blingfire.text_to_sentences(t).split("\n")
        ),
        "blingfire + continuations": by_paragraph(
            lambda t: sentences._join_continuations(sentences._segment(t))
        ),
        "blingfire + continuations + titles": by_paragraph(
            lambda t: sentences._join_titles(sentences._join_continuations(sentences._segment(t)))
        ),
        "**newsbot `split_sentences`** (+ lower-case word periods)": sentences.split_sentences,
    }


def inner_ends(split: Splitter, text: str) -> set[int]:
    """Boundaries of `split` on `text`, without the ends of paragraphs."""
    paragraphs = [line for line in text.splitlines() if line.strip()]
    return set(ends(split(text))) - set(ends(paragraphs))


def context(text: str, offset: int, width: int = 40) -> str:
    """`text` around the place after `offset` non-whitespace characters, marked with ‖."""
    position, seen = 0, 0
    while position < len(text) and seen < offset:
        seen += not text[position].isspace()
        position += 1
    before = " ".join(text[max(0, position - width) : position].split())
    after = " ".join(text[position : position + width].split())
    return f"...{before} ‖ {after}..."


def fix_changes(steps: dict[str, Splitter], texts: list[str], examples: int = 3) -> None:
    """Print the boundaries each step adds to and removes from the step before, with examples."""
    names = list(steps)
    print(f"\nEach fix on {len(texts):,} Reuters articles (boundaries vs the step before):\n")
    print("| step | added | removed | examples (‖ marks the change) |")
    print("|---|---|---|---|")
    for before, after in itertools.pairwise(names):
        added, removed, shown = 0, 0, []
        for text in texts:
            old, new = inner_ends(steps[before], text), inner_ends(steps[after], text)
            added, removed = added + len(new - old), removed + len(old - new)
            for offset in sorted(new ^ old)[: examples - len(shown)]:
                sign = "+" if offset in new else "-"
                shown.append(f"{sign} `{context(text, offset)}`")
        print(f"| {after} | {added} | {removed} | {'<br>'.join(shown)} |")


def main() -> None:
    if not GOLD.exists():
        raise SystemExit(f"gold sentences not found at {GOLD}")
    gold = read_gold()
    reuters = reuters_texts()
    speed_texts = reuters[:SPEED_ARTICLES] or [a.text for a in gold]
    print(
        f"{len(gold)} gold articles, {sum(len(a.boundaries) for a in gold):,} boundaries "
        f"({sum(len({b for b in a.boundaries if b > a.headline_end}) for a in gold):,} past "
        f"the headlines); speed over {len(speed_texts):,} "
        f"{'Reuters' if reuters else 'gold'} articles\n"
    )
    print("| segmenter | precision | recall | F1 | F1 body | sentences/s |")
    print("|---|---|---|---|---|---|")
    for name, split in candidates(gold, reuters).items():
        precision, recall, score, body = accuracy(split, gold)
        rate = speed(split, speed_texts)
        print(
            f"| {name} | {precision:.4f} | {recall:.4f} | {score:.4f} | {body:.4f} | {rate:,.0f} |"
        )
    if reuters:
        fix_changes(newsbot_steps(), reuters)


if __name__ == "__main__":
    main()
