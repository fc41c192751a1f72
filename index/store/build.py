"""Build an index: read sources -> text -> semantic -> lexical segments -> write a new generation.

The orchestrator; each stage lives in its package and is called once, in order. `build_index`
reads the sources and merges them into the archive (`index.sources.ingest`,
`index.store.archiving`); `_build` then splits and analyzes the articles on every core
(`index.text.analyzing`), gives each sentence its vector (`index.semantic.build_vectors`: copied
from the current generation where the text is the same, else embedded), builds the BM25 arrays
of one segment (`index.lexical.bm25`, `index.lexical.segments`) and writes the archive
(`index.store.archive_writer`) and the header (`index.store.header`). An update instead appends
what changed as a new segment (`index.store.update`). The previous generation stays current
until the new one is complete, and one build at a time writes into an index directory (see
`index.store.generations`); file names and dtypes are `index.store.layout`'s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from index.config import canonical_source
from index.lexical import segments
from index.model import Article, Ingested
from index.semantic.build_vectors import (
    EmbedBlocks,
    Embedding,
    EmbeddingProgress,
    embed_sentences,
    embedding_texts,
    previous_vectors,
)
from index.sources.ingest import read_sources
from index.sources.spool import Spool
from index.store import archiving
from index.store.archive_writer import write_articles, write_sentences
from index.store.build_report import BuildReport
from index.store.build_settings import BuildSettings
from index.store.generations import GenerationWriter, exclusive_writer
from index.store.header import generation_header
from index.store.update import update_index
from index.text import boilerplate
from index.text.analyzing import Progress, analyze


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
    embed_blocks: EmbedBlocks | None = None,
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
        embed_blocks: Embed a full build's sentences with this (Ray tasks,
            `index.scale.ray_build`) instead of in this process.

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
            embed_blocks=embed_blocks,
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
    embed_blocks: EmbedBlocks | None = None,
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
        embed_blocks: Embed a full build's sentences with this instead of in this process.

    Raises:
        index.store.generations.BuildRunningError: Another build is writing into `index_dir`.
    """
    settings = settings or BuildSettings()
    started = time.perf_counter() if started is None else started
    if not isinstance(ingested, Ingested):
        ingested = Ingested(articles=list(ingested))
    with exclusive_writer(index_dir):
        if not full:
            report = update_index(
                ingested, index_dir, settings, progress, embedding_progress, started, sources
            )
            if report is not None:
                return report
        return _build(
            ingested,
            index_dir,
            settings,
            progress,
            embedding_progress,
            started,
            sources,
            embed_blocks,
        )


def _build(
    ingested: Ingested | Sequence[Article],
    index_dir: Path,
    settings: BuildSettings,
    progress: Progress | None,
    embedding_progress: EmbeddingProgress | None,
    started: float | None,
    sources: Sequence[str] = (),
    embed_blocks: EmbedBlocks | None = None,
) -> BuildReport:
    """Index articles into a new current generation of one segment (the writer lock held)."""
    started = time.perf_counter() if started is None else started
    if not isinstance(ingested, Ingested):
        ingested = Ingested(articles=list(ingested))
    articles = ingested.articles
    analyzed = analyze(articles, settings.analyzer, settings.workers, progress)
    embedding = Embedding(None, 0, 0)
    if settings.semantic:
        embedding = embed_sentences(
            embedding_texts(analyzed, articles),
            previous=previous_vectors(index_dir),
            threads=settings.workers or os.cpu_count() or 1,
            progress=embedding_progress,
            embed_blocks=embed_blocks,
        )
    bm25 = analyzed.bm25(settings.params)
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
