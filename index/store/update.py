"""Bring an index up to date with its archive without indexing the rest again.

The articles to index (the archive merged with what the sources hold now: `index.store.archiving`)
are compared with the current generation, article by article (the
xxHash64 of each article's id, and of all it holds): new and changed articles are split, analyzed
and embedded alone, into a new segment appended after the others; removed and changed articles'
rows become dead (`dead_rows.npy`). The new generation hard-links the segments it keeps, copies
the sentence archive and vectors with the new rows appended, and stores the statistics of the
whole index (`index.lexical.segments`). Its live articles are exactly those a full build of the same
articles would index, and its scores exactly rank_bm25's over them.

Segments stay few, as in a log-structured merge: after an append, the newest segment is merged
into the one before it while that one is less than `MERGE_FACTOR` times its size, and never more
than `MAX_SEGMENTS` remain. Merging reads the segments' stored terms (`tokens.npy`), never the
sources. Once dead rows are `COMPACT_DEAD` of all rows, the generation is compacted: one
segment, archive and vectors without the dead rows. Every step writes a new generation through
`index.store.generations.GenerationWriter`, so a crash at any point leaves the last committed one
current. The text, semantic and lexical stages are the full build's (`index.text.analyzing`,
`index.semantic.build_vectors`, `index.lexical.segments`), and so are the writers
(`index.store.archive_writer`, `index.store.header`).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.lexical import segments
from index.lexical.bm25 import BM25Index, BM25Params
from index.model import Article, Ingested
from index.semantic.build_vectors import (
    Embedding,
    EmbeddingProgress,
    embed_sentences,
    embedding_texts,
)
from index.semantic.vectors import SentenceVectors
from index.store import generations, layout
from index.store.archive import Archive, live_articles
from index.store.archive_writer import article_line, write_dates
from index.store.archiving import article_keys
from index.store.build_report import BuildReport
from index.store.build_settings import BuildSettings
from index.store.generations import GenerationWriter
from index.store.header import generation_header
from index.text import boilerplate
from index.text.analyzing import Analyzed, Progress, analyze

# The newest segment is merged into the previous one while that one is below this many times
# its size: sizes then fall at least this fast along the index, so segments stay O(log N).
MERGE_FACTOR = 4
MAX_SEGMENTS = 8
# Share of dead rows at which the generation is rewritten without them.
COMPACT_DEAD = 0.25


@dataclass(frozen=True, slots=True)
class _Current:
    """The current generation, as an update reads it."""

    folder: Path
    header: dict[str, Any]
    archive: Archive
    ids: npt.NDArray[np.uint64]
    keys: npt.NDArray[np.uint64]
    dead: npt.NDArray[np.int64]
    vectors: SentenceVectors | None


def update_index(
    ingested: Ingested,
    index_dir: Path,
    settings: BuildSettings,
    progress: Progress | None,
    embedding_progress: EmbeddingProgress | None,
    started: float,
    sources: Sequence[str] = (),
) -> BuildReport | None:
    """Append what changed in `ingested` to the current generation (the writer lock held).

    Returns None when there is nothing to append to (no current generation, another format,
    other analysis settings, or vectors wanted where the current generation has none): the
    caller builds in full.
    """
    current = _current(index_dir, settings)
    if current is None:
        return None
    articles = ingested.articles
    ids, keys = article_keys(articles)
    live = current.archive.live_articles
    live_rows = np.flatnonzero(live) if live is not None else np.arange(len(current.ids))
    by_id = dict(zip(current.ids[live_rows].tolist(), live_rows.tolist(), strict=True))
    kept: set[int] = set()
    added: list[Article] = []
    for article, article_id, key in zip(articles, ids.tolist(), keys.tolist(), strict=True):
        row = by_id.get(article_id)
        if row is not None and int(current.keys[row]) == key:
            kept.add(row)
        else:
            added.append(article)
    removed = sorted(set(by_id.values()) - kept)
    new_dead = [np.arange(*_rows_of(current.archive, r)) for r in removed]
    if any(not len(rows) for rows in new_dead) or len(kept) + len(added) != len(articles):
        # An article without sentences has no row to mask, and an id given twice (ingest never
        # gives one twice; a caller's list may) has one row for two articles: build in full.
        return None
    dead = np.unique(np.concatenate([current.dead, *new_dead])).astype(np.int64)

    analyzed = analyze(added, settings.analyzer, settings.workers, progress) if added else None
    vectors = current.vectors
    embedding = Embedding(None, 0, 0)
    if vectors is not None and analyzed is not None:
        embedding = embed_sentences(
            embedding_texts(analyzed, added),
            previous=vectors,
            threads=settings.workers or os.cpu_count() or 1,
            progress=embedding_progress,
        )
        # None when the encoder could not embed the new sentences: no vectors then.
        vectors = None if embedding.vectors is None else vectors.appended(embedding.vectors)

    with GenerationWriter(index_dir) as writer:
        folder = writer.folder
        entries = [dict(e) for e in current.header["segments"]]
        for entry in entries:
            segments.link_segment(current.folder, folder, entry["name"])
        if analyzed is not None:
            entries.append(
                segments.save_segment(folder, analyzed.bm25(settings.params), analyzed.token_ids)
            )
        entries = _merge_tail(folder, entries, settings.params)
        _append_archive(current, folder, analyzed, added)
        if len(dead) and len(dead) >= COMPACT_DEAD * sum(int(e["rows"]) for e in entries):
            entries, vectors = _compact(folder, entries, dead, vectors, settings.params)
            dead = np.zeros(0, dtype=np.int64)
        if vectors is not None:
            vectors.save(folder)
        if len(dead):
            layout.save_array(folder, "dead_rows", dead)
        _save_weights(folder, entries, dead, settings.params)
        boilerplate.save_flags(folder, settings.analyzer, current.folder)
        n_articles = len(articles)
        n_sentences = sum(int(e["rows"]) for e in entries) - len(dead)
        header = generation_header(
            folder,
            settings,
            ingested,
            entries,
            articles=n_articles,
            sentences=n_sentences,
            vectors=vectors,
            sources=sources,
        )
        committed = writer.commit(header)
    return BuildReport(
        folder=committed,
        articles=n_articles,
        sentences=n_sentences,
        skipped=tuple(ingested.skipped),
        duplicates=ingested.duplicates,
        seconds=time.perf_counter() - started,
        embedded=embedding.embedded,
        reused=embedding.reused,
        vectors=vectors is not None,
        full=False,
        added=len(added),
        removed=len(removed),
        segments=len(entries),
    )


def _current(index_dir: Path, settings: BuildSettings) -> _Current | None:
    """Return the current generation if an update can append to it, else None."""
    try:
        folder = generations.current_generation(index_dir)
        header = generations.read_header(folder)
        layout.verify_files(folder, header["files"])
        if header["analyzer"] != _asdict(settings.analyzer) or header["params"] != _asdict(
            settings.params
        ):
            return None
        archive = Archive.load(folder)
        vectors = SentenceVectors.load(folder) if settings.semantic else None
        if settings.semantic and vectors is None:
            return None  # a full build embeds every sentence
        live = archive.live_sentences
        dead = np.zeros(0, dtype=np.int64) if live is None else np.flatnonzero(~live)
        return _Current(
            folder=folder,
            header=header,
            archive=archive,
            ids=np.asarray(layout.load_array(folder, "article_ids")),
            keys=np.asarray(layout.load_array(folder, "article_keys")),
            dead=dead,
            vectors=vectors,
        )
    except (generations.StoreError, OSError, ValueError, KeyError, TypeError):
        return None


def _asdict(settings: Any) -> dict[str, Any]:
    """Return settings as the header stores them (JSON round trip: tuples become lists)."""
    return dict(json.loads(json.dumps(asdict(settings))))


def _rows_of(archive: Archive, article: int) -> tuple[int, int]:
    """Return the sentence rows of article row `article` as a half-open range."""
    first, last = archive.article_rows(article)
    return first, last + 1


# -- archive -------------------------------------------------------------------------------------


def _append_archive(
    current: _Current, folder: Path, analyzed: Analyzed | None, added: list[Article]
) -> None:
    """Write the current archive with the new articles' sentences and metadata appended."""
    source = current.folder
    for name in (layout.SENTENCE_TEXTS, layout.ARTICLE_LINES, layout.ARTICLE_BODIES):
        shutil.copyfile(source / name, folder / name)
    sentence_offsets = np.asarray(layout.load_array(source, "sentence_offsets"))
    article_first = np.asarray(layout.load_array(source, "article_first"))
    article_offsets = np.asarray(layout.load_array(source, "article_offsets"))
    body_offsets = np.asarray(layout.load_array(source, "body_offsets"))
    ids, keys = current.ids, current.keys
    if analyzed is not None:
        with (folder / layout.SENTENCE_TEXTS).open("ab") as out:
            blob_start = int(sentence_offsets[-1])
            ends = []
            for blob, offsets in zip(analyzed.texts, analyzed.text_offsets, strict=True):
                out.write(blob)
                ends.append(offsets[1:] + blob_start)
                blob_start += len(blob)
        counts = np.concatenate(analyzed.per_article).astype(np.int64)
        sentence_offsets = np.concatenate([sentence_offsets, *ends])
        article_first = np.concatenate(
            [article_first, (article_first[-1] + np.cumsum(counts)).astype(np.int32)]
        )
        lines = [article_line(a) for a in added]
        with (folder / layout.ARTICLE_LINES).open("ab") as out:
            out.write(b"".join(lines))
        line_ends = article_offsets[-1] + np.cumsum([len(line) for line in lines])
        article_offsets = np.concatenate([article_offsets, line_ends.astype(np.int64)])
        bodies = [a.text.encode("utf-8") for a in added]
        with (folder / layout.ARTICLE_BODIES).open("ab") as out:
            out.write(b"".join(bodies))
        body_ends = body_offsets[-1] + np.cumsum([len(body) for body in bodies])
        body_offsets = np.concatenate([body_offsets, body_ends.astype(np.int64)])
        new_ids, new_keys = article_keys(added)
        ids, keys = np.concatenate([ids, new_ids]), np.concatenate([keys, new_keys])
    write_dates(folder, current.archive.dates + [a.date for a in added])
    layout.save_array(folder, "sentence_offsets", sentence_offsets.astype(np.int64))
    layout.save_array(folder, "article_first", article_first.astype(np.int32))
    layout.save_array(folder, "article_offsets", article_offsets.astype(np.int64))
    layout.save_array(folder, "body_offsets", body_offsets.astype(np.int64))
    layout.save_array(folder, "article_ids", ids.astype(np.uint64))
    layout.save_array(folder, "article_keys", keys.astype(np.uint64))


