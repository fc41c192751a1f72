"""The files of an index generation: their names, their dtypes, and the checks a reader runs.

The writer (`index.store.build`, `index.lexical.bm25.BM25Index.save`) and the readers
(`index.lexical.bm25`, `index.store.archive`, `index.answers.search`) take every name and dtype from
here. A generation folder holds:

    index.json             header: format version, counts, settings, and each file's checksum
    bm25.json              BM25 parameters and the vocabulary (terms by id)
    doc_len.npy, idf.npy   terms per sentence (by row), floored idf (by term id)
    offsets.npy ... bounds.npy
                           the posting lists, one file per field of
                           `index.lexical.postings.Postings`
    sentences.bin          sentence texts, UTF-8, one after the other
    sentence_offsets.npy   byte offset of each sentence in sentences.bin, and the end
    article_first.npy      first sentence row of each article, and the number of sentences
    articles.jsonl         article metadata, one JSON object a line
    article_offsets.npy    byte offset of each line of articles.jsonl, and the end
    article_dates.json     each article's date (or null), by article row: read whole at load
    bodies.bin             each article's body, UTF-8, one after the other: what a full build,
                           `/reindex` and a format upgrade index again (`index.store.archiving`)
    body_offsets.npy       byte offset of each article's body in bodies.bin, and the end
    sentence_flags.npy     per sentence row, what it is when it says nothing of its own
                           (sign-off, table row, fragment...: `index.text.boilerplate`)
    sentence_lines.npy     per sentence row, the hash of its line as repeated lines are counted
    vector_codes.npy ... vector_keys.npy
                           sentence vectors, when the encoder was available
                           (`index.semantic.vectors`)

The top-k kernel (`index.lexical.topk`) is compiled without bounds checks, so a reader checks,
before any question, that every array has its dtype and length and that the posting arrays hold the
invariants the kernel relies on (`check_postings`), and that no file changed since the build
(`verify_files`: size and xxHash64 of each file, written into the header). Every check raises
`ValueError` naming what is wrong; `index.answers.search.NewsIndex.load` turns it into
`index.store.generations.IndexFormatError`, on which the bot rebuilds.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xxhash

from index.lexical.postings import ARRAYS as POSTING_ARRAYS
from index.lexical.postings import BLOCK, SHARD_BITS, Postings

FORMAT_NAME = "newsbot-index"
# 4: the header carries every file's size and xxHash64. 5: segments (`index.lexical.segments`).
# 6: the index is an archive: article bodies (`bodies.bin`), each article's origin and first
# sighting, the sources it remembers (header "sources"); accents folded by the analyzer
# (`index.text.analysis.fold`: the terms of an older index differ); each sentence row's boilerplate
# flags (`index.text.boilerplate`).
FORMAT_VERSION = 6

HEADER = "index.json"
BM25_META = "bm25.json"
SENTENCE_TEXTS = "sentences.bin"
ARTICLE_LINES = "articles.jsonl"
ARTICLE_DATES = "article_dates.json"
ARTICLE_BODIES = "bodies.bin"

_UNSIGNED = (np.uint8, np.uint16, np.uint32, np.uint64)
# Every array of a generation (file `<name>.npy`) and the dtypes the writer may give it.
DTYPES: dict[str, tuple[type[np.generic], ...]] = {
    "offsets": (np.int64,),
    "ranks": (np.uint16,),
    "dir_offsets": (np.int64,),
    "dir_shard": (np.uint16, np.uint32),
    "dir_start": (np.int32, np.int64),
    "codes": (np.uint16, np.uint32),
    "tf_norms": (np.float64,),
    "tf1_norms": (np.float64,),
    "length_of_rank": _UNSIGNED,
    "row_of_rank": (np.int32,),
    "blocks": (np.int64,),
    "bounds": (np.float64,),
    "tf2": _UNSIGNED,
    "doc_len": (np.int32,),
    "idf": (np.float64,),
    "sentence_offsets": (np.int64,),
    "article_first": (np.int32,),
    "article_offsets": (np.int64,),
    "body_offsets": (np.int64,),
    # Segments (`index.lexical.segments`): each segment's analyzed sentences, the rows masked as
    # removed, each article's content key, and the statistics of the whole index when it has
    # several.
    "tokens": (np.int32,),
    "dead_rows": (np.int64,),
    "article_keys": (np.uint64,),
    "article_ids": (np.uint64,),
    "doc_freq": (np.int64,),
    # What each sentence row is when it says nothing of its own (`index.text.boilerplate`): bits.
    "sentence_flags": (np.uint8,),
    "sentence_lines": (np.uint64,),
    # Sentence vectors (`index.semantic.vectors`), optional: a generation has all four or none.
    "vector_codes": (np.int8,),
    "vector_scales": (np.float32,),
    "vector_signs": (np.uint64,),
    "vector_keys": (np.uint64,),
    # Shards (`index.scale.shards`): each shard row's row in the whole index, and each shard
    # segment term's id in the whole index's vocabulary (-1: no live sentence holds it).
    "global_rows": (np.int64,),
    "global_terms": (np.int64,),
}
# The folder of a generation holding its shards, one sub-folder each (`index.scale.shards`).
SHARDS = "shards"
assert set(POSTING_ARRAYS) <= set(DTYPES)


def array_path(folder: Path, name: str) -> Path:
    """Return the file of array `name` in a generation folder."""
    return folder / f"{name}.npy"


def save_array(folder: Path, name: str, values: npt.NDArray[Any]) -> None:
    """Write array `name` into a generation folder.

    Raises:
        TypeError: `values` does not have a dtype `DTYPES` allows for `name` (a writer bug).
    """
    if values.ndim != 1 or values.dtype.type not in DTYPES[name]:
        raise TypeError(f"{name}: {values.ndim}-d {values.dtype} is not a layout dtype")
    np.save(array_path(folder, name), values)


def load_array(folder: Path, name: str, *, mmap: bool = True) -> npt.NDArray[Any]:
    """Read array `name` of a generation folder, memory-mapped unless `mmap` is false.

    Raises:
        ValueError: The file is not a one-dimensional array of one of `name`'s dtypes.
        OSError: The file cannot be read.
    """
    mode: Literal["r"] | None = "r" if mmap else None
    values: npt.NDArray[Any] = np.load(array_path(folder, name), mmap_mode=mode)
    if values.ndim != 1 or values.dtype.type not in DTYPES[name]:
        raise ValueError(f"{name}.npy holds a {values.ndim}-d {values.dtype} array")
    return values


class ReadOnlyFile:
    """A file open for reading at given offsets (`os.pread`), closed when the last reference goes.

    How a reader takes a few scattered pieces of a large file per question (sentences, articles,
    vector codes) without a memory map: mapped pages, once touched, count in the process's RSS
    (and a file the load read whole sits in the page cache as 2 MB folios, each mapped whole on
    its first touch), while bytes read with `pread` leave the pages in the page cache, which
    other processes share and the kernel reclaims.

    Attributes:
        path: The file.
        size: Its size in bytes when it was opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.size = os.fstat(self.fd).st_size

    def read(self, start: int, end: int) -> bytes:
        """Return bytes `start` to `end` (exclusive).

        Raises:
            ValueError: The file ends before `end` (it changed since it was checked).
        """
        data = os.pread(self.fd, end - start, start)
        if len(data) != end - start:
            raise ValueError(f"{self.path.name} ends before byte {end:,}")
        return data

    def __del__(self, close: Callable[[int], None] = os.close) -> None:
        fd = getattr(self, "fd", None)  # None when os.open failed in __init__
        if fd is not None:
            close(fd)


