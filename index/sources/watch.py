"""Cheap rescans of file and folder sources: size and mtime first, a content hash only if needed.

A `Snapshot` records, for every supported file under the local sources, its size, mtime and
SHA-256. `rescan` stats every file again and hashes only those whose size or mtime moved, reusing
the previous hash for the rest; `changes` compares two snapshots by content, so a file touched
but not edited (same bytes, new mtime) is no change. Paths are spelled as `index.sources.ingest`
spells them in an index's manifest (the source as given, joined with the names below it), and the
hashes are the manifest's (SHA-256 of the bytes), so a snapshot can be compared with the manifest of
the index being served (`from_manifest`).

Files are listed as `index.sources.ingest` walks folders: sorted, hidden entries left out, supported
suffixes only, symlinked folders not followed. Feed URLs are not watched here (see
`index.sources.feedpoll`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.config import is_url
from index.sources.ingest import SUPPORTED_SUFFIXES

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What a rescan knows of one file.

    Attributes:
        size: Bytes.
        mtime_ns: Modification time, nanoseconds; None when it came from a manifest.
        sha256: Hex digest of the content.
    """

    size: int
    mtime_ns: int | None
    sha256: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The files of the local sources at one moment, by path."""

    files: Mapping[str, FileStamp] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: Iterable[Mapping[str, object]]) -> Snapshot:
        """Return the files an index was built from (its header's `manifest`), URLs left out."""
        files = {
            str(entry["path"]): FileStamp(int(str(entry["size"])), None, str(entry["sha256"]))
            for entry in manifest
            if not is_url(str(entry["path"]))
        }
        return cls(files)


@dataclass(frozen=True, slots=True)
class Changes:
    """How the files differ between two snapshots, by content.

    Attributes:
        added: Paths only in the newer snapshot.
        removed: Paths only in the older one.
        modified: Paths in both whose content differs.
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.modified)

    def summary(self) -> str:
        """Return 'n added, n removed, n modified' for the log."""
        return (
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.modified)} modified"
        )


# -- pure decisions -------------------------------------------------------------------------------


def needs_hash(previous: FileStamp | None, size: int, mtime_ns: int) -> bool:
    """Return whether a file must be hashed: it is new, or its size or mtime moved."""
    return previous is None or previous.size != size or previous.mtime_ns != mtime_ns


def changes(old: Snapshot, new: Snapshot) -> Changes:
    """Return what differs between `old` and `new` by content (mtime alone is no change)."""
    before, after = old.files, new.files
    return Changes(
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        modified=tuple(
            sorted(p for p in after.keys() & before.keys() if after[p].sha256 != before[p].sha256)
        ),
    )


def rebase(scanned: Snapshot, indexed: Snapshot) -> Snapshot:
    """Return the baseline after a build: the files `indexed` (its manifest) says it read.

    Where the last scan agrees with the manifest on a file's content, the scan's stamp is kept,
    mtime included, so the next rescan does not hash that file again. Files the scan saw but the
    build did not record (read through another path, or unreadable to it) keep the scan's stamp
    too: they would otherwise look added at every check, and rebuild every time.
    """
    files = dict(scanned.files)
    for path, stamp in indexed.files.items():
        seen = scanned.files.get(path)
        agree = seen is not None and (seen.size, seen.sha256) == (stamp.size, stamp.sha256)
        files[path] = seen if agree and seen is not None else stamp
    return Snapshot(files)


# -- reading the file system -----------------------------------------------------------------------


def rescan(sources: Sequence[str | Path], previous: Snapshot = Snapshot()) -> Snapshot:
    """Stat every file of the local `sources`, hashing only those `needs_hash` picks.

    Feed URLs among `sources` are left out. A file that vanishes or cannot be read between the
    listing and the hash is left out too, as `index.sources.ingest` would skip it.
    """
    files: dict[str, FileStamp] = {}
    for path, info in _files(sources):
        old = previous.files.get(path)
        if not needs_hash(old, info.st_size, info.st_mtime_ns):
            assert old is not None
            files[path] = old
            continue
        try:
            digest = file_sha256(path)
        except OSError:
            continue
        files[path] = FileStamp(info.st_size, info.st_mtime_ns, digest)
    return Snapshot(files)


def file_sha256(path: str) -> str:
    """Return the hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(sources: Sequence[str | Path]) -> Iterator[tuple[str, os.stat_result]]:
    """Yield (path, stat) for each regular supported file of the local sources."""
    for source in sources:
        if isinstance(source, str) and is_url(source):
            continue
        root = Path(source)
        try:
            info = root.stat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(root)
        elif stat.S_ISREG(info.st_mode) and root.suffix.lower() in SUPPORTED_SUFFIXES:
            yield str(root), info


def _walk(folder: Path, top: Path | None = None) -> Iterator[tuple[str, os.stat_result]]:
    """Yield supported regular files under `folder`, sorted, as `index.sources.ingest` reads them.

    Hidden entries, symlinked folders and symlinks leading outside the source folder `top` are
    left out.
    """
    top = top or folder.resolve()
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path, top)
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if entry.is_symlink() and not path.resolve(strict=True).is_relative_to(top):
                continue
            info = entry.stat(follow_symlinks=True)
        except (OSError, RuntimeError):  # vanished, or a broken or looping symlink
            continue
        if stat.S_ISREG(info.st_mode):
            yield str(path), info


def articles_per_source(paths: Iterable[str | None], sources: Sequence[str]) -> list[int]:
    """Return how many of the articles (by `Article.path`) each source gave, in source order.

    A feed's articles carry its URL; a file's, the path as `index.sources.ingest` spells it (the
    source as given, joined with the names below it). An article counts for the first source
    that holds it.
    """
    # Paths compared absolute: an index reads its sources by their absolute paths
    # (`index.config.canonical_source`), while settings may name them relative.
    prefixes = [
        (source, None)
        if is_url(source)
        else (os.path.abspath(source), os.path.join(os.path.abspath(source), ""))
        for source in sources
    ]
    counts = [0] * len(sources)
    for given in paths:
        if given is None:
            continue
        path = given if is_url(given) else os.path.abspath(given)
        for n, (exact, below) in enumerate(prefixes):
            if path == exact or (below is not None and path.startswith(below)):
                counts[n] += 1
                break
    return counts