# -- merges --------------------------------------------------------------------------------------


def _merge_tail(
    folder: Path, entries: list[dict[str, Any]], params: BM25Params
) -> list[dict[str, Any]]:
    """Merge the newest segments of `folder` while the merge policy asks; return the entries."""
    n = tail_to_merge([int(e["rows"]) for e in entries])
    if n < 2:
        return entries
    group = entries[-n:]
    merged = _merged(folder, [e["name"] for e in group], None, params)
    for entry in group:
        shutil.rmtree(folder / entry["name"])
    return [*entries[:-n], merged]


def tail_to_merge(rows: list[int]) -> int:
    """Return how many of the newest segments (sizes `rows`, oldest first) to merge into one.

    The newest group takes in the segment before it while that one holds fewer than
    `MERGE_FACTOR` times the group's rows, or while more than `MAX_SEGMENTS` would remain.
    Below 2, nothing is merged.
    """
    n = 1
    while n < len(rows) and (
        len(rows) - n + 1 > MAX_SEGMENTS or rows[-n - 1] < MERGE_FACTOR * sum(rows[-n:])
    ):
        n += 1
    return n


def _merged(
    folder: Path,
    names: list[str],
    dead: npt.NDArray[np.bool_] | None,
    params: BM25Params,
) -> dict[str, Any]:
    """Write one segment holding the rows of segments `names` (without the `dead` ones)."""
    vocabulary: dict[str, int] = {}
    tokens, lengths = [], []
    for name in names:
        segment = BM25Index.load(folder / name)
        to_merged = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for t in segment.vocabulary),
            dtype=np.int32,
            count=len(segment.vocabulary),
        )
        tokens.append(to_merged[segments.load_tokens(folder, name)])
        lengths.append(np.asarray(segment.doc_len))
    token_ids = np.concatenate(tokens) if tokens else np.zeros(0, np.int32)
    doc_len = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    terms = list(vocabulary)
    if dead is not None:
        token_ids = token_ids[~np.repeat(dead, doc_len)]
        doc_len = doc_len[~dead]
        # Numbered again by first appearance among the rows kept, as rank_bm25 numbers them.
        used, first = np.unique(token_ids, return_index=True)
        order = used[np.argsort(first, kind="stable")]
        renumber = np.zeros(len(terms), dtype=np.int32)
        renumber[order] = np.arange(len(order), dtype=np.int32)
        terms = [terms[t] for t in order.tolist()]
        token_ids = renumber[token_ids]
    bm25 = BM25Index.from_token_ids(terms, token_ids, doc_len, params)
    return segments.save_segment(folder, bm25, token_ids)


