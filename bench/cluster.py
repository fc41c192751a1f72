"""A sharded index served by a private Ray cluster vs the single process (issue #21).

    python -m bench.cluster                        # seed + Wikinews, 3 shards x 2 replicas
    python -m bench.cluster --shards 2 --rounds 5
    python -m bench.cluster --index-dir DIR        # an index already built with --shards N

Starts a private local Ray cluster (`index.scale.ray_connect.connect("local")`: 127.0.0.1 only,
token authentication on, no dashboard), loads the index in this process and through its shards'
replicas, and asks the question sets' questions of both, side by side (single, then cluster, for
each question, `--rounds` times). Prints, as one JSON object: the answers that differ (expected 0:
rows, scores and order), `ask` latency p50/p99 of each and what the cluster adds, and the memory
(RSS and PSS, from /proc) of Ray's own processes, of an empty Ray worker, of each replica, and of
this process before and after loading the index alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/cluster.py`
    sys.path.insert(0, str(ROOT))

from index.answers.search import NewsIndex  # noqa: E402
from index.scale.cluster import Cluster  # noqa: E402
from index.scale.ray_connect import LOCAL  # noqa: E402
from index.scale.sharded import ShardedNewsIndex  # noqa: E402
from index.scale.shards import shard_count  # noqa: E402
from index.store.build import build_index  # noqa: E402
from index.store.build_settings import BuildSettings  # noqa: E402
from index.store.generations import current_generation  # noqa: E402

QUESTIONS = ROOT / "bench" / "questions"
WIKINEWS = ROOT.parent / "shared" / "corpus" / "wikinews-gum"


def questions() -> list[str]:
    """The questions of every split about the seed and the Wikinews articles."""
    asked = []
    for split in ("dev.jsonl", "dev2.jsonl", "test.jsonl"):
        for line in (QUESTIONS / split).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if (row["article_id"] or "seed").startswith(("seed", "GUM_")):
                    asked.append(str(row["question"]))
    return asked


def memory(pid: int) -> dict[str, int]:
    """RSS and PSS of a process, in bytes (/proc/<pid>/smaps_rollup)."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss"):
            found[name.lower()] = int(value.split()[0]) * 1024
    return found


def ray_processes() -> dict[str, dict[str, int]]:
    """Memory of Ray's own processes (not workers), by command name and pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "site-packages/ray/" in command and not command.startswith("ray::"):
                words = command.split()
                program = Path(words[0]).name
                scripts = [w for w in words[1:3] if w.endswith(".py")]  # python [-u] SCRIPT
                name = (
                    Path(scripts[0]).name if program.startswith("python") and scripts else program
                )
                found[f"{name} ({entry.name})"] = memory(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile of `values` (nearest rank), in milliseconds."""
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def empty_worker() -> dict[str, int]:
    """Memory of a Ray actor that has imported nothing of ours."""
    import ray

    @ray.remote(num_cpus=0)
    class Empty:
        def pid(self) -> int:
            return os.getpid()

    actor = Empty.remote()  # type: ignore[attr-defined]
    found = memory(ray.get(actor.pid.remote()))
    ray.kill(actor)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--lexical-only", action="store_true", help="BM25 alone (an index built without vectors)"
    )
    args = parser.parse_args()
    folder = args.index_dir
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-cluster-")) / "index"
        build_index([ROOT / "seeds", WIKINEWS], folder, BuildSettings(shards=args.shards))
    n_shards = shard_count(current_generation(folder))
    before = memory(os.getpid())
    semantic = not args.lexical_only
    single = NewsIndex.load(folder, semantic=semantic)
    single.warm()
    alone = memory(os.getpid())
    cluster = Cluster(LOCAL, folder, replicas=args.replicas)
    sharded = ShardedNewsIndex.open(folder, cluster.switch, semantic=semantic)
    asked = questions()
    single_times, cluster_times, differ = [], [], 0
    for question in asked:  # the question vectors cached alike for both
        single.ask(question)
        sharded.ask(question)
    for _ in range(args.rounds):
        for question in asked:
            started = time.perf_counter()
            expected = single.ask(question)
            single_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = sharded.ask(question)
            cluster_times.append(time.perf_counter() - started)
            differ += found != expected
    replicas = cluster.status(n_shards)
    pids = {r.name: _pid(cluster, r.name) for r in replicas}
    report: dict[str, Any] = {
        "index": str(folder),
        "sentences": single.n_sentences,
        "shards": n_shards,
        "replicas_per_shard": args.replicas,
        "questions": len(asked) * args.rounds,
        "answers_that_differ": differ,
        "single_ms": {"p50": percentile(single_times, 0.5), "p99": percentile(single_times, 0.99)},
        "cluster_ms": {
            "p50": percentile(cluster_times, 0.5),
            "p99": percentile(cluster_times, 0.99),
        },
        "added_ms": {
            "p50": round(percentile(cluster_times, 0.5) - percentile(single_times, 0.5), 3),
            "p99": round(percentile(cluster_times, 0.99) - percentile(single_times, 0.99), 3),
        },
        "memory_bytes": {
            "this_process_before_load": before,
            "this_process_with_single_index": alone,
            "ray_own_processes": ray_processes(),
            "empty_ray_worker": empty_worker(),
            "replicas": {
                name: {**memory(pid), "loaded_bytes": r.loaded_bytes}
                for (name, pid), r in zip(pids.items(), replicas, strict=True)
            },
        },
    }
    cluster.stop(n_shards)
    print(json.dumps(report, indent=1))


def _pid(cluster: Cluster, name: str) -> int:
    """The process id of a replica."""
    import ray

    from index.scale.ray_connect import NAMESPACE

    state = ray.get(ray.get_actor(name, namespace=NAMESPACE).status.remote())
    return int(state["pid"])


if __name__ == "__main__":
    main()