# -- checksums ---------------------------------------------------------------------------------


def describe_files(folder: Path) -> dict[str, dict[str, int]]:
    """Return the size and xxHash64 of each file of a generation but the header (for the header).

    Files in sub-folders (segments) are named by their path from `folder`, with `/`.
    """
    return {
        name: {"bytes": path.stat().st_size, "xxh64": _digest(path)}
        for name, path in _files(folder).items()
    }


def verify_files(folder: Path, expected: dict[str, dict[str, int]]) -> None:
    """Check that a generation holds exactly the files the header lists, unchanged.

    Raises:
        ValueError: A file is missing, extra, or differs in size or checksum.
        OSError: A file cannot be read.
    """
    files = _files(folder)
    if set(files) != set(expected):
        missing, extra = sorted(set(expected) - set(files)), sorted(set(files) - set(expected))
        raise ValueError(f"files missing {missing} or unexpected {extra}")
    for name, meta in sorted(expected.items()):
        path = files[name]
        if path.stat().st_size != meta["bytes"]:
            raise ValueError(f"{name} has {path.stat().st_size:,} bytes, not {meta['bytes']:,}")
        if _digest(path) != meta["xxh64"]:
            raise ValueError(f"{name} does not match its checksum")


def _files(folder: Path) -> dict[str, Path]:
    """Return every file under `folder` but the header, by its path from `folder`."""
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if not path.is_dir() and path.relative_to(folder).as_posix() != HEADER
    }


