"""Build an index: sources -> articles -> sentences -> terms -> BM25 arrays -> a new generation.

Splitting and analysis run in worker processes (one per core) on chunks of articles. A worker
hands back compact arrays (its chunk's sentences as one UTF-8 blob, its terms numbered locally in
order of first appearance, the term ids of every sentence), so that little crosses between
processes and the parent only renumbers each chunk's few thousand distinct terms; it then builds
the BM25 arrays (`index.lexical.bm25`) and writes them. Each sentence is then embedded (its
`index.semantic.vectors.embedding_text`) by the packaged encoder on every core (onnxruntime's own threads),
except those whose text the current generation has already embedded: their vectors are copied,
found by content key. Without the model the generation holds no vectors and BM25 answers alone.
The previous generation stays current until the new one is complete, and one build at a time
writes into an index directory (see `index.store.generations`); file names and dtypes are `index.store.layout`'s.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.store import archiving, layout, generations
from index.text import boilerplate
from index.lexical import segments
from index.text.analysis import Analyzer, AnalyzerSettings
from index.store.archiving import article_keys
from index.lexical.bm25 import BM25Index, BM25Params
from index.config import DEFAULT_MAX_REMOVAL, canonical_source
from index.semantic.embedding import MINILM_INT8, QuantizedVectors, SentenceEncoder, load_encoder, quantize
from index.sources.ingest import read_sources
from index.model import Article, Ingested, Skipped, counted
from index.text.sentences import split_sentences
from index.scale.shards import write_for_generation
from index.sources.spool import Spool
from index.store.generations import GenerationWriter, exclusive_writer
from index.semantic.vectors import SentenceVectors, content_keys, embedding_text, model_name

# Below this many articles, worker start-up costs more than it saves.
_PARALLEL_MIN_ARTICLES = 400
_CHUNK_ARTICLES = 200
# Texts given to the encoder at a time: it batches them by length, and progress moves by this.
_EMBED_BLOCK = 2048

Progress = Callable[[int], None]
# Given how many sentences will be embedded, returns the progress callback of that phase.
EmbeddingProgress = Callable[[int], Progress]


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
        embedded: Distinct sentence texts the encoder embedded (a repeated text once).
        reused: Sentences whose vector was copied from the previous generation (same text).
        vectors: Whether the generation holds sentence vectors.
        full: Whether everything was indexed again (else only what changed was appended).
        added: Articles indexed by this build (new or changed).
        removed: Articles masked by this build (removed or changed).
        segments: Segments of the generation.
        committed: Whether a new generation was made current; false when nothing changed or a
            check refused it (`refused`): the current generation is then untouched.
        refused: Why the commit was refused (every source failed, too many removals, ...).
        failed_sources: Sources that could not be read: their articles were kept as they were.
        retention_removed: Articles removed by `NEWSBOT_RETENTION` (not counted in `removed`'s
            share against `NEWSBOT_MAX_REMOVAL`).
        notes: What else the build has to say (an older index's bodies rebuilt from sentences).
    """

    folder: Path
    articles: int
    sentences: int
    skipped: tuple[Skipped, ...] = ()
    duplicates: int = 0
    seconds: float = 0.0
    embedded: int = 0
    reused: int = 0
    vectors: bool = False
    full: bool = True
    added: int = 0
    removed: int = 0
    segments: int = 1
    committed: bool = True
    refused: str | None = None
    failed_sources: tuple[str, ...] = ()
    retention_removed: int = 0
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Return the one-line summary the CLI and the bot show."""
        if self.refused is not None:
            return f"nothing committed, the index is as it was: {self.refused}"
        if not self.committed:
            failing = (
                f", {counted(len(self.failed_sources), 'failing source')}"
                if self.failed_sources
                else ""
            )
            return (
                f"nothing changed ({counted(self.articles, 'article')}{failing}); "
                "the index is as it was"
            )
        kept = (
            f", {counted(len(self.failed_sources), 'failing source')} kept as it was"
            if self.failed_sources
            else ""
        )
        retained = f", {self.retention_removed:,} past retention" if self.retention_removed else ""
        change = (
            " (full rebuild)"
            if self.full
            else f" (+{self.added:,} new or changed, -{self.removed:,} removed or changed, "
            f"{counted(self.segments, 'segment')})"
        )
        return (
            f"{counted(self.articles, 'article')}, {counted(self.sentences, 'sentence')}{change}, "
            f"{len(self.skipped):,} skipped, {self.duplicates:,} duplicates, "
            f"{self.embedded:,} embedded, {self.reused:,} reused, {self.seconds:.1f} s"
            f"{retained}{kept}"
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
            "embedded": self.embedded,
            "reused": self.reused,
            "vectors": self.vectors,
            "full": self.full,
            "added": self.added,
            "removed": self.removed,
            "segments": self.segments,
            "committed": self.committed,
            "refused": self.refused,
            "failed_sources": list(self.failed_sources),
            "retention_removed": self.retention_removed,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildReport:
        """Read a report back from `to_json`'s shape (the bot reads its child build's report)."""
        return cls(
            folder=Path(data["index"]),
            articles=int(data["articles"]),
            sentences=int(data["sentences"]),
            skipped=tuple(Skipped(s["where"], s["line"], s["reason"]) for s in data["skipped"]),
            duplicates=int(data["duplicates"]),
            seconds=float(data["seconds"]),
            embedded=int(data.get("embedded", 0)),
            reused=int(data.get("reused", 0)),
            vectors=bool(data.get("vectors", False)),
            full=bool(data.get("full", True)),
            added=int(data.get("added", 0)),
            removed=int(data.get("removed", 0)),
            segments=int(data.get("segments", 1)),
            committed=bool(data.get("committed", True)),
            refused=data.get("refused"),
            failed_sources=tuple(data.get("failed_sources", ())),
            retention_removed=int(data.get("retention_removed", 0)),
            notes=tuple(data.get("notes", ())),
        )


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """How to build: BM25 parameters, analyzer, and parallelism."""

    params: BM25Params = field(default_factory=BM25Params)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    workers: int = 0  # 0: one per core
    semantic: bool = True  # embed sentences, when the model is available
    # Articles older than this (by date, else first sighting) leave at the next update; None:
    # kept for ever (`index.config.retention`).
    retention: timedelta | None = None
    # Largest share of the live articles an update may remove (`index.config.max_removal`).
    max_removal: float = DEFAULT_MAX_REMOVAL
    shards: int | None = None  # `index.scale.shards`; None: as many as the current generation has


def build_index(
    sources: Sequence[str | Path],
    index_dir: Path,
    settings: BuildSettings | None = None,
    *,
    progress: Progress | None = None,
    embedding_progress: EmbeddingProgress | None = None,
    full: bool = True,
    remove: Sequence[str | Path] = (),
    fetch_feeds: bool = True,
) -> BuildReport:
    """Read `sources` into the archive `index_dir` holds, and commit it if it checks out.

    The index is an archive (`index.store.archiving`): what the sources hold now is merged with the
    current generation's articles (feeds are windows; a source that fails changes nothing of
    its articles). The merge is checked before anything is written: every source failing, an
    empty index where the current one is not, or more removals than `settings.max_removal`
    commit nothing (`BuildReport.refused`), and so does an update that changes nothing.

    Args:
        sources: Files, folders and feed URLs to read; the index remembers them (header
            `"sources"`) with those it already did.
        index_dir: The index directory.
        settings: How to build.
        progress: Told how many articles each analyzed chunk held.
        embedding_progress: Called once with the number of sentences to embed, if any.
        full: Index the whole archive again; else append what changed (`build_from_articles`).
        remove: Sources to forget, with their articles.
        fetch_feeds: Fetch every feed now (conditionally) into the spool; False reads what
            the bot's poller spooled (`index.sources.ingest.read_sources`'s `fresh`).

    Raises:
        index.store.generations.BuildRunningError: Another build is writing into `index_dir`.
    """
    started = time.perf_counter()
    settings = settings or BuildSettings()
    removing = tuple(dict.fromkeys(canonical_source(s) for s in remove))
    read = [s for s in dict.fromkeys(canonical_source(s) for s in sources) if s not in removing]
    with exclusive_writer(index_dir):  # before reading: a second build fails at once
        stored = archiving.read_stored(index_dir)
        ingested = read_sources(read, spool=Spool.of(index_dir), fresh=fetch_feeds)
        merged = archiving.merge(
            stored, ingested, read, removing, retention=settings.retention, now=datetime.now(UTC)
        )
        refused = archiving.refusal(stored, merged, ingested, read, settings.max_removal)
        if refused is not None or not (full or merged.changed):
            return _uncommitted(index_dir, stored, merged, ingested, refused, started)
        report = build_from_articles(
            merged.ingested(ingested),
            index_dir,
            settings,
            progress=progress,
            embedding_progress=embedding_progress,
            started=started,
            full=full,
            sources=merged.sources,
        )
        return replace(
            report,
            failed_sources=merged.failed_sources,
            retention_removed=merged.retention_removed,
            notes=stored.notes + tuple(ingested.notes),
        )


def _uncommitted(
    index_dir: Path,
    stored: archiving.Stored,
    merged: archiving.Merged,
    ingested: Ingested,
    refused: str | None,
    started: float,
) -> BuildReport:
    """Return the report of a build that commits nothing: the current generation stays."""
    return BuildReport(
        folder=stored.folder or index_dir,
        articles=len(stored.articles),
        sentences=stored.sentences,
        skipped=tuple(ingested.skipped),
        duplicates=merged.duplicates,
        seconds=time.perf_counter() - started,
        full=False,
        added=0,
        removed=0,
        segments=stored.segments,
        committed=False,
        refused=refused,
        failed_sources=merged.failed_sources,
        retention_removed=0,
        notes=stored.notes + tuple(ingested.notes),
    )


def build_from_articles(
    ingested: Ingested | Sequence[Article],
    index_dir: Path,
    settings: BuildSettings | None = None,
    *,
    progress: Progress | None = None,
    embedding_progress: EmbeddingProgress | None = None,
    started: float | None = None,
    full: bool = True,
    sources: Sequence[str] = (),
) -> BuildReport:
    """Index exactly these articles into a new current generation of `index_dir`.

    With `full` false, only what changed since the current generation is indexed, as a new
    segment (`index.store.update`); when there is nothing to append to, everything is. No archive
    merge and no check happen here (`build_index` does both): the list is the index.

    Args:
        ingested: The articles (and what their read reported).
        index_dir: The index directory.
        settings: How to build.
        progress: Told how many articles each analyzed chunk held.
        embedding_progress: Called once with the number of sentences to embed, if any.
        started: When the build began (`time.perf_counter`), for the report.
        full: Index everything again; else append what changed.
        sources: What the generation's header remembers as its sources.

    Raises:
        index.store.generations.BuildRunningError: Another build is writing into `index_dir`.
    """
    settings = settings or BuildSettings()
    started = time.perf_counter() if started is None else started
    if not isinstance(ingested, Ingested):
        ingested = Ingested(articles=list(ingested))
    with exclusive_writer(index_dir):
        if not full:
            # `index.store.update` builds on this module's parts, hence imported here.
            from index.store.update import update_index

            report = update_index(
                ingested, index_dir, settings, progress, embedding_progress, started, sources
            )
            if report is not None:
                return report
        return _build(ingested, index_dir, settings, progress, embedding_progress, started, sources)


def _build(
    ingested: Ingested | Sequence[Article],
    index_dir: Path,
    settings: BuildSettings,
    progress: Progress | None,
    embedding_progress: EmbeddingProgress | None,
    started: float | None,
    sources: Sequence[str] = (),
) -> BuildReport:
    """Index articles into a new current generation of one segment (the writer lock held)."""
    started = time.perf_counter() if started is None else started
    if not isinstance(ingested, Ingested):
        ingested = Ingested(articles=list(ingested))
    articles = ingested.articles
    analyzed = analyze(articles, settings, progress)
    bm25 = analyzed.bm25(settings.params)
    embedding = Embedding(None, 0, 0)
    if settings.semantic:
        embedding = embed_sentences(
            analyzed.embedding_texts(articles),
            previous=_previous_vectors(index_dir),
            threads=settings.workers or os.cpu_count() or 1,
            progress=embedding_progress,
        )
    with GenerationWriter(index_dir) as writer:
        segment = segments.save_segment(writer.folder, bm25, analyzed.token_ids)
        write_sentences(writer.folder, analyzed.texts, analyzed.text_offsets, analyzed.per_article)
        write_articles(writer.folder, articles)
        if embedding.vectors is not None:
            embedding.vectors.save(writer.folder)
        boilerplate.save_flags(
            writer.folder, settings.analyzer, boilerplate.previous_generation(index_dir)
        )
        folder = writer.commit(
            generation_header(
                writer.folder,
                settings,
                ingested,
                [segment],
                articles=len(articles),
                sentences=bm25.n_docs,
                vectors=embedding.vectors,
                sources=sources,
            )
        )
    return BuildReport(
        folder=folder,
        articles=len(articles),
        sentences=bm25.n_docs,
        skipped=tuple(ingested.skipped),
        duplicates=ingested.duplicates,
        seconds=time.perf_counter() - started,
        embedded=embedding.embedded,
        reused=embedding.reused,
        vectors=embedding.vectors is not None,
        added=len(articles),
    )


def generation_header(
    folder: Path,
    settings: BuildSettings,
    ingested: Ingested,
    segment_list: list[dict[str, Any]],
    *,
    articles: int,
    sentences: int,
    vectors: SentenceVectors | None,
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the header of a generation whose files are all written into `folder`.

    Its shards, if it has any (`settings.shards`), are written first (`index.scale.shards`).
    """
    shards = write_for_generation(folder, segment_list, settings.params, settings.shards, vectors)
    header: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sources": list(sources),
        "params": asdict(settings.params),
        "analyzer": asdict(settings.analyzer),
        "counts": {"articles": articles, "sentences": sentences},
        "segments": segment_list,
        "manifest": [asdict(f) for f in ingested.files],
        "skipped": [asdict(s) for s in ingested.skipped],
        "duplicates": ingested.duplicates,
        "files": layout.describe_files(folder),
    }
    if vectors is not None:
        header["vectors"] = vectors.header()
    if shards is not None:
        header["shards"] = shards
    return header


