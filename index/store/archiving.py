"""The index is an archive: what a read of the sources changes in it, and what it may not.

An article, once read, stays until a retention rule (`NEWSBOT_RETENTION`) or an admin
(`newsbot index --remove SOURCE`) removes it. A read of the sources is merged with the current
generation's articles (`merge`):

- feeds are windows: an item absent from a later read of its feed is kept;
- a file deleted from a folder source is removed (the operator's intent);
- a source that fails to read (network, HTTP status, a body that is not a feed, a folder
  missing, or empty where it held articles) changes nothing of its articles, and is reported;
- a new or changed article replaces the one with its id, keeping when it was first seen;
  one whose text repeats a kept article's (another outlet's copy) is dropped.

Each article remembers its origin, the configured source it came from, and the generation keeps
every article's body (`index.store.layout`), so `--full`, `/reindex` and a format upgrade index the
archive again, never the sources alone. Before anything is written the merge is checked
(`refusal`): every source failing, an index emptied, or more removals than
`NEWSBOT_MAX_REMOVAL` commit nothing. An update then indexes exactly the merged list, so it
answers as a full build of the archive would.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from index.config import MAX_REMOVAL_ENV, is_url
from index.model import Article, Ingested, counted
from index.store import generations, layout
from index.store.archive import Archive

# What tells a change: everything an article holds but when it was first seen and which of the
# configured sources it came from.
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article) if f.name not in {"origin", "first_seen"})
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def article_keys(
    articles: Sequence[Article],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Return the xxHash64 of each article's id, and of all it holds (what tells a change)."""
    ids = [xxhash.xxh64_intdigest(a.id.encode("utf-8")) for a in articles]
    keys = [  # a JSON list of the fields: `dataclasses.asdict` took 6 s at 150k articles
        xxhash.xxh64_intdigest(json.dumps([getattr(a, name) for name in _ARTICLE_FIELDS]).encode())
        for a in articles
    ]
    return np.asarray(ids, dtype=np.uint64), np.asarray(keys, dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class Stored:
    """The current generation's live articles, as the archive merge reads them.

    Attributes:
        folder: The current generation (None: there is none).
        articles: Its live articles, bodies included, by row.
        keys: Each article's content key (`article_keys`); None for a generation of an older
            format (every article is then indexed again).
        sources: The sources it remembers (None: it does not say).
        sentences: Its live sentences.
        segments: Its segments.
        notes: What the reader had to make do with (bodies taken from sentences).
    """

    folder: Path | None = None
    articles: list[Article] = field(default_factory=list)
    keys: list[int] | None = None
    sources: tuple[str, ...] | None = None
    sentences: int = 0
    segments: int = 0
    notes: tuple[str, ...] = ()


def remembered_sources(index_dir: Path) -> list[str] | None:
    """Return the sources the current generation's header remembers, of any format version.

    None when there is no readable header or it names none (an index from before version 6).
    """
    try:
        folder = generations.current_generation(index_dir)
        header = json.loads((folder / layout.HEADER).read_text(encoding="utf-8"))
    except (generations.StoreError, OSError, ValueError):
        return None
    sources = header.get("sources") if isinstance(header, dict) else None
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        return None
    return sources or None


def read_stored(index_dir: Path) -> Stored:
    """Read the current generation's live articles with their bodies (none: an empty `Stored`).

    A generation of format 5 kept no bodies: each article's sentences, one a line, stand in
    for its body, its origin is guessed from its path, and its first sighting is the
    generation's creation (said in `Stored.notes`). One that cannot be read at all gives
    nothing: the build reads the sources alone, as it did before the archive.
    """
    try:
        folder = generations.current_generation(index_dir)
    except generations.StoreError:
        return Stored(sources=_tuple(remembered_sources(index_dir)))
    try:
        header = generations.read_header(folder, oldest=generations.ARCHIVE_SINCE)
        layout.verify_files(folder, header["files"])
        archive = Archive.load(folder)
        return _stored(folder, header, archive)
    except (generations.StoreError, OSError, ValueError, KeyError, TypeError) as exc:
        note = f"the current index could not be read ({str(exc)[:200]}); built from the sources"
        return Stored(sources=_tuple(remembered_sources(index_dir)), notes=(note,))


def _tuple(sources: list[str] | None) -> tuple[str, ...] | None:
    return None if sources is None else tuple(sources)


def _stored(folder: Path, header: dict[str, Any], archive: Archive) -> Stored:
    """Return the live articles of a loaded generation, bodies and keys included."""
    live = archive.live_articles
    rows = [r for r in range(archive.n_articles) if live is None or live[r]]
    notes: tuple[str, ...] = ()
    keys: list[int] | None = None
    if header["format_version"] >= 6:
        bodies = _bodies(folder, archive.n_articles)
        keys = np.asarray(layout.load_array(folder, "article_keys"))[rows].tolist()
    else:
        bodies = archive.sentence_bodies()
        notes = (
            f"index of format {header['format_version']} upgraded: its articles' bodies were "
            "taken from their sentences (it kept no bodies)",
        )
    created = str(header.get("created")) if header.get("created") else None
    articles = []
    for row in rows:
        meta = archive.read_article(row)
        articles.append(replace(meta, text=bodies[row], first_seen=meta.first_seen or created))
    counts = header.get("counts", {})
    return Stored(
        folder=folder,
        articles=articles,
        keys=keys,
        sources=_tuple(header.get("sources")),
        sentences=int(counts.get("sentences", 0)),
        segments=len(header.get("segments", [])),
        notes=notes,
    )


def _bodies(folder: Path, n_articles: int) -> list[str]:
    """Read every article's body from `bodies.bin`, by article row."""
    offsets = np.asarray(layout.load_array(folder, "body_offsets"))
    data = (folder / layout.ARTICLE_BODIES).read_bytes()
    layout.check_offsets("body_offsets.npy", offsets, n_articles, len(data))
    bounds = offsets.tolist()
    return [data[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_articles)]


@dataclass(frozen=True, slots=True)
class Merged:
    """The archive after a read: the articles to index, and what the read changed.

    Attributes:
        articles: Every article of the archive, kept ones first (by row), then new ones.
        sources: The sources the index remembers from now on.
        failed_sources: Sources that could not be read (their articles kept as they were).
        removed: Kept articles removed because a source that read well no longer holds them.
        retention_removed: Articles removed as older than the retention.
        forgotten: Articles removed with their source (`--remove`).
        added: Articles new to the archive.
        changed: Whether anything differs from the current generation.
        duplicates: Articles dropped as repeats (by id or normalized text).
    """

    articles: list[Article]
    sources: tuple[str, ...]
    failed_sources: tuple[str, ...]
    removed: int
    retention_removed: int
    forgotten: int
    added: int
    changed: bool
    duplicates: int

    def ingested(self, read: Ingested) -> Ingested:
        """Return the archive as the build's input, with what the read reported."""
        return Ingested(
            articles=self.articles,
            skipped=read.skipped,
            files=read.files,
            duplicates=self.duplicates,
            failed_sources=list(self.failed_sources),
        )


def merge(
    stored: Stored,
    ingested: Ingested,
    read: Sequence[str],
    remove: Sequence[str] = (),
    *,
    retention: timedelta | None = None,
    now: datetime | None = None,
) -> Merged:
    """Merge a read of the sources `read` into the stored archive (see the module docstring).

    Args:
        stored: The current generation's articles.
        ingested: What `index.sources.ingest.read_sources` read from `read`.
        read: The sources read, as the index remembers them (`index.config.canonical_source`).
        remove: Sources to forget, with their articles.
        retention: Articles dated (else first seen) longer ago than this leave.
        now: The time of the read (first sightings, retention).
    """
    now = now or datetime.now(UTC)
    stamp = now.strftime(_STAMP)
    cutoff = now - retention if retention is not None else None
    candidates = [*(stored.sources or ()), *read]
    old = [
        a if a.origin else replace(a, origin=_origin(a.path, candidates)) for a in stored.articles
    ]
    failed = _failed(old, ingested, read)
    fresh_ids = {a.id for a in ingested.articles}
    unreadable = {s.where for s in ingested.skipped if s.line is None}
    kept: dict[str, int] = {}  # id -> position in `articles`
    articles: list[Article] = []
    removed = expired = forgotten = 0
    for article in old:
        if article.origin in remove:
            forgotten += 1
        elif cutoff is not None and _when(article) < cutoff:
            expired += 1
        elif (
            article.origin in read
            and article.origin not in failed
            and not is_url(article.origin or "")
            and article.id not in fresh_ids
            and article.path not in unreadable
        ):
            removed += 1  # its file was deleted, or no longer holds it
        else:
            kept[article.id] = len(articles)
            articles.append(article)
    n_kept = len(articles)
    changed_rows, added = _fresh(articles, kept, ingested.articles, cutoff, stamp)
    articles, duplicates = _without_repeats(articles, n_kept)
    added -= duplicates
    sources = tuple(dict.fromkeys(s for s in candidates if s not in remove))
    stored_keys = stored.keys
    changed = bool(
        removed
        or expired
        or forgotten
        or added
        or stored_keys is None
        or sources != (stored.sources or ())
        or _differs(articles, changed_rows, stored_keys, old, kept)
    )
    return Merged(
        articles=articles,
        sources=sources,
        failed_sources=tuple(s for s in read if s in failed),
        removed=removed,
        retention_removed=expired,
        forgotten=forgotten,
        added=added,
        changed=changed,
        duplicates=ingested.duplicates + duplicates,
    )


def _failed(old: list[Article], ingested: Ingested, read: Sequence[str]) -> set[str]:
    """Return the sources that failed this read.

    Those the read says failed, and those read whole but empty where they held articles (an
    unmounted share, a feed answering with an empty page).
    """
    failed = set(ingested.failed_sources)
    held = Counter(a.origin for a in old)
    given = Counter(a.origin for a in ingested.articles)
    failed.update(s for s in read if held[s] and not given[s])
    return failed


def _fresh(
    articles: list[Article],
    kept: dict[str, int],
    fresh: list[Article],
    cutoff: datetime | None,
    stamp: str,
) -> tuple[list[int], int]:
    """Put the articles read into `articles`: in place of the kept one with their id, else after.

    Returns:
        The positions replaced in place, and how many were appended.
    """
    replaced, added = [], 0
    for article in fresh:
        at = kept.get(article.id)
        if at is not None:
            articles[at] = replace(article, first_seen=articles[at].first_seen or stamp)
            replaced.append(at)
            continue
        new = replace(article, first_seen=stamp)
        if cutoff is not None and _when(new) < cutoff:
            continue  # already past the retention: never indexed
        kept[new.id] = len(articles)
        articles.append(new)
        added += 1
    return replaced, added


def _without_repeats(articles: list[Article], n_kept: int) -> tuple[list[Article], int]:
    """Drop the new articles (after `n_kept`) whose normalized text an earlier one has."""
    seen: set[bytes] = set()
    result: list[Article] = []
    repeats = 0
    for n, article in enumerate(articles):
        fingerprint = text_fingerprint(article.text)
        if n >= n_kept and fingerprint in seen:
            repeats += 1
            continue
        seen.add(fingerprint)
        result.append(article)
    return result, repeats


def text_fingerprint(text: str) -> bytes:
    """Return the SHA-256 of `text` case-folded with whitespace collapsed (what tells a copy)."""
    return hashlib.sha256(" ".join(text.casefold().split()).encode("utf-8", "replace")).digest()


def _differs(
    articles: list[Article],
    replaced: list[int],
    stored_keys: list[int] | None,
    old: list[Article],
    kept: dict[str, int],
) -> bool:
    """Return whether an article read again differs from the stored one with its id."""
    if stored_keys is None:
        return True
    if not replaced:
        return False
    stored_key = {a.id: k for a, k in zip(old, stored_keys, strict=True)}
    now = [articles[i] for i in replaced if i < len(articles)]
    _, keys = article_keys(now)
    return any(stored_key.get(a.id) != k for a, k in zip(now, keys.tolist(), strict=True))


def _origin(path: str | None, sources: Sequence[str]) -> str | None:
    """Guess the configured source an article of an older index came from, by its path."""
    if path is None:
        return None
    for source in sources:
        if path == source:
            return source
        if not is_url(source) and not is_url(path):
            folder, file = os.path.abspath(source), os.path.abspath(path)
            if file == folder or file.startswith(folder + os.sep):
                return source
    return path


def _when(article: Article) -> datetime:
    """Return an article's date as a UTC time (else its first sighting; else the far future)."""
    for value in (article.date, article.first_seen):
        if value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.max.replace(tzinfo=UTC)


def refusal(
    stored: Stored,
    merged: Merged,
    ingested: Ingested,
    read: Sequence[str],
    max_removal: float,
) -> str | None:
    """Return why the merged archive must not be committed, or None when it may be.

    Checked before anything is written: every source failing, an index emptied (or never
    filled), and more ordinary removals than `max_removal` of the live articles (retention's
    and `--remove`'s counted apart) commit nothing; the current generation stays as it was.
    """
    live = len(stored.articles)
    if read and all(s in merged.failed_sources for s in read):
        return f"every source failed to read ({', '.join(read)})"
    if not merged.articles:
        if live:
            return f"the index would be empty where it holds {counted(live, 'article')}"
        reasons = "; ".join(str(s) for s in ingested.skipped[:3]) or "no readable articles"
        return f"no articles could be read from {', '.join(read) or 'no source'} ({reasons})"
    if live and merged.removed > max_removal * live:
        return (
            f"the update would remove {merged.removed:,} of {live:,} articles "
            f"({merged.removed / live:.0%}), more than {MAX_REMOVAL_ENV}={max_removal:.0%} "
            "(raise it to allow this)"
        )
    return None
