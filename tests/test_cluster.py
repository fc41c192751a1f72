"""The sharded index on a real local Ray cluster of 2 nodes (issue #21): one cluster per module.

Every Ray process listens on 127.0.0.1 only, with token authentication on. Answers through the
cluster are the single process's, a replica killed while questions stream loses none, a
generation switch during questions mixes none, and `newsbot check --ray` agrees with rank_bm25.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.answers.search import NewsIndex
from index.scale.cluster import Cluster, replica_name
from index.scale.ray_connect import NAMESPACE
from index.scale.sharded import ShardedNewsIndex, ShardsUnavailable
from index.store.build import build_index
from index.store.build_settings import BuildSettings
from tests.conftest import ROOT, SEEDS

pytestmark = [pytest.mark.slow, pytest.mark.process]

SHARDS = 3
QUESTIONS = [
    json.loads(line)["question"]
    for line in (ROOT / "bench" / "questions" / "dev.jsonl").read_text().splitlines()
    if line.strip() and (json.loads(line)["article_id"] or "seed").startswith(("seed", "GUM_"))
]
# Environment of every Ray process here: loopback only, token authentication on.
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": secrets.token_hex(32),
    "RAY_USAGE_STATS_ENABLED": "0",
}
# Ray reads them when it is imported: set first (they matter to Ray alone).
os.environ.update(RAY_ENV)
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[Any]:
    """Two Ray nodes on 127.0.0.1, this process connected to them."""
    from ray.cluster_utils import Cluster as RayCluster

    nodes = RayCluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    nodes.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    ray.init(address=nodes.address, namespace=NAMESPACE, logging_level="WARNING")
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture(scope="module")
def news_dir(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    """The seed and the Wikinews articles, in 3 shards."""
    folder = tmp_path_factory.mktemp("cluster") / "index"
    build_index([SEEDS, corpus_dir], folder, BuildSettings(shards=SHARDS))
    return folder


@pytest.fixture(scope="module")
def corpus_dir() -> Path:
    """The Wikinews articles of the shared corpora (skip without them)."""
    folder = ROOT.parent / "shared" / "corpus" / "wikinews-gum"
    if not folder.is_dir():
        pytest.skip(f"shared corpora not found at {folder}")
    return folder


def served(local_cluster: Any, index_dir: Path) -> tuple[Cluster, ShardedNewsIndex]:
    """The index through its replicas on the cluster."""
    cluster = Cluster(local_cluster.address, index_dir, replicas=2)
    return cluster, ShardedNewsIndex.open(index_dir, cluster.switch)


def test_answers_through_the_cluster_are_one_machines(local_cluster: Any, news_dir: Path) -> None:
    single = NewsIndex.load(news_dir)
    _, sharded = served(local_cluster, news_dir)
    assert len(QUESTIONS) > 100
    for question in QUESTIONS:
        assert sharded.ask(question, k=3) == single.ask(question, k=3), question
        assert sharded.search(question, 10) == single.search(question, 10)


def test_a_replica_killed_mid_stream_loses_no_question(local_cluster: Any, news_dir: Path) -> None:
    single = NewsIndex.load(news_dir)
    cluster, sharded = served(local_cluster, news_dir)
    expected = {q: single.search(q, 10) for q in QUESTIONS[:60]}
    victim = ray.get_actor(replica_name(news_dir, 1, 0), namespace=NAMESPACE)
    for i, question in enumerate(expected):
        if i == 20:
            ray.kill(victim, no_restart=False)  # Ray restarts it; its shard's other answers
        assert sharded.search(question, 10) == expected[question], question
    alive = [r for r in cluster.status(SHARDS) if r.alive]
    assert {r.shard for r in alive} == set(range(SHARDS))


def test_a_shard_without_a_live_replica_says_so(local_cluster: Any, news_dir: Path) -> None:
    cluster, sharded = served(local_cluster, news_dir)
    for replica in range(2):
        ray.kill(ray.get_actor(replica_name(news_dir, 2, replica), namespace=NAMESPACE))
    with pytest.raises(ShardsUnavailable) as raised:
        sharded.ask(QUESTIONS[0])
    assert raised.value.shards == (2,)
    status = {(r.shard, r.replica): r.alive for r in cluster.status(SHARDS)}
    assert status[(2, 0)] is status[(2, 1)] is False
    _, again = served(local_cluster, news_dir)  # a switch starts the missing replicas again
    assert again.ask(QUESTIONS[0]).answers


def test_a_switch_during_questions_mixes_no_generations(
    local_cluster: Any, news_dir: Path, tmp_path: Path, corpus_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    build_index([SEEDS], index_dir, BuildSettings(shards=2))
    cluster, old = served(local_cluster, index_dir)
    before = NewsIndex.load(index_dir)
    answers: list[tuple[str, str, Any]] = []
    stop = threading.Event()

    def ask_on() -> None:
        serving = [old]
        while not stop.is_set():
            for question in QUESTIONS[:10]:
                index = serving[-1]
                answers.append((index.folder.name, question, index.search(question, 5)))
            serving.append(current[0])

    current = [old]
    asker = threading.Thread(target=ask_on)
    asker.start()
    build_index([SEEDS, corpus_dir], index_dir, BuildSettings(), full=False)
    current[0] = ShardedNewsIndex.open(index_dir, cluster.switch)  # both phases
    after = NewsIndex.load(index_dir)
    for question in QUESTIONS[:10]:
        current[0].search(question, 5)
    stop.set()
    asker.join(timeout=60)
    expected = {(g.folder.name, q): g.search(q, 5) for g in (before, after) for q in QUESTIONS[:10]}
    assert {name for name, _, _ in answers} <= {before.folder.name, after.folder.name}
    for name, question, hits in answers:
        assert hits == expected[(name, question)]
    cluster.stop(2)


def test_check_and_status_through_the_cluster(local_cluster: Any, news_dir: Path) -> None:
    served(local_cluster, news_dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSBOT_RAY_ADDRESS": local_cluster.address}
    command = [sys.executable, "-m", "bot.cli"]
    asked = ["check", "--sample", "40", "--json", "--index-dir", str(news_dir)]
    check = subprocess.run(
        [*command, *asked, "--ray", local_cluster.address],
        env={**env, "NEWSBOT_RAY_ADDRESS": ""},
        capture_output=True,
        check=False,
        text=True,
        timeout=240,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    report = json.loads(check.stdout.splitlines()[-1])
    assert (report["questions"], report["agreed"], report["disagreements"]) == (40, 40, [])
    status = subprocess.run(
        [*command, "cluster", "status", "--index-dir", str(news_dir), "--json"],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr[-2000:]
    found = json.loads(status.stdout.splitlines()[-1])
    assert found["shards"] == SHARDS
    assert found["alive_per_shard"] == [2] * SHARDS


def test_no_ray_process_listens_beyond_loopback(local_cluster: Any, news_dir: Path) -> None:
    served(local_cluster, news_dir)
    listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True)
    ray_sockets = []
    for line in listening.stdout.splitlines():
        pids = [int(p) for p in re.findall(r"pid=(\d+)", line)]
        if any(_is_ray(pid) for pid in pids):
            ray_sockets.append(line.split()[3])
    assert ray_sockets  # the check sees Ray's sockets at all
    outside = [a for a in ray_sockets if not a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:"))]
    assert outside == []


def _is_ray(pid: int) -> bool:
    """Whether process `pid` is one of Ray's: this driver, a worker, or a program of Ray's."""
    if pid == os.getpid():
        return True
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return command.startswith(b"ray::") or b"site-packages/ray/" in command


def test_a_node_without_the_index_folder_is_a_clear_error(
    local_cluster: Any, news_dir: Path
) -> None:
    cluster, _ = served(local_cluster, news_dir)
    with pytest.raises(ShardsUnavailable, match="same path"):
        cluster.switch(news_dir / "gen-on-no-node", SHARDS)


def test_a_node_removed_loses_no_question(local_cluster: Any, news_dir: Path) -> None:
    """Last of the module: the cluster keeps one node afterwards."""
    single = NewsIndex.load(news_dir)
    cluster, sharded = served(local_cluster, news_dir)
    worker_id = local_cluster.worker_nodes and next(iter(local_cluster.worker_nodes)).node_id
    on_worker = [r for r in cluster.status(SHARDS) if r.node and worker_id[:12] in r.node]
    assert on_worker  # the node removed held replicas (both of a shard, maybe: Ray restarts them)
    (worker,) = local_cluster.worker_nodes
    local_cluster.remove_node(worker)
    for question in QUESTIONS[:30]:
        assert sharded.search(question, 10) == single.search(question, 10), question
