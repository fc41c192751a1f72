"""A generation's sentence vectors: int8 codes memory-mapped from disk, searched in two steps.

Each sentence is embedded (`embedding_text`: the text the model reads for it) by
`index.semantic.embedding.SentenceEncoder` into a unit float32 vector, stored as int8 codes with
one float32 scale per row (`index.semantic.embedding.quantize`: cosines move by less than 0.01).
Beside them a generation holds each row's sign bits (`index.semantic.signs`: one bit per
dimension, 48 bytes a row for 384 dimensions) and a content key (xxHash64 of the embedded text)
by which a rebuild reuses vectors it already has (`index.semantic.build_vectors`).

`SentenceVectors.top_k` avoids reading every code for every question: at 1M rows the codes are
384 MB. It first ranks all rows by the Hamming distance between their sign bits and the
question's (48 MB, a popcount a word, in a numba kernel), keeps the `CANDIDATES` closest, and
rescores those exactly from their int8 codes. Sign bits are the cheapest estimate of the angle
between two vectors (Charikar, 2002: the chance that a random hyperplane separates them is
angle / pi); the rescoring makes every returned cosine exact, and docs/semantic.md gives the
recall against the exhaustive scan measured on real sentence vectors.

Files (names and dtypes in `index.store.layout`): `vector_codes.npy` (int8, rows x dimension, stored
flat), `vector_scales.npy` (float32), `vector_signs.npy` (uint64, rows x words, flat),
`vector_keys.npy` (uint64). The header's `"vectors"` entry names the model and the dimension.
"""

from __future__ import annotations

import ctypes
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import xxhash

from index.semantic.embedding import (
    MINILM_INT8,
    EncoderModel,
    QuantizedVectors,
    SentenceEncoder,
    load_encoder,
    quantize,
    similarities,
)
from index.semantic.signs import (
    FloatVectors,
    Rows,
    closest_by_signs,
    sign_bits,
    sign_dot,
    sign_words,
)
from index.store import layout

logger = logging.getLogger(__name__)

# Rows kept by Hamming distance, then by the question's dot product with their sign bits, then
# rescored exactly from their int8 codes. Chosen for recall@10 against the exhaustive scan on real
# sentence vectors at the same shares of rows (docs/semantic.md): 1.6% and 0.41% of 1M rows.
SIGN_CANDIDATES = 16_384
CANDIDATES = 4096
# Below this many rows an exhaustive scan (about 2 ms at 64k rows) is cheaper than two steps.
EXHAUSTIVE_ROWS = 65_536


def embedding_text(title: str, sentence: str) -> str:
    """Return what the model reads for a sentence: its article's title, a colon, the sentence.

    The title gives a sentence its subject ("He outlined ..."): on the dev questions it lifts
    dense Hit@3 from 0.673 to 0.740 (docs/semantic.md). An untitled article's sentence is read
    alone.
    """
    title = title.strip()
    return f"{title}: {sentence}" if title else sentence


def content_keys(texts: list[str]) -> npt.NDArray[np.uint64]:
    """Return the xxHash64 of each text's UTF-8 bytes: the key a rebuild finds a vector by."""
    return np.fromiter(
        (xxhash.xxh64_intdigest(t.encode("utf-8")) for t in texts),
        dtype=np.uint64,
        count=len(texts),
    )


def model_name(model: EncoderModel = MINILM_INT8) -> str:
    """Return the name recorded with stored vectors: vectors of another model are never reused."""
    return f"{model.weights.package}/{model.weights.name}@{model.weights.sha256[:16]}"


# -- the encoder, once per process -------------------------------------------------------------

_encoders: dict[EncoderModel, SentenceEncoder | None] = {}
_loading = threading.Lock()
# A SentenceEncoder serves one thread at a time; questions from several threads take turns.
_encoding = threading.Lock()


def shared_encoder(model: EncoderModel = MINILM_INT8) -> SentenceEncoder | None:
    """Return this process's encoder (one onnxruntime thread), loading it on first use.

    Loading costs about 0.3 s and 160-180 MB, so a process that reloads its index (the bot after
    /reindex) keeps the encoder it has. None when the model cannot load: `load_encoder` has
    logged why, once; later calls return None without trying again.
    """
    with _loading:
        if model not in _encoders:
            _encoders[model] = load_encoder(model, threads=1)
        return _encoders[model]


def embed_question(encoder: SentenceEncoder, text: str) -> FloatVectors:
    """Return a question's unit float32 vector (one thread at a time per process)."""
    with _encoding:
        vector: FloatVectors = encoder.encode([text])[0]
    return vector


