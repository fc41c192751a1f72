"""Compare sentence segmenters on the Wikinews gold sentences: boundary F1 and speed.

Run from the repository root: python bench/sentence_splitters.py
Needs ../shared/corpus and the `bench` extra (pip install -e '.[bench]').
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

GOLD = Path(__file__).resolve().parents[2] / "shared/corpus/wikinews-gum/articles.jsonl"


def boundaries(sentences: list[str]) -> set[int]:
    """Offsets, ignoring whitespace, where a sentence ends inside a paragraph."""
    ends, position = set(), 0
    for sentence in sentences[:-1]:
        position += len("".join(sentence.split()))
        ends.add(position)
    return ends


def candidates() -> dict[str, Callable[[str], list[str]]]:
    """Every installed candidate, by name."""
    found: dict[str, Callable[[str], list[str]]] = {
        "regex [.!?] + space + capital": lambda t: re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", t),
    }
    try:
        import blingfire

        found["blingfire 0.1.8"] = lambda t: blingfire.text_to_sentences(t).split("\n")
    except ImportError:
        pass
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False)
        found["pysbd 0.3.4"] = segmenter.segment
    except ImportError:
        pass
    try:
        from syntok import segmenter as syntok

        found["syntok 1.4"] = lambda t: [
            "".join(tok.spacing + tok.value for tok in s) for p in syntok.process(t) for s in p
        ]
    except ImportError:
        pass
    try:
        from segtok.segmenter import split_single

        found["segtok 1.5"] = split_single
    except ImportError:
        pass
    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        found["nltk punkt (untrained)"] = PunktSentenceTokenizer().tokenize
    except ImportError:
        pass
    from index.sentences import split_sentences

    found["newsbot (blingfire + lower-case continuation)"] = split_sentences
    return found


def main() -> None:
    articles = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    paragraphs = [p for a in articles for p in a["paragraphs"]]
    print(f"{len(articles)} articles, {sum(map(len, paragraphs)):,} gold sentences\n")
    print("| segmenter | precision | recall | F1 | sentences/s |")
    print("|---|---|---|---|---|")
    for name, split in candidates().items():
        found = expected = agreed = produced = 0
        started = time.perf_counter()
        for paragraph in paragraphs:
            got = [s for s in split(" ".join(paragraph)) if s.strip()]
            produced += len(got)
            gold, mine = boundaries(paragraph), boundaries(got)
            found, expected, agreed = (
                found + len(mine),
                expected + len(gold),
                agreed + len(gold & mine),
            )
        seconds = time.perf_counter() - started
        precision, recall = agreed / max(found, 1), agreed / expected
        f1 = 2 * precision * recall / max(precision + recall, 1e-12)
        print(f"| {name} | {precision:.4f} | {recall:.4f} | {f1:.4f} | {produced / seconds:,.0f} |")


if __name__ == "__main__":
    main()