# -- sentence vectors --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Embedding:
    """The sentence vectors of a build, and how they were obtained.

    Attributes:
        vectors: One per sentence, by row; None when the encoder is unavailable.
        embedded: Distinct texts the encoder embedded.
        reused: Sentences whose vector came from the previous generation.
    """

    vectors: SentenceVectors | None
    embedded: int
    reused: int


def embed_sentences(
    texts: list[str],
    previous: SentenceVectors | None = None,
    *,
    threads: int = 1,
    progress: EmbeddingProgress | None = None,
    encoder: SentenceEncoder | None = None,
) -> Embedding:
    """Give each text a vector: the previous generation's for a text it holds, else the model's.

    Args:
        texts: What the model reads for each sentence (`index.semantic.vectors.embedding_text`), by row.
        previous: The current generation's vectors, reused where their content key matches
            (only if the same model computed them).
        threads: onnxruntime threads for embedding (2 threads embed 1.7x faster than 1 here;
            docs/semantic.md).
        progress: Called with the number of texts to embed, if any; returns the callback told
            how many are done.
        encoder: Embed with this encoder instead of loading one.
    """
    keys = content_keys(texts)
    n = len(texts)
    codes = np.zeros((n, MINILM_INT8.dimension), dtype=np.int8)
    scales = np.zeros(n, dtype=np.float32)
    reused = np.zeros(n, dtype=bool)
    if previous is not None and previous.model == model_name() and previous.n_rows:
        order = np.argsort(previous.keys, kind="stable")
        sorted_keys = previous.keys[order]
        at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
        reused = sorted_keys[at] == keys
        source = order[at[reused]]
        codes[reused] = previous.codes[source]
        scales[reused] = previous.scales[source]
    missing = np.flatnonzero(~reused)
    # A text repeated within the build (boilerplate, a wire story filed twice) is embedded once.
    _, first, copies = np.unique(keys[missing], return_index=True, return_inverse=True)
    embedded = missing[first]
    if len(embedded):
        encoder = encoder or load_encoder(threads=threads)
        if encoder is None:  # load_encoder has logged why
            return Embedding(None, 0, 0)
        done = progress(len(embedded)) if progress is not None else None
        for start in range(0, len(embedded), _EMBED_BLOCK):
            rows = embedded[start : start + _EMBED_BLOCK]
            stored = quantize(encoder.encode([texts[r] for r in rows]))
            codes[rows], scales[rows] = stored.codes, stored.scales
            if done is not None:
                done(len(rows))
        codes[missing], scales[missing] = codes[embedded[copies]], scales[embedded[copies]]
    vectors = SentenceVectors.from_quantized(QuantizedVectors(codes, scales), keys)
    return Embedding(vectors, embedded=len(embedded), reused=n - len(missing))


