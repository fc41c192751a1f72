"""How to build: `BuildSettings`, taken by a full build (`index.store.build`) and an append alike.

An append (`index.store.update`) builds on the current generation only when its analyzer and
BM25 parameters are these settings'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from index.config import DEFAULT_MAX_REMOVAL
from index.lexical.bm25 import BM25Params
from index.text.analysis import AnalyzerSettings


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """How to build: BM25 parameters, analyzer, and parallelism."""

    params: BM25Params = field(default_factory=BM25Params)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    workers: int = 0  # 0: one per core
    semantic: bool = True  # embed sentences, when the model is available
    # Articles older than this (by date, else first sighting) leave at the next update; None:
    # kept for ever (`index.config.retention`).
    retention: timedelta | None = None
    # Largest share of the live articles an update may remove (`index.config.max_removal`).
    max_removal: float = DEFAULT_MAX_REMOVAL
    shards: int | None = None  # `index.scale.shards`; None: as many as the current generation has