def _digest(path: Path) -> int:
    """Return the xxHash64 of a file's bytes, hashed from a memory map (no copy).

    xxHash64 rather than CRC-32: 21 ms against 56 ms for 222 MB here, which keeps a 1M-sentence
    load within 0.1 s (`python -m bench.load_time`).
    """
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return xxhash.xxh64_intdigest(b"")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return xxhash.xxh64_intdigest(view)


# -- invariants --------------------------------------------------------------------------------


def check_length(name: str, values: Sized, expected: int) -> None:
    """Raise ValueError unless `values` has `expected` entries."""
    check_count(f"entries in {name}", len(values), expected)


def check_count(what: str, found: int, expected: int) -> None:
    """Raise ValueError unless `found` (a number of `what`) is `expected`."""
    if found != expected:
        raise ValueError(f"{found:,} {what} where {expected:,} belong")


def check_offsets(name: str, offsets: npt.NDArray[Any], entries: int, total: int) -> None:
    """Check an offsets array: `entries + 1` values from 0 to `total`, never falling.

    Raises:
        ValueError: It is not.
    """
    check_length(name, offsets, entries + 1)
    if int(offsets[0]) != 0 or int(offsets[-1]) != total:
        raise ValueError(f"{name} runs from {offsets[0]} to {offsets[-1]}, not from 0 to {total}")
    if entries and not bool(np.all(offsets[1:] >= offsets[:-1])):
        raise ValueError(f"{name} is not ascending")


