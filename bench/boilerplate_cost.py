"""What storing each sentence's boilerplate flags costs when a generation is written, at scale.

Writes a synthetic generation archive of about `--sentences` real Reuters-21578 sentences (the
stories with a body, repeated under new ids until there are enough: their sign-offs and tables
repeat as a real wire's do) into `bench/out/boilerplate-cost/`, then times `index.text.boilerplate`:

- a full build: `save_flags` with no previous generation (every sentence analyzed);
- an update appending `--added` new stories: `save_flags` with the previous generation, whose
  unchanged articles keep their rows' flags (only the new ones are analyzed), and `REPEATED`
  counted again over every row.

    python bench/boilerplate_cost.py --sentences 1000000    # docs/quality.md, "Wire text"
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/boilerplate_cost.py`
    sys.path.insert(0, str(ROOT))

from index.model import Article  # noqa: E402
from index.sources.ingest import read_sources  # noqa: E402
from index.store import layout  # noqa: E402
from index.store.archive_writer import write_articles, write_sentences  # noqa: E402
from index.text import boilerplate  # noqa: E402
from index.text.analysis import AnalyzerSettings  # noqa: E402
from index.text.sentences import split_sentences  # noqa: E402

REUTERS = ROOT.parent / "shared" / "corpus" / "reuters21578" / "articles.jsonl"
OUT = ROOT / "bench" / "out" / "boilerplate-cost"


def stories(n_sentences: int) -> tuple[list[Article], list[list[str]]]:
    """Return Reuters stories, repeated under new ids, holding about `n_sentences` sentences."""
    base = read_sources([REUTERS], max_bytes=100_000_000).articles
    split = [split_sentences(a.text) for a in base]
    articles: list[Article] = []
    sentences: list[list[str]] = []
    total, copy = 0, 0
    while total < n_sentences:
        for article, parts in zip(base, split, strict=True):
            if total >= n_sentences:
                break
            articles.append(replace(article, id=f"{article.id}-{copy}", text=""))
            sentences.append(parts)
            total += len(parts)
        copy += 1
    return articles, sentences


def write_generation(folder: Path, articles: list[Article], sentences: list[list[str]]) -> None:
    """Write the archive files `save_flags` reads (sentences, articles, their keys)."""
    folder.mkdir(parents=True)
    blob = bytearray()
    offsets = [0]
    for parts in sentences:
        for sentence in parts:
            blob += sentence.encode("utf-8")
            offsets.append(len(blob))
    per_article = np.asarray([len(p) for p in sentences], dtype=np.int32)
    write_sentences(folder, [bytes(blob)], [np.asarray(offsets, dtype=np.int64)], [per_article])
    write_articles(folder, articles)
    # What `save_flags` checks of a previous generation: it was analyzed alike.
    header = {"format_version": layout.FORMAT_VERSION, "analyzer": asdict(AnalyzerSettings())}
    (folder / layout.HEADER).write_text(json.dumps(header), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--added", type=int, default=1000, help="stories an update appends")
    args = parser.parse_args(argv)
    articles, sentences = stories(args.sentences)
    shutil.rmtree(OUT, ignore_errors=True)
    first, second = OUT / "gen-1", OUT / "gen-2"
    kept = len(articles) - args.added
    write_generation(first, articles[:kept], sentences[:kept])
    n_first = sum(len(p) for p in sentences[:kept])
    started = time.perf_counter()
    boilerplate.save_flags(first, AnalyzerSettings())
    full = time.perf_counter() - started
    flags = layout.load_array(first, "sentence_flags")
    print(
        f"full build: {n_first:,} sentences of {kept:,} articles, {full:.1f} s "
        f"({full / n_first * 1e6:.1f} µs a sentence); flagged {np.count_nonzero(flags):,}"
    )
    write_generation(second, articles, sentences)
    n_second = sum(len(p) for p in sentences)
    started = time.perf_counter()
    boilerplate.save_flags(second, AnalyzerSettings(), first)
    update = time.perf_counter() - started
    print(
        f"update: {args.added:,} stories appended ({n_second - n_first:,} sentences), "
        f"{n_second:,} sentences in all, {update:.2f} s"
    )
    same = (
        np.array_equal(layout.load_array(second, "sentence_flags")[:n_first], flags)
        or "REPEATED changed"
    )
    print(f"kept rows' flags equal to the full build's: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
