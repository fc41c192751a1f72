"""Index folders on disk: versioned, written atomically, loaded by memory-mapping.

An index directory holds generations, each a complete index in its own folder, and a `CURRENT`
file naming the generation to load. A build writes a new generation under a temporary name,
flushes it to disk, renames it, then replaces `CURRENT` with `os.replace`. A process killed at any
moment therefore leaves `CURRENT` naming a complete generation: the previous one, or the new one.

One build writes into an index directory at a time: a writer holds an exclusive lock on the
directory (`LOCK`, with `filelock`) from before it reads its sources until its generation is
current and the stale ones are gone (all but the new generation and the one it replaced, which
a running bot may still serve); a second build fails at once with `BuildRunningError`.
Readers take no lock. What a generation holds is `index.store.layout`'s business.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from index.store.layout import FORMAT_NAME, FORMAT_VERSION, HEADER

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "BuildRunningError",
    "GenerationWriter",
    "IndexFormatError",
    "IndexMissingError",
    "StoreError",
    "current_generation",
    "exclusive_writer",
    "read_header",
    "remove_stale",
]

POINTER = "CURRENT"
LOCK = "LOCK"
_TMP_PREFIX = ".tmp-"
_GEN_PREFIX = "gen-"


class StoreError(Exception):
    """Base of the errors a user can fix (a missing or incompatible index)."""


class IndexMissingError(StoreError):
    """No index has been built in the directory yet."""


class IndexFormatError(StoreError):
    """The index was written by an incompatible newsbot, or is damaged."""


class BuildRunningError(StoreError):
    """Another build is writing into the index directory."""


@contextmanager
def exclusive_writer(index_dir: Path) -> Iterator[None]:
    """Hold `index_dir`'s writer lock for the block (reentrant within a thread).

    Raises:
        BuildRunningError: Another process (or thread) holds it.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / LOCK, is_singleton=True)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BuildRunningError(
            f"another build is running in {index_dir}; try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def current_generation(index_dir: Path) -> Path:
    """Return the folder of the generation `CURRENT` names.

    Raises:
        IndexMissingError: No index was ever completed in `index_dir`.
        IndexFormatError: `CURRENT` names a folder that is not there.
    """
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index in {index_dir}; run `newsbot index` first") from None
    except OSError as exc:
        raise IndexFormatError(f"cannot read {pointer}: {exc.strerror}") from None
    folder = index_dir / name
    if not name.startswith(_GEN_PREFIX) or "/" in name or not folder.is_dir():
        raise IndexFormatError(
            f"{pointer} names a missing index ({name!r}); run `newsbot index` to rebuild it"
        )
    return folder


# Format versions whose sentence vectors (the same files) a build may still reuse.
VECTORS_SINCE = 4
# Format versions whose articles (metadata and sentences, bodies from version 6) a build reads
# into the archive it writes (`index.store.archiving`).
ARCHIVE_SINCE = 5


def read_header(folder: Path, *, oldest: int = FORMAT_VERSION) -> dict[str, Any]:
    """Read and check a generation's `index.json`.

    Args:
        folder: The generation folder.
        oldest: The oldest format version accepted (a build reading an older generation's
            sentence vectors passes `VECTORS_SINCE`; everything else reads only the current).

    Raises:
        IndexFormatError: The header is missing, damaged, or of another format version.
    """
    try:
        header = json.loads((folder / HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(
            f"index at {folder} is damaged ({exc}); run `newsbot index` to rebuild it"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{folder} is not a newsbot index; run `newsbot index` to build one")
    version = header.get("format_version")
    if not isinstance(version, int) or not oldest <= version <= FORMAT_VERSION:
        raise IndexFormatError(
            f"index at {folder} has format version {version}, this newsbot reads version "
            f"{FORMAT_VERSION}; run `newsbot index` to rebuild it"
        )
    return header


class GenerationWriter:
    """Write one new generation; `commit` makes it current, atomically.

    Use as a context manager: leaving the block without `commit` (an exception) removes the
    partial folder, and the current generation stays what it was. The writer lock is held from
    `__init__` to the end of the block.

    Raises:
        BuildRunningError: Another build is writing into `index_dir`.
    """

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._held = ExitStack()
        self._held.enter_context(exclusive_writer(index_dir))
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.name = f"{_GEN_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
        self.folder = index_dir / f"{_TMP_PREFIX}{self.name}"
        try:
            self.folder.mkdir()
        except OSError:
            self._held.close()
            raise
        self._committed = False

    def __enter__(self) -> GenerationWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._held:
            if not self._committed:
                shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self, header: dict[str, Any]) -> Path:
        """Write the header, flush everything, and point `CURRENT` at this generation.

        Returns:
            The generation's final folder.
        """
        header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **header}
        (self.folder / HEADER).write_text(
            json.dumps(header, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        for path in sorted(self.folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            _fsync(path)  # files and segment folders, the deepest first
        _fsync(self.folder)
        previous = _pointed(self.index_dir)
        final = self.index_dir / self.name
        os.rename(self.folder, final)
        pointer_tmp = self.index_dir / f"{_TMP_PREFIX}{POINTER}-{uuid.uuid4().hex[:8]}"
        pointer_tmp.write_text(self.name + "\n", encoding="utf-8")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, self.index_dir / POINTER)
        _fsync(self.index_dir)
        self._committed = True
        self.folder = final
        remove_stale(self.index_dir, keep={self.name, *([previous] if previous else [])})
        return final


def remove_stale(index_dir: Path, keep: str | set[str]) -> None:
    """Delete generations and leftovers other than `keep` (call with the writer lock held).

    A commit keeps the new generation and the one it replaced: a running bot may still serve
    that one (until it swaps), and nothing is deleted under it. Processes that still
    memory-map an older generation keep reading it: on POSIX a deleted file stays readable
    until its last mapping is closed.
    """
    kept = {keep} if isinstance(keep, str) else keep
    for entry in index_dir.iterdir():
        if entry.name in kept or entry.name == POINTER:
            continue
        if entry.name.startswith((_GEN_PREFIX, _TMP_PREFIX)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _pointed(index_dir: Path) -> str | None:
    """Return the generation name `CURRENT` holds, if it holds a readable one."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name if name.startswith(_GEN_PREFIX) and "/" not in name else None


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