# -- the vectors -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    """A generation's sentence vectors: int8 codes + one float32 scale per row, memory-mapped.

    Row i is sentence row i of the generation. Safe to search from several threads.

    Attributes:
        codes: (n_rows, dimension) int8 codes (`index.semantic.embedding.quantize`).
        scales: (n_rows,) float32, making each row of codes unit length.
        signs: (n_rows, words) uint64 sign bits of the codes (`sign_bits`).
        keys: (n_rows,) uint64 content keys (`content_keys`), zero when unknown.
        model: The model that computed the vectors (`model_name`).
        codes_file: Where `codes` are on disk, when loaded: rows picked for exact cosines are
            read from it with `pread` rather than through the memory map.
    """

    codes: npt.NDArray[np.int8]
    scales: npt.NDArray[np.float32]
    signs: npt.NDArray[np.uint64]
    keys: npt.NDArray[np.uint64]
    model: str = model_name()
    codes_file: CodesFile | None = None

    @classmethod
    def from_vectors(
        cls,
        vectors: FloatVectors,
        keys: npt.NDArray[np.uint64] | None = None,
        *,
        model: str = model_name(),
    ) -> SentenceVectors:
        """Quantize unit float32 rows, in memory."""
        return cls.from_quantized(quantize(vectors.astype(np.float32)), keys, model=model)

    @classmethod
    def from_quantized(
        cls,
        stored: QuantizedVectors,
        keys: npt.NDArray[np.uint64] | None = None,
        *,
        model: str = model_name(),
    ) -> SentenceVectors:
        """Wrap int8 codes and scales already computed, adding their sign bits."""
        n = len(stored.codes)
        return cls(
            codes=stored.codes,
            scales=stored.scales,
            signs=sign_bits(stored.codes),
            keys=np.zeros(n, dtype=np.uint64) if keys is None else keys.astype(np.uint64),
            model=model,
        )

    def appended(self, other: SentenceVectors) -> SentenceVectors:
        """Return these rows, then `other`'s (in memory)."""
        return SentenceVectors(
            codes=np.concatenate([self.codes, other.codes]),
            scales=np.concatenate([self.scales, other.scales]),
            signs=np.concatenate([self.signs, other.signs]),
            keys=np.concatenate([self.keys, other.keys]),
            model=self.model,
        )

    def kept(self, rows: npt.NDArray[np.bool_]) -> SentenceVectors:
        """Return only the rows flagged in `rows` (in memory)."""
        return SentenceVectors(
            codes=self.codes[rows],
            scales=self.scales[rows],
            signs=self.signs[rows],
            keys=self.keys[rows],
            model=self.model,
        )

    @property
    def n_rows(self) -> int:
        """Number of vectors (sentences)."""
        return len(self.scales)

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return int(self.codes.shape[1])

    @property
    def quantized(self) -> QuantizedVectors:
        """The codes and scales as `index.semantic.embedding` takes them."""
        return QuantizedVectors(codes=self.codes, scales=self.scales)

    def similarities(self, query: FloatVectors, rows: npt.NDArray[Any]) -> FloatVectors:
        """Return the cosine (float32) of a unit query with each of `rows`, in their order."""
        rows = np.asarray(rows, dtype=np.int64)
        codes = self.codes[rows] if self.codes_file is None else self.codes_file.rows(rows)
        return similarities(query, QuantizedVectors(codes=codes, scales=self.scales[rows]))

    def top_k(
        self,
        query: FloatVectors,
        k: int,
        *,
        sign_candidates: int = SIGN_CANDIDATES,
        candidates: int = CANDIDATES,
        within: npt.NDArray[np.bool_] | None = None,
    ) -> tuple[Rows, FloatVectors]:
        """Return the `k` rows most similar to a unit query and their cosines, best first.

        Up to `EXHAUSTIVE_ROWS` rows every row is scored. Above, three steps: the
        `sign_candidates` rows whose sign bits are closest to the question's (Hamming), of those
        the `candidates` with the largest dot product of the question with their sign bits, and
        of those the `k` best by exact cosine. A row may be missed (recall in docs/semantic.md),
        but every cosine returned is exact. Ties go to the lower row. With `within` (a flag per
        row), only flagged rows are ranked: all of them exactly up to `EXHAUSTIVE_ROWS` rows or
        `candidates` flagged ones, else by the same three steps over the flagged rows.
        """
        size = self.n_rows if within is None else int(np.count_nonzero(within))
        k = min(k, size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.n_rows <= max(EXHAUSTIVE_ROWS, candidates):
            scores = similarities(query, self.quantized)
            if within is None:
                return _best(np.arange(self.n_rows, dtype=np.int64), scores, k)
            pool = np.flatnonzero(within)
            return _best(pool, scores[pool], k)
        if within is not None and size <= candidates:  # read them all: a few MB at most
            pool = np.flatnonzero(within)
            return _best(pool, self.similarities(query, pool), k)
        bits = sign_bits(query.reshape(1, -1))[0]
        rows = closest_by_signs(self.signs, bits, min(sign_candidates, size), within)
        if candidates < len(rows):
            rows = np.sort(_best(rows, sign_dot(self.signs, rows, query), candidates)[0])
        return _best(rows, self.similarities(query, rows), k)

    # -- storage -------------------------------------------------------------------------------

    def header(self) -> dict[str, object]:
        """Return the header's `"vectors"` entry for these vectors."""
        return {"model": self.model, "dimension": self.dimension}

    def save(self, folder: Path) -> None:
        """Write the four vector files into a generation folder (flat, as layout arrays are)."""
        layout.save_array(folder, "vector_codes", np.ascontiguousarray(self.codes).reshape(-1))
        layout.save_array(folder, "vector_scales", self.scales)
        layout.save_array(folder, "vector_signs", np.ascontiguousarray(self.signs).reshape(-1))
        layout.save_array(folder, "vector_keys", self.keys)

    @classmethod
    def load(cls, folder: Path) -> SentenceVectors | None:
        """Memory-map a generation's vectors and check their shapes; None if it has none.

        Raises:
            ValueError: A file has the wrong dtype or length, a scale is not finite, or the
                header's `"vectors"` entry is malformed.
            OSError: A file cannot be read.
        """
        header = json.loads((folder / layout.HEADER).read_text(encoding="utf-8"))
        entry = header.get("vectors")
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise ValueError(f"{layout.HEADER} has a malformed vectors entry")
        model, dimension = entry["model"], entry["dimension"]
        if not isinstance(model, str) or not isinstance(dimension, int) or dimension <= 0:
            raise ValueError(f"{layout.HEADER} has a malformed vectors entry")
        scales = layout.load_array(folder, "vector_scales")
        n = len(scales)
        codes = layout.load_array(folder, "vector_codes")
        signs = layout.load_array(folder, "vector_signs")
        keys = layout.load_array(folder, "vector_keys")
        words = sign_words(dimension)
        layout.check_length("vector_codes.npy", codes, n * dimension)
        layout.check_length("vector_signs.npy", signs, n * words)
        layout.check_length("vector_keys.npy", keys, n)
        if not bool(np.all(np.isfinite(scales))):
            raise ValueError("vector_scales.npy holds a value that is not finite")
        return cls(
            codes=codes.reshape(n, dimension),
            scales=scales,
            # Copied into anonymous memory (48 MB at 1M rows, the same RSS as mapped, since every
            # question reads them all): numpy backs it with huge pages, and the Hamming scan
            # takes 2.8 ms instead of 7.8 ms from the memory map at 1M rows (fewer TLB misses).
            signs=np.array(signs.reshape(n, words)),
            keys=keys,
            model=model,
            codes_file=CodesFile.open(layout.array_path(folder, "vector_codes"), codes, dimension),
        )


# libc's pread, called from numba: 0.8 µs a row at 1M rows, against 2.5 µs through os.preadv.
_libc = ctypes.CDLL(None, use_errno=True)
_pread: Any = _libc.pread
_pread.restype = ctypes.c_ssize_t
_pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64]


