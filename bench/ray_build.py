"""Embedding a build's sentences as Ray tasks vs in one process (issue #21).

    python -m bench.ray_build                    # 4,096 Reuters sentences (2 blocks)
    python -m bench.ray_build --sentences 6144 --tasks 100

Reads the first `--sentences` distinct sentences of the Reuters-21578 articles (shared corpus,
../shared/corpus/reuters21578, every split, in file order) as the model reads them
("title: sentence"), and embeds them with `index.semantic.build_vectors.embed_sentences`:
in this process (onnxruntime on 1 thread, then on every core), then as Ray tasks
(`index.scale.ray_build`, one task per block of 2,048, one CPU and one thread each) on a private
local cluster of 1, then 2 CPUs (127.0.0.1 only, token authentication on). Each cluster runs the
build twice: cold (workers start and load the encoder) and warm. The per-task overhead is the
mean wall time of `--tasks` one-sentence tasks run one after the other on a warm worker, less
the same sentence embedded in this process. Prints one JSON object; the vectors of every run
must equal the single process's (`identical`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/ray_build.py`
    sys.path.insert(0, str(ROOT))

from index.semantic.build_vectors import EmbedBlocks, embed_sentences  # noqa: E402
from index.semantic.embedding import SentenceEncoder, load_encoder  # noqa: E402
from index.semantic.vectors import SentenceVectors, embedding_text  # noqa: E402
from index.text.sentences import split_sentences  # noqa: E402

REUTERS = ROOT.parent / "shared" / "corpus" / "reuters21578" / "articles.jsonl"


def reuters_texts(limit: int) -> list[str]:
    """The first `limit` distinct "title: sentence" texts of Reuters-21578."""
    texts: dict[str, None] = {}
    with REUTERS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            for sentence in split_sentences(record.get("body") or ""):
                texts[embedding_text(record.get("title") or "", sentence)] = None
                if len(texts) == limit:
                    return list(texts)
    return list(texts)


def timed(
    texts: list[str], encoder: SentenceEncoder | None, blocks: EmbedBlocks | None
) -> tuple[float, SentenceVectors]:
    """Seconds to embed `texts`, and the vectors."""
    started = time.perf_counter()
    embedding = embed_sentences(texts, encoder=encoder, embed_blocks=blocks)
    assert embedding.vectors is not None, "the encoder model is not available"
    return time.perf_counter() - started, embedding.vectors


def same(a: SentenceVectors, b: SentenceVectors) -> bool:
    """Whether two builds' vectors are equal, code for code and scale for scale."""
    return bool((a.codes == b.codes).all() and (a.scales == b.scales).all())


def on_cluster(cpus: int, texts: list[str], reference: SentenceVectors, tasks: int) -> Any:
    """Embed `texts` as tasks on a private cluster of `cpus` CPUs: cold, warm, per-task cost."""
    import ray

    from index.scale import ray_build

    ray.init(
        num_cpus=cpus,
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    try:
        blocks = ray_build.ray_embed_blocks("auto")  # joins the cluster just started
        cold, vectors = timed(texts, None, blocks)
        warm, again = timed(texts, None, blocks)
        task = ray.remote(num_cpus=1)(ray_build.embed_block)
        ray.get(task.remote(texts[:1]))
        encoder = load_encoder(threads=1)
        assert encoder is not None
        started = time.perf_counter()
        for _ in range(tasks):
            ray.get(task.remote(texts[:1]))
        per_task = (time.perf_counter() - started) / tasks
        started = time.perf_counter()
        for _ in range(tasks):
            encoder.encode(texts[:1])
        local = (time.perf_counter() - started) / tasks
    finally:
        ray.shutdown()
    return {
        "cpus": cpus,
        "cold_s": round(cold, 2),
        "warm_s": round(warm, 2),
        "sentences_per_s": round(len(texts) / warm, 1),
        "sentences_per_s_per_cpu": round(len(texts) / warm / cpus, 1),
        "task_overhead_ms": round((per_task - local) * 1000, 2),
        "identical": same(vectors, reference) and same(again, reference),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=4096)
    parser.add_argument("--tasks", type=int, default=100, help="one-sentence tasks timed")
    args = parser.parse_args()
    # As `index.scale.ray_connect.connect("local")`: loopback only, tokens, set before Ray loads.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    texts = reuters_texts(args.sentences)
    single: dict[str, Any] = {}
    reference: SentenceVectors | None = None
    for threads in (1, os.cpu_count() or 1):
        encoder = load_encoder(threads=threads)
        assert encoder is not None, "the encoder model is not available"
        timed(texts[:64], encoder, None)  # warm
        seconds, vectors = timed(texts, encoder, None)
        reference = reference or vectors
        single[f"threads_{threads}"] = {
            "s": round(seconds, 2),
            "sentences_per_s": round(len(texts) / seconds, 1),
            "identical": same(vectors, reference),
        }
    assert reference is not None
    ray_runs = [on_cluster(cpus, texts, reference, args.tasks) for cpus in (1, 2)]
    report = {"sentences": len(texts), "single_process": single, "ray_tasks": ray_runs}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