def check_postings(p: Postings, n_docs: int, n_terms: int) -> None:
    """Check what `index.lexical.topk`'s kernel relies on to stay inside the arrays and be exact.

    Every list's directory covers its positions exactly, shard by shard ascending; ranks ascend
    within a directory entry and stay below `n_docs`; codes index `tf_norms`; lengths index
    `tf1_norms`; `row_of_rank` is a permutation; `blocks` is what `offsets` implies, and bounds
    only fall along a list. Linear in the number of postings, vectorised.

    Raises:
        ValueError: One of these does not hold (the message says which).
    """
    n_lists = 2 * n_terms
    n_postings = len(p.ranks)
    n_entries = len(p.dir_shard)
    check_offsets("offsets.npy", p.offsets, n_lists, n_postings)
    check_offsets("dir_offsets.npy", p.dir_offsets, n_lists, n_entries)
    check_length("dir_start.npy", p.dir_start, n_entries)
    check_length("codes.npy", p.codes, n_postings - int(p.offsets[n_terms]))
    check_length("tf2.npy", p.tf2, len(p.codes))
    check_length("length_of_rank.npy", p.length_of_rank, n_docs)
    check_length("row_of_rank.npy", p.row_of_rank, n_docs)
    expected_blocks = -(-np.diff(p.offsets) // BLOCK)
    check_offsets("blocks.npy", p.blocks, n_lists, len(p.bounds))
    if not np.array_equal(np.diff(p.blocks), expected_blocks):
        raise ValueError("blocks.npy does not match the lists' lengths")
    _check_directory(p, n_docs)
    _check_ascending_within("ranks.npy", p.ranks, starts=p.dir_start)
    if len(p.codes) and len(p.tf_norms) <= int(p.codes.max()):
        raise ValueError("codes.npy points past tf_norms.npy")
    if n_docs and len(p.tf1_norms) <= int(p.length_of_rank.max()):
        raise ValueError("length_of_rank.npy points past tf1_norms.npy")
    if n_docs and not bool(np.all(p.length_of_rank[1:] >= p.length_of_rank[:-1])):
        raise ValueError("length_of_rank.npy is not ascending")
    _check_permutation("row_of_rank.npy", p.row_of_rank)
    for name in ("tf_norms", "tf1_norms", "bounds"):
        if not bool(np.all(np.isfinite(getattr(p, name)))):
            raise ValueError(f"{name}.npy holds a value that is not finite")
    # Bounds are suffix maxima: they never rise within a list.
    _check_ascending_within("bounds.npy", -p.bounds, starts=p.blocks[:-1], strict=False)


def _check_directory(p: Postings, n_docs: int) -> None:
    """Check that each list's directory entries split exactly its positions, shards ascending."""
    sizes = np.diff(p.offsets)
    entries = np.diff(p.dir_offsets)
    if not np.array_equal(sizes > 0, entries > 0):
        raise ValueError("a posting list and its directory disagree on being empty")
    if len(p.dir_start) and not bool(np.all(p.dir_start[1:] > p.dir_start[:-1])):
        raise ValueError("dir_start.npy is not strictly ascending")
    full = entries > 0
    first = p.dir_start[p.dir_offsets[:-1][full]]
    last = p.dir_start[p.dir_offsets[1:][full] - 1]
    if not np.array_equal(first, p.offsets[:-1][full]) or np.any(last >= p.offsets[1:][full]):
        raise ValueError("dir_start.npy does not split the lists")
    n_shards = max(1, -(-n_docs >> SHARD_BITS))
    if len(p.dir_shard) and int(p.dir_shard.max()) >= n_shards:
        raise ValueError("dir_shard.npy names a shard past the last sentence")
    _check_ascending_within("dir_shard.npy", p.dir_shard, starts=p.dir_offsets)
    # Ranks ascend within an entry, so an entry of the last shard ends with its largest rank.
    last_shard = n_shards - 1
    ends = np.append(p.dir_start[1:], len(p.ranks))
    in_last = np.flatnonzero(p.dir_shard == last_shard)
    top = p.ranks[ends[in_last] - 1]
    if len(top) and int(top.max()) >= n_docs - (last_shard << SHARD_BITS):
        raise ValueError("ranks.npy holds a rank past the last sentence")


def _check_ascending_within(
    name: str, values: npt.NDArray[Any], starts: npt.NDArray[Any], *, strict: bool = True
) -> None:
    """Check that `values` ascend except where a run begins (a position in `starts`)."""
    if len(values) < 2:
        return
    later, earlier = values[1:], values[:-1]
    falls = later <= earlier if strict else later < earlier
    # A run may begin lower than the last one ended: position `start` compared with `start - 1`.
    inside = starts[(starts > 0) & (starts < len(values))]
    falls[inside - 1] = False
    if bool(falls.any()):
        raise ValueError(f"{name} is not ascending within a list")


def _check_permutation(name: str, values: npt.NDArray[Any]) -> None:
    """Check that `values` holds each of `0 .. len(values) - 1` once."""
    n = len(values)
    if not n:
        return
    if int(values.min()) < 0 or int(values.max()) >= n:
        raise ValueError(f"{name} points past the last sentence")
    if not bool(np.all(np.bincount(values, minlength=n) == 1)):
        raise ValueError(f"{name} repeats a sentence")
