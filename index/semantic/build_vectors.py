"""The semantic stage of a build: every sentence's vector, reused by content key or embedded.

Each sentence is embedded as its `index.semantic.vectors.embedding_text` ("title: sentence") by
the packaged encoder on every core (onnxruntime's own threads), except those whose text the
current generation has already embedded (`previous_vectors`): their vectors are copied, found by
content key. Without the model a generation holds no vectors and BM25 answers alone. A full
build (`index.store.build`) embeds all its sentences here, an append (`index.store.update`) its
new ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.model import Article
from index.semantic.embedding import (
    MINILM_INT8,
    QuantizedVectors,
    SentenceEncoder,
    load_encoder,
    quantize,
)
from index.semantic.vectors import SentenceVectors, content_keys, embedding_text, model_name
from index.store import generations, layout
from index.text.analyzing import Analyzed, Progress

# Texts given to the encoder at a time: it batches them by length, and progress moves by this.
_EMBED_BLOCK = 2048

# Given how many sentences will be embedded, returns the progress callback of that phase.
EmbeddingProgress = Callable[[int], Progress]
# Embeds blocks of texts elsewhere (`index.scale.ray_build`: Ray tasks), yielding each block's
# quantized vectors in the blocks' order; a block's result depends only on its texts.
EmbedBlocks = Callable[[list[list[str]]], Iterator[QuantizedVectors]]


def embedding_texts(analyzed: Analyzed, articles: Sequence[Article]) -> list[str]:
    """Return what the model reads for each analyzed sentence, by row (`embedding_text`)."""
    counts = analyzed.sentence_counts().tolist()
    titles = itertools.chain.from_iterable(
        itertools.repeat(a.title, n) for a, n in zip(articles, counts, strict=True)
    )
    return [embedding_text(t, s) for t, s in zip(titles, analyzed.sentences(), strict=True)]


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
    embed_blocks: EmbedBlocks | None = None,
) -> Embedding:
    """Give each text a vector: the previous generation's for a text it holds, else the model's.

    Args:
        texts: What the model reads for each sentence, by row (`embedding_texts`).
        previous: The current generation's vectors, reused where their content key matches
            (only if the same model computed them).
        threads: onnxruntime threads for embedding (2 threads embed 1.7x faster than 1 here;
            docs/semantic.md).
        progress: Called with the number of texts to embed, if any; returns the callback told
            how many are done.
        encoder: Embed with this encoder instead of loading one.
        embed_blocks: Embed the blocks with this (a cluster's tasks) instead of an encoder
            here; the blocks are those the encoder would get, so the vectors are the same.
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
        blocks = [embedded[s : s + _EMBED_BLOCK] for s in range(0, len(embedded), _EMBED_BLOCK)]
        if embed_blocks is None:
            encoder = encoder or load_encoder(threads=threads)
            if encoder is None:  # load_encoder has logged why
                return Embedding(None, 0, 0)
            embed_blocks = _local_blocks(encoder)
        done = progress(len(embedded)) if progress is not None else None
        results = embed_blocks([[texts[r] for r in rows] for rows in blocks])
        for rows, stored in zip(blocks, results, strict=True):
            codes[rows], scales[rows] = stored.codes, stored.scales
            if done is not None:
                done(len(rows))
        codes[missing], scales[missing] = codes[embedded[copies]], scales[embedded[copies]]
    vectors = SentenceVectors.from_quantized(QuantizedVectors(codes, scales), keys)
    return Embedding(vectors, embedded=len(embedded), reused=n - len(missing))


def _local_blocks(encoder: SentenceEncoder) -> EmbedBlocks:
    """Return the embedding of blocks by `encoder` in this process, one block at a time."""

    def embed(blocks: list[list[str]]) -> Iterator[QuantizedVectors]:
        return (quantize(encoder.encode(block)) for block in blocks)

    return embed


def previous_vectors(index_dir: Path) -> SentenceVectors | None:
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