@numba.njit(nogil=True)
def _read_rows(
    fd: int, offset: int, size: int, rows: Rows, out: npt.NDArray[np.int8]
) -> int:  # pragma: no cover - compiled
    """Read row `rows[i]` of a file of `size`-byte rows into `out[i]`; return the rows read."""
    base = out.ctypes.data
    for i in range(len(rows)):
        if _pread(fd, base + i * size, size, offset + rows[i] * size) != size:
            return i
    return len(rows)


@dataclass(frozen=True, slots=True)
class CodesFile:
    """The int8 codes file, read a row at a time with `pread`.

    Why not the memory map: every question reads a few thousand rows scattered over the file,
    and mapped pages, once touched, stay in the process's RSS; after a few hundred questions at
    1M rows that is the whole 384 MB file. Read with `pread`, they stay in the page cache (shared
    and reclaimable) instead, for about 1 µs a row.

    Attributes:
        descriptor: The `.npy` file, open for reading.
        offset: Byte offset of row 0 (past the `.npy` header).
        row_bytes: Bytes per row (the dimension).
    """

    descriptor: layout.ReadOnlyFile
    offset: int
    row_bytes: int

    @classmethod
    def open(cls, path: Path, mapped: npt.NDArray[Any], dimension: int) -> CodesFile:
        """Open the codes file `mapped` (a `np.memmap` of it) was loaded from."""
        offset = int(getattr(mapped, "offset", 0))
        return cls(layout.ReadOnlyFile(path), offset, dimension)

    def rows(self, rows: Rows) -> npt.NDArray[np.int8]:
        """Return the codes of `rows`, in their order.

        Raises:
            ValueError: The file ends before a row (it changed since it was checked).
        """
        out = np.empty((len(rows), self.row_bytes), dtype=np.int8)
        if _read_rows(self.descriptor.fd, self.offset, self.row_bytes, rows, out) != len(rows):
            raise ValueError("vector_codes.npy ends before a row it should hold")
        return out


def _best(rows: Rows, scores: FloatVectors, k: int) -> tuple[Rows, FloatVectors]:
    """Return the `k` highest-scoring rows, best first (ties: lower row first)."""
    if k < len(rows):
        # Keep every row tied with the k-th score, so the tie rule decides, not argpartition.
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order].astype(np.float32)