def _previous_vectors(index_dir: Path) -> SentenceVectors | None:
    """Return the current generation's vectors if it has intact ones, else None.

    A generation of an older format is read too (its vector files are the same): a full build
    after an upgrade then embeds only new sentences (1.6 h saved at 1M, docs/semantic.md).
    """
    try:
        folder = generations.current_generation(index_dir)
        header = generations.read_header(folder, oldest=generations.VECTORS_SINCE)
        layout.verify_files(folder, header["files"])
        return SentenceVectors.load(folder)
    except (generations.StoreError, OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class Analyzed:
    """Articles split into sentences and analyzed, ready to index.

    Attributes:
        vocabulary: Terms by term id, in order of first appearance.
        token_ids: Every term of every sentence, sentence after sentence.
        doc_len: Number of terms of each sentence.
        texts: The sentences, UTF-8, one blob per chunk of articles.
        text_offsets: Byte offsets of each chunk's sentences in its blob, and the end.
        per_article: Number of sentences of each article, per chunk.
    """

    vocabulary: list[str]
    token_ids: npt.NDArray[np.int32]
    doc_len: npt.NDArray[np.int32]
    texts: list[bytes]
    text_offsets: list[npt.NDArray[np.int64]]
    per_article: list[npt.NDArray[np.int32]]

    def bm25(self, params: BM25Params) -> BM25Index:
        """Return the BM25 index of these sentences alone."""
        return BM25Index.from_token_ids(self.vocabulary, self.token_ids, self.doc_len, params)

    def sentences(self) -> list[str]:
        """Return every sentence, by row."""
        return [
            blob[a:b].decode("utf-8")
            for blob, offsets in zip(self.texts, self.text_offsets, strict=True)
            for a, b in itertools.pairwise(offsets.tolist())
        ]

    def embedding_texts(self, articles: Sequence[Article]) -> list[str]:
        """Return what the model reads for each sentence, by row (`embedding_text`)."""
        counts = _concatenate(self.per_article, np.int32).tolist()
        titles = itertools.chain.from_iterable(
            itertools.repeat(a.title, n) for a, n in zip(articles, counts, strict=True)
        )
        return [embedding_text(t, s) for t, s in zip(titles, self.sentences(), strict=True)]


def analyze(
    articles: Sequence[Article], settings: BuildSettings, progress: Progress | None = None
) -> Analyzed:
    """Split and analyze articles (in worker processes), numbering terms as rank_bm25 does."""
    vocabulary: dict[str, int] = {}
    token_ids: list[npt.NDArray[np.int32]] = []
    lengths: list[npt.NDArray[np.int32]] = []
    texts: list[bytes] = []
    text_offsets: list[npt.NDArray[np.int64]] = []
    per_article: list[npt.NDArray[np.int32]] = []
    for chunk in _analyzed_chunks(articles, settings, progress):
        # Chunks come in order, and each numbers its terms by first appearance: numbering the
        # new ones in that order keeps global ids in order of first appearance (as rank_bm25's).
        to_global = np.fromiter(
            (vocabulary.setdefault(term, len(vocabulary)) for term in chunk.vocabulary),
            dtype=np.int32,
            count=len(chunk.vocabulary),
        )
        token_ids.append(to_global[chunk.token_ids])
        lengths.append(chunk.lengths)
        texts.append(chunk.text)
        text_offsets.append(chunk.text_offsets)
        per_article.append(chunk.sentences_per_article)
    return Analyzed(
        list(vocabulary),
        _concatenate(token_ids, np.int32),
        _concatenate(lengths, np.int32),
        texts,
        text_offsets,
        per_article,
    )


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Some articles, split and analyzed by a worker.

    Attributes:
        sentences_per_article: Number of sentences of each article.
        text: The sentences, UTF-8, one after the other.
        text_offsets: Byte offset of each sentence in `text`, and the end.
        vocabulary: The chunk's terms, in order of first appearance.
        token_ids: Every term of every sentence, as an index into `vocabulary`.
        lengths: Number of terms of each sentence.
    """

    sentences_per_article: npt.NDArray[np.int32]
    text: bytes
    text_offsets: npt.NDArray[np.int64]
    vocabulary: list[str]
    token_ids: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.int32]


def analyze_articles(
    articles: Sequence[Article], settings: BuildSettings, progress: Progress | None = None
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (sentences, space-joined terms of each sentence) for each article, in order.

    Splitting and analysis run in `settings.workers` processes (one per core by default).
    """
    for chunk in _analyzed_chunks(articles, settings, progress):
        text, offsets = chunk.text, chunk.text_offsets.tolist()
        sentences = [text[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
        ends = np.cumsum(chunk.lengths).tolist()
        words = [chunk.vocabulary[i] for i in chunk.token_ids.tolist()]
        terms = [
            " ".join(words[b - n : b]) for n, b in zip(chunk.lengths.tolist(), ends, strict=True)
        ]
        row = 0
        for n in chunk.sentences_per_article.tolist():
            yield sentences[row : row + n], terms[row : row + n]
            row += n


def _analyzed_chunks(
    articles: Sequence[Article], settings: BuildSettings, progress: Progress | None
) -> Iterator[_Chunk]:
    """Yield the articles split and analyzed, chunk by chunk, in order."""
    workers = settings.workers or os.cpu_count() or 1
    texts = [a.text for a in articles]
    chunks = [texts[i : i + _CHUNK_ARTICLES] for i in range(0, len(texts), _CHUNK_ARTICLES)]
    jobs = [(settings.analyzer, chunk) for chunk in chunks]
    if workers <= 1 or len(articles) < _PARALLEL_MIN_ARTICLES:
        yield from _report(map(_analyze_chunk, jobs), progress)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        yield from _report(pool.map(_analyze_chunk, jobs), progress)


def _report(results: Iterator[_Chunk], progress: Progress | None) -> Iterator[_Chunk]:
    """Pass chunks through, telling `progress` how many articles each held."""
    for chunk in results:
        yield chunk
        if progress is not None:
            progress(len(chunk.sentences_per_article))


def _exit_with_parent(parent: int) -> None:
    """Make a worker exit when its parent dies (a SIGKILLed build must not leave orphans)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_analyzers: dict[AnalyzerSettings, Analyzer] = {}


def _analyze_chunk(job: tuple[AnalyzerSettings, list[str]]) -> _Chunk:
    """Split and analyze a chunk of article bodies (runs in a worker process)."""
    settings, texts = job
    analyzer = _analyzers.get(settings)
    if analyzer is None:
        analyzer = _analyzers[settings] = Analyzer(settings)
    local: dict[str, int] = {}
    per_article: list[int] = []
    encoded: list[bytes] = []
    token_ids: list[int] = []
    lengths: list[int] = []
    for text in texts:
        sentences = split_sentences(text)
        per_article.append(len(sentences))
        for sentence in sentences:
            encoded.append(sentence.encode("utf-8"))
            terms = analyzer.terms(sentence)
            lengths.append(len(terms))
            token_ids.extend([local.setdefault(term, len(local)) for term in terms])
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return _Chunk(
        sentences_per_article=np.asarray(per_article, dtype=np.int32),
        text=b"".join(encoded),
        text_offsets=offsets,
        vocabulary=list(local),
        token_ids=np.asarray(token_ids, dtype=np.int32),
        lengths=np.asarray(lengths, dtype=np.int32),
    )


def _concatenate(parts: list[npt.NDArray[Any]], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """Concatenate arrays (none: an empty array of `dtype`)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def write_sentences(
    folder: Path,
    texts: list[bytes],
    text_offsets: list[npt.NDArray[np.int64]],
    per_article: list[npt.NDArray[np.int32]],
) -> None:
    """Write sentence texts as one UTF-8 blob with byte offsets, and each article's first row."""
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]], dtype=np.int64)
    offsets = np.zeros(1, dtype=np.int64)
    if texts:
        offsets = np.concatenate(
            [np.zeros(1, dtype=np.int64)]
            + [o[1:] + start for o, start in zip(text_offsets, starts.tolist(), strict=True)]
        )
    counts = _concatenate(per_article, np.int32)
    article_first = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=article_first[1:])
    with (folder / layout.SENTENCE_TEXTS).open("wb") as f:
        for text in texts:
            f.write(text)
    layout.save_array(folder, "sentence_offsets", offsets)
    layout.save_array(folder, "article_first", article_first)


