"""Build an index: sources -> articles -> sentences -> terms -> BM25 arrays -> a new generation.

Splitting and analysis run in worker processes (one per core) on chunks of articles; the parent
numbers the terms and writes the arrays. The previous generation stays current until the new one
is complete (see `index.store`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.analysis import Analyzer, AnalyzerSettings
from index.bm25 import BM25Index, BM25Params
from index.ingest import read_sources
from index.model import Article, Ingested, Skipped
from index.sentences import split_sentences
from index.store import GenerationWriter

# Below this many articles, worker start-up costs more than it saves.
_PARALLEL_MIN_ARTICLES = 400
_CHUNK_ARTICLES = 200

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did.

    Attributes:
        folder: The generation folder now current.
        articles: Articles indexed.
        sentences: Sentences indexed.
        skipped: Files, lines and entries that could not be read, with reasons.
        duplicates: Articles dropped as repeats of another (same id or same text).
        seconds: Wall time of the whole build.
    """

    folder: Path
    articles: int
    sentences: int
    skipped: tuple[Skipped, ...] = ()
    duplicates: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """Return the one-line summary the CLI and the bot show."""
        return (
            f"{_count(self.articles, 'article')}, {_count(self.sentences, 'sentence')}, "
            f"{len(self.skipped):,} skipped, {self.duplicates:,} duplicates, "
            f"{self.seconds:.1f} s"
        )

    def to_json(self) -> dict[str, object]:
        """Return the report as JSON-ready data."""
        return {
            "index": str(self.folder),
            "articles": self.articles,
            "sentences": self.sentences,
            "skipped": [
                {"where": s.where, "line": s.line, "reason": s.reason} for s in self.skipped
            ],
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """How to build: BM25 parameters, analyzer, and parallelism."""

    params: BM25Params = field(default_factory=BM25Params)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    workers: int = 0  # 0: one per core


def build_index(
    sources: Sequence[str | Path],
    index_dir: Path,
    settings: BuildSettings | None = None,
    *,
    progress: Progress | None = None,
) -> BuildReport:
    """Read `sources` and write a new current index generation into `index_dir`."""
    started = time.perf_counter()
    ingested = read_sources(sources)
    return build_from_articles(ingested, index_dir, settings, progress=progress, started=started)


def build_from_articles(
    ingested: Ingested | Sequence[Article],
    index_dir: Path,
    settings: BuildSettings | None = None,
    *,
    progress: Progress | None = None,
    started: float | None = None,
) -> BuildReport:
    """Index already-read articles into a new current generation of `index_dir`."""
    settings = settings or BuildSettings()
    started = time.perf_counter() if started is None else started
    if not isinstance(ingested, Ingested):
        ingested = Ingested(articles=list(ingested))
    articles = ingested.articles

    sentences: list[str] = []
    token_ids: list[int] = []
    lengths: list[int] = []
    article_first: list[int] = [0]
    vocabulary: dict[str, int] = {}
    for article_sentences, article_terms in analyze_articles(articles, settings, progress):
        sentences.extend(article_sentences)
        for joined in article_terms:
            terms = joined.split()
            lengths.append(len(terms))
            for term in terms:
                term_id = vocabulary.get(term)
                if term_id is None:
                    term_id = vocabulary[term] = len(vocabulary)
                token_ids.append(term_id)
        article_first.append(len(sentences))

    bm25 = BM25Index.from_token_ids(
        list(vocabulary),
        np.asarray(token_ids, dtype=np.int64),
        np.asarray(lengths, dtype=np.int32),
        settings.params,
    )
    with GenerationWriter(index_dir) as writer:
        bm25.save(writer.folder)
        _write_sentences(writer.folder, sentences, article_first)
        _write_articles(writer.folder, articles)
        header = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "params": asdict(settings.params),
            "analyzer": asdict(settings.analyzer),
            "counts": {"articles": len(articles), "sentences": len(sentences)},
            "manifest": [asdict(f) for f in ingested.files],
            "skipped": [asdict(s) for s in ingested.skipped],
            "duplicates": ingested.duplicates,
        }
        folder = writer.commit(header)
    return BuildReport(
        folder=folder,
        articles=len(articles),
        sentences=len(sentences),
        skipped=tuple(ingested.skipped),
        duplicates=ingested.duplicates,
        seconds=time.perf_counter() - started,
    )


def analyze_articles(
    articles: Sequence[Article], settings: BuildSettings, progress: Progress | None = None
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (sentences, space-joined terms of each sentence) for each article, in order.

    Splitting and analysis run in `settings.workers` processes (one per core by default).
    """
    workers = settings.workers or os.cpu_count() or 1
    texts = [a.text for a in articles]
    chunks = [texts[i : i + _CHUNK_ARTICLES] for i in range(0, len(texts), _CHUNK_ARTICLES)]
    jobs = [(settings.analyzer, chunk) for chunk in chunks]
    if workers <= 1 or len(articles) < _PARALLEL_MIN_ARTICLES:
        results: Iterator[list[tuple[list[str], list[str]]]] = map(_analyze_chunk, jobs)
        yield from _report(results, progress)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        yield from _report(pool.map(_analyze_chunk, jobs), progress)


def _report(
    results: Iterator[list[tuple[list[str], list[str]]]], progress: Progress | None
) -> Iterator[tuple[list[str], list[str]]]:
    """Pass chunk results through article by article, telling `progress` after each chunk."""
    for chunk in results:
        yield from chunk
        if progress is not None:
            progress(len(chunk))


def _exit_with_parent(parent: int) -> None:
    """Make a worker exit when its parent dies (a SIGKILLed build must not leave orphans)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_analyzers: dict[AnalyzerSettings, Analyzer] = {}


def _analyze_chunk(job: tuple[AnalyzerSettings, list[str]]) -> list[tuple[list[str], list[str]]]:
    """Split and analyze a chunk of article bodies (runs in a worker process)."""
    settings, texts = job
    analyzer = _analyzers.get(settings)
    if analyzer is None:
        analyzer = _analyzers[settings] = Analyzer(settings)
    out = []
    for text in texts:
        sentences = split_sentences(text)
        out.append((sentences, [" ".join(analyzer.terms(s)) for s in sentences]))
    return out


def _write_sentences(folder: Path, sentences: list[str], article_first: list[int]) -> None:
    """Write sentence texts as one UTF-8 blob with byte offsets, and each article's first row."""
    encoded = [s.encode("utf-8") for s in sentences]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    (folder / "sentences.bin").write_bytes(b"".join(encoded))
    np.save(folder / "sentence_offsets.npy", offsets)
    np.save(folder / "article_first.npy", np.asarray(article_first, dtype=np.int32))


def _write_articles(folder: Path, articles: Sequence[Article]) -> None:
    """Write article metadata (no body) as JSON lines with byte offsets, for lazy reads."""
    lines = []
    for a in articles:
        meta = {k: v for k, v in asdict(a).items() if k != "text"}
        lines.append((json.dumps(meta, ensure_ascii=False) + "\n").encode("utf-8"))
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(line) for line in lines], out=offsets[1:])
    (folder / "articles.jsonl").write_bytes(b"".join(lines))
    np.save(folder / "article_offsets.npy", offsets)


def _count(n: int, noun: str) -> str:
    """Return '1 article' or '2,000 articles'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
