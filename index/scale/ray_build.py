"""Embedding a build's sentences as Ray tasks over a cluster's CPUs (issue #21).

Each task embeds one block of texts (those `index.semantic.build_vectors.embed_sentences` would
give its encoder) with the packaged encoder of the worker it runs on, loaded once per worker
process, on one onnxruntime thread (the task holds one CPU). A block's result depends only on its
texts, so a task whose worker dies is simply run again (`max_retries`): a lost worker costs one
block. Results are gathered in the blocks' order, so the vectors are those of a single-process
build, byte for byte. Ray is imported only here, when a build is given a cluster address.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.scale.ray_connect import ClusterError, connect, import_ray
from index.semantic.build_vectors import EmbedBlocks
from index.semantic.embedding import QuantizedVectors, SentenceEncoder, load_encoder, quantize

# Times Ray runs a block again after its worker died (a block is idempotent).
MAX_RETRIES = 3
# Test hook: a path; the first task to see it missing creates it and kills its worker, as a
# lost machine would (tests/test_cluster_build.py).
KILL_ONCE_ENV = "NEWSBOT_TEST_KILL_EMBED_TASK"

# The worker process's encoder, loaded by its first task.
_ENCODER: list[SentenceEncoder] = []


def embed_block(texts: list[str]) -> QuantizedVectors:
    """Embed one block in this (worker) process: what each Ray task runs."""
    marker = os.environ.get(KILL_ONCE_ENV)
    if marker:
        try:
            Path(marker).touch(exist_ok=False)
        except FileExistsError:
            pass
        else:
            os._exit(1)  # the worker dies mid-task, as when its machine goes
    if not _ENCODER:
        encoder = load_encoder(threads=1)
        if encoder is None:
            raise ClusterError("the encoder model is not available on a Ray worker")
        _ENCODER.append(encoder)
    return quantize(_ENCODER[0].encode(texts))


def ray_embed_blocks(address: str) -> EmbedBlocks:
    """Return `embed_sentences`'s `embed_blocks` running each block as a task on `address`.

    Raises:
        ClusterError: Ray is missing or no cluster answers at `address`.
    """
    connect(address)
    ray = import_ray()
    task: Any = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(embed_block)

    def embed(blocks: list[list[str]]) -> Iterator[QuantizedVectors]:
        pending = [task.remote(block) for block in blocks]  # all queued: every CPU busy
        for ref in pending:
            try:
                yield ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise ClusterError(f"embedding on the Ray cluster failed: {exc}") from None

    return embed