def _compact(
    folder: Path,
    entries: list[dict[str, Any]],
    dead_rows: npt.NDArray[np.int64],
    vectors: SentenceVectors | None,
    params: BM25Params,
) -> tuple[list[dict[str, Any]], SentenceVectors | None]:
    """Rewrite `folder` without its dead rows: one segment, the archive and vectors filtered."""
    dead = np.zeros(sum(int(e["rows"]) for e in entries), dtype=bool)
    dead[dead_rows] = True
    merged = _merged(folder, [e["name"] for e in entries], dead, params)
    for entry in entries:
        shutil.rmtree(folder / entry["name"])
    _filter_archive(folder, dead)
    return [merged], None if vectors is None else vectors.kept(~dead)


def _filter_archive(folder: Path, dead: npt.NDArray[np.bool_]) -> None:
    """Rewrite the archive files of `folder` keeping only the live articles and sentences."""
    sentence_offsets = np.asarray(layout.load_array(folder, "sentence_offsets"))
    article_first = np.asarray(layout.load_array(folder, "article_first"))
    article_offsets = np.asarray(layout.load_array(folder, "article_offsets"))
    ids = np.asarray(layout.load_array(folder, "article_ids"))
    keys = np.asarray(layout.load_array(folder, "article_keys"))
    live = ~dead
    kept = live_articles(article_first, live)
    texts = np.fromfile(folder / layout.SENTENCE_TEXTS, dtype=np.uint8)
    lengths = np.diff(sentence_offsets)
    byte_live = np.repeat(live, lengths)
    lines = np.fromfile(folder / layout.ARTICLE_LINES, dtype=np.uint8)
    line_live = np.repeat(kept, np.diff(article_offsets))
    body_offsets = np.asarray(layout.load_array(folder, "body_offsets"))
    bodies = np.fromfile(folder / layout.ARTICLE_BODIES, dtype=np.uint8)
    body_live = np.repeat(kept, np.diff(body_offsets))
    counts = np.diff(article_first)[kept]
    dates = json.loads((folder / layout.ARTICLE_DATES).read_text(encoding="utf-8"))
    for name in (
        layout.SENTENCE_TEXTS,
        layout.ARTICLE_LINES,
        layout.ARTICLE_DATES,
        layout.ARTICLE_BODIES,
    ):
        (folder / name).unlink()
    write_dates(folder, [d for d, is_kept in zip(dates, kept.tolist(), strict=True) if is_kept])
    texts[byte_live].tofile(folder / layout.SENTENCE_TEXTS)
    lines[line_live].tofile(folder / layout.ARTICLE_LINES)
    bodies[body_live].tofile(folder / layout.ARTICLE_BODIES)
    new_offsets = np.zeros(int(live.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths[live], out=new_offsets[1:])
    new_first = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=new_first[1:])
    new_lines = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.diff(article_offsets)[kept], out=new_lines[1:])
    new_bodies = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.diff(body_offsets)[kept], out=new_bodies[1:])
    for name, values in (
        ("sentence_offsets", new_offsets),
        ("article_first", new_first),
        ("article_offsets", new_lines),
        ("body_offsets", new_bodies),
        ("article_ids", ids[kept]),
        ("article_keys", keys[kept]),
    ):
        layout.array_path(folder, name).unlink()
        layout.save_array(folder, name, values)


# -- statistics ----------------------------------------------------------------------------------


def _save_weights(
    folder: Path,
    entries: list[dict[str, Any]],
    dead_rows: npt.NDArray[np.int64],
    params: BM25Params,
) -> None:
    """Store the whole index's statistics and each segment's weights (unless one segment does)."""
    if len(entries) == 1 and not len(dead_rows):
        return
    loaded = [BM25Index.load(folder / e["name"]) for e in entries]
    starts = np.concatenate([[0], np.cumsum([s.n_docs for s in loaded])])
    dead = np.zeros(int(starts[-1]), dtype=bool)
    dead[dead_rows] = True
    per_segment = [dead[a:b] for a, b in itertools.pairwise(starts)]
    tokens = [segments.load_tokens(folder, e["name"]) for e in entries]
    stats = segments.statistics(loaded, tokens, per_segment, params)
    weights = folder / segments.WEIGHTS
    weights.mkdir()
    segments.save_statistics(weights, stats)
    for entry, segment in zip(entries, segments.reweighed(loaded, stats), strict=True):
        (weights / entry["name"]).mkdir()
        segment.save_weights(weights / entry["name"])