def write_articles(folder: Path, articles: Sequence[Article]) -> None:
    """Write article metadata as JSON lines, and bodies as one blob, with byte offsets."""
    for name, offsets_name, parts in (
        (layout.ARTICLE_LINES, "article_offsets", [article_line(a) for a in articles]),
        (layout.ARTICLE_BODIES, "body_offsets", [a.text.encode("utf-8") for a in articles]),
    ):
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(part) for part in parts], out=offsets[1:])
        (folder / name).write_bytes(b"".join(parts))
        layout.save_array(folder, offsets_name, offsets)
    write_dates(folder, [a.date for a in articles])
    ids, keys = article_keys(articles)
    layout.save_array(folder, "article_ids", ids)
    layout.save_array(folder, "article_keys", keys)


def write_dates(folder: Path, dates: list[str | None]) -> None:
    """Write every article's date, by article row, as one JSON list (`index.store.archive`)."""
    (folder / layout.ARTICLE_DATES).write_text(json.dumps(dates), encoding="utf-8")


def article_line(article: Article) -> bytes:
    """Return an article's metadata (all but its body) as one line of JSON."""
    meta = {k: v for k, v in asdict(article).items() if k != "text"}
    return (json.dumps(meta, ensure_ascii=False) + "\n").encode("utf-8")
