"""Time `NewsIndex.load` at 1M sentences, and each of its checks (issue #9.5).

    python -m bench.load_time              # builds bench/out/load-index-1m from corpus-1m if needed
    python -m bench.load_time --size 100k
    python -m bench.load_time --index-dir DIR   # any index (several segments, masked rows)

The index is built once from `bench.corpus`'s articles (a few minutes on two cores) and kept in
bench/out. Each load runs with the files in the page cache (the bot loads an index it has just
built, or one it served before); the first, cold load is reported apart. Prints the median and
the largest of `--repeat` loads, and the median of each phase: the checksums of every file
(`index.store.layout.verify_files`), the BM25 segments with the kernel's invariants and the whole
index's statistics (`index.lexical.segments.load_segmented`), and the sentences and articles
(`Archive.load`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/load_time.py`
    sys.path.insert(0, str(ROOT))

from index.answers.search import NewsIndex  # noqa: E402
from index.lexical.segments import load_segmented  # noqa: E402
from index.store import layout  # noqa: E402
from index.store.archive import Archive  # noqa: E402
from index.store.generations import StoreError, current_generation, read_header  # noqa: E402

OUT = ROOT / "bench" / "out"


def ensure_index(size: str) -> Path:
    """Return bench/out/load-index-<size>, built from the corpus's articles when missing or old."""
    index_dir = OUT / f"load-index-{size}"
    try:
        NewsIndex.load(index_dir)
        return index_dir
    except StoreError:
        pass
    from bench import corpus
    from index.store.build import build_from_articles

    articles = corpus.load(size).articles()
    report = build_from_articles(articles, index_dir)
    print(f"built {index_dir}: {report.summary()}", file=sys.stderr)
    return index_dir


def timed(run: Callable[[], Any], repeat: int) -> list[float]:
    """Return the wall time of each of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1m", choices=("100k", "1m"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--index-dir", type=Path, help="time this index instead")
    args = parser.parse_args()
    index_dir = args.index_dir or ensure_index(args.size)
    folder = current_generation(index_dir)
    header = read_header(folder)
    loads = timed(lambda: NewsIndex.load(index_dir), args.repeat)
    news = NewsIndex.load(index_dir)
    sizes = {p: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    phases = {
        "verify_files (size + xxHash64 of every file)": lambda: layout.verify_files(
            folder, header["files"]
        ),
        "load_segmented (dtypes, lengths, kernel invariants, statistics)": lambda: load_segmented(
            folder, header, news.archive.live_sentences
        ),
        "Archive.load (sentences, articles)": lambda: Archive.load(folder),
    }
    print(
        f"{index_dir}: {news.n_sentences:,} sentences, {news.n_articles:,} articles, "
        f"{len(header['segments'])} segment(s), "
        f"{sum(sizes.values()) / 1e6:.1f} MB in {len(sizes)} files"
    )
    print(f"NewsIndex.load: median {statistics.median(loads):.1f} ms, max {max(loads):.1f} ms")
    for name, run in phases.items():
        print(f"  {name}: median {statistics.median(timed(run, args.repeat)):.1f} ms")


if __name__ == "__main__":
    main()
