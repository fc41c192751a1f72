"""A generation's header (`index.json`): what it holds, how it was built, and its files' hashes.

Written last, once every other file of the generation is (`layout.describe_files` hashes them),
by a full build (`index.store.build`) and an append (`index.store.update`) alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from index.model import Ingested
from index.scale.shards import write_for_generation
from index.semantic.vectors import SentenceVectors
from index.store import layout
from index.store.build_settings import BuildSettings


def generation_header(
    folder: Path,
    settings: BuildSettings,
    ingested: Ingested,
    segment_list: list[dict[str, Any]],
    *,
    articles: int,
    sentences: int,
    vectors: SentenceVectors | None,
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the header of a generation whose files are all written into `folder`.

    Its shards, if it has any (`settings.shards`), are written first (`index.scale.shards`).
    """
    shards = write_for_generation(folder, segment_list, settings.params, settings.shards, vectors)
    header: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sources": list(sources),
        "params": asdict(settings.params),
        "analyzer": asdict(settings.analyzer),
        "counts": {"articles": articles, "sentences": sentences},
        "segments": segment_list,
        "manifest": [asdict(f) for f in ingested.files],
        "skipped": [asdict(s) for s in ingested.skipped],
        "duplicates": ingested.duplicates,
        "files": layout.describe_files(folder),
    }
    if vectors is not None:
        header["vectors"] = vectors.header()
    if shards is not None:
        header["shards"] = shards
    return header
