"""A sharded index served by Ray actors: replicas per shard, a coordinator, a two-phase switch.

With an address (`--ray ADDRESS` or `NEWSBOT_RAY_ADDRESS`: `auto`, `HOST:PORT`,
`ray://HOST:PORT`, or `local` for a private cluster of this machine), `newsbot ask`, `check` and
`run` answer through the generation's shards (`index.scale.shards`): each shard is served by
`NEWSBOT_REPLICAS` detached, named, restartable actors (`ShardReplica`) that load the shard's
files from the index folder, which every node sees at the same path. The coordinator (the CLI or
the bot, `index.scale.sharded.ShardedNewsIndex`) sends each question once to one replica per
shard, in parallel, and merges. A replica that fails is replaced at once by another of its shard
(Ray restarts it); a shard none of whose replicas answers makes the question fail with
`index.scale.sharded.ShardsUnavailable`, never a partial ranking.

A generation switch is two-phase (`Cluster.switch`): every replica loads the new generation
(`prepare`), and only then does the coordinator build the new `ShardedNewsIndex` and swap it in.
Every request names its generation and a replica answers from that one only (loading it if it
was restarted meanwhile), so no answer mixes two. Replicas keep the last `KEPT_GENERATIONS`.

Without an address nothing here runs and `ray` is not imported. Ray is an optional extra
(`pip install 'newsbot[ray]'`); joining the cluster, and its settings, are
`index.scale.ray_connect`'s.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from index.scale.ray_connect import (
    NAMESPACE,
    ClusterError,
    connect,
    import_ray,
    ray_address,
    replicas_per_shard,
)
from index.scale.sharded import ShardsUnavailable
from index.scale.shards import Shard, ShardReply, ShardRequest

# A replica that has not answered after this long is given up for another of its shard.
REPLY_TIMEOUT = 10.0
# Between rounds over a shard's replicas while Ray restarts one.
RESTART_PAUSE = 0.2
# Generations a replica keeps loaded: the serving one and the one before (questions in flight).
KEPT_GENERATIONS = 2


# -- replicas ------------------------------------------------------------------------------------


class ShardReplica:
    """One replica of one shard, in a Ray actor: loads generations, answers requests.

    Attributes:
        index_dir: The shared index folder (the same path on every node).
        shard: The shard it serves.
    """

    def __init__(self, index_dir: str, shard: int) -> None:
        self.index_dir = Path(index_dir)
        self.shard = shard
        self._loaded: OrderedDict[str, Shard] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, generation: str) -> int:
        """Load `generation` (phase 1 of a switch) and warm it; return its loaded bytes."""
        loaded = self._get(generation)
        loaded.warm()
        return loaded.loaded_bytes

    def search(self, request: ShardRequest) -> ShardReply:
        """Answer `request` from the generation it names."""
        return self._get(request.generation).search(request)

    def status(self) -> dict[str, Any]:
        """Return where this replica runs and what it holds."""
        node_id = import_ray().get_runtime_context().get_node_id()[:12]
        return {
            "shard": self.shard,
            "node": f"{socket.gethostname()} ({node_id})",
            "pid": os.getpid(),
            "generations": list(self._loaded),
            "loaded_bytes": sum(s.loaded_bytes for s in self._loaded.values()),
        }

    def _get(self, generation: str) -> Shard:
        """Return `generation`'s shard, loading it (and dropping the oldest) when needed.

        Raises:
            ClusterError: The generation's folder is not on this node (no shared folder).
        """
        with self._lock:
            found = self._loaded.get(generation)
            if found is not None:
                self._loaded.move_to_end(generation)
                return found
            folder = self.index_dir / generation
            if not folder.is_dir():
                raise ClusterError(
                    f"index folder {folder} not found on node {socket.gethostname()}: every node "
                    "must see the index folder at the same path (a shared file system)"
                )
            shard = Shard(folder, self.shard)
            self._loaded[generation] = shard
            while len(self._loaded) > KEPT_GENERATIONS:
                self._loaded.popitem(last=False)
            return shard


@functools.cache
def _actor_class() -> Any:
    """Return `ShardReplica` as a Ray actor class (made once, Ray imported then)."""
    # Replicas reserve no CPU: a question is a millisecond of work, and a node's CPUs stay free
    # for the build's tasks; `Cluster.handles` puts a shard's replicas on different nodes.
    return import_ray().remote(num_cpus=0, max_restarts=-1, max_task_retries=0)(ShardReplica)


def replica_name(index_dir: Path, shard: int, replica: int) -> str:
    """Return the actor name of a replica: the index folder (hashed), shard and replica."""
    folder = hashlib.blake2b(str(index_dir.resolve()).encode(), digest_size=6).hexdigest()
    return f"newsbot-{folder}-shard{shard}-replica{replica}"


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """What `newsbot cluster status` shows of a replica."""

    shard: int
    replica: int
    name: str
    alive: bool
    node: str | None = None
    generations: tuple[str, ...] = ()
    loaded_bytes: int = 0
    error: str | None = None


# -- the coordinator -----------------------------------------------------------------------------


class RayShards:
    """The shards of one generation, asked through their replicas (a `sharded` backend)."""

    def __init__(self, generation: str, replicas: list[list[Any]]) -> None:
        self.generation = generation
        self.replicas = replicas
        self._turn = 0
        self._turn_lock = threading.Lock()

    def search(self, request: ShardRequest) -> list[ShardReply]:
        """Ask one replica per shard in parallel; on a failure, another replica of that shard.

        Raises:
            ShardsUnavailable: Some shard had no replica that answered.
        """
        ray = import_ray()
        with self._turn_lock:
            turn = self._turn
            self._turn += 1
        # A request is a few KB: inlined in each call (a `ray.put` would cost each replica a
        # fetch from this process, one more round trip).
        tried = [turn % len(replicas) for replicas in self.replicas]
        refs = [
            replicas[i].search.remote(request)
            for replicas, i in zip(self.replicas, tried, strict=True)
        ]
        try:  # the usual case: every first choice answers, waited for at once
            replies: list[ShardReply] = ray.get(refs, timeout=REPLY_TIMEOUT)
            return replies
        except (ray.exceptions.RayError, ClusterError):
            pass
        replies = []
        missing, reasons = [], []
        for shard, ref in enumerate(refs):
            reply = self._reply(shard, ref, tried[shard], request)
            if isinstance(reply, str):
                missing.append(shard)
                reasons.append(reply)
            else:
                replies.append(reply)
        if missing:
            raise ShardsUnavailable(missing, reasons[0])
        return replies

    def _reply(self, shard: int, ref: Any, first: int, request: ShardRequest) -> ShardReply | str:
        """Wait for shard `shard`'s reply, trying its other replicas in turn on a failure.

        Returns:
            The reply, or why the last replica tried failed.
        """
        ray = import_ray()
        replicas = self.replicas[shard]
        reason = "no replica"
        deadline = time.monotonic() + REPLY_TIMEOUT
        attempt = 0
        while True:
            try:
                reply: ShardReply = ray.get(ref, timeout=REPLY_TIMEOUT)
                return reply
            except (ray.exceptions.RayError, ClusterError) as exc:
                reason = _first(exc)  # dead, restarting, timed out, or the folder is missing
                # Ray restarts a replica whose process or node died: worth waiting for while
                # it does, until the deadline (a replica killed for good fails at once).
                restarting = isinstance(exc, ray.exceptions.ActorUnavailableError)
            attempt += 1
            if attempt % len(replicas) == 0:  # every replica tried once more
                if not restarting or time.monotonic() > deadline:
                    return reason
                time.sleep(RESTART_PAUSE)
            ref = replicas[(first + attempt) % len(replicas)].search.remote(request)

    def warm(self) -> None:
        """Nothing: replicas warm when they load a generation (`ShardReplica.prepare`)."""


class Cluster:
    """This process's view of the cluster: the replicas of an index folder's shards.

    Attributes:
        index_dir: The shared index folder.
        replicas: Replicas per shard.
    """

    def __init__(self, address: str, index_dir: Path, replicas: int | None = None) -> None:
        """Join the cluster at `address` (`connect`).

        Raises:
            ClusterError: Ray is missing, no cluster answers, or `NEWSBOT_REPLICAS` is bad.
        """
        self.replicas = replicas if replicas is not None else replicas_per_shard()
        self.index_dir = index_dir.resolve()
        connect(address)

    def handles(self, n_shards: int) -> list[list[Any]]:
        """Return each shard's replica actors, started where they are not running.

        Replica r of shard s is started on the live node (s + r) modulo their number, so a
        shard's replicas are on different nodes while there are enough of them; the affinity
        is soft, so Ray restarts a replica elsewhere when its node is gone.
        """
        ray = import_ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = sorted(str(n["NodeID"]) for n in ray.nodes() if n.get("Alive"))
        actor = _actor_class()
        return [
            [
                actor.options(
                    name=replica_name(self.index_dir, shard, replica),
                    namespace=NAMESPACE,
                    lifetime="detached",
                    get_if_exists=True,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(
                        nodes[(shard + replica) % len(nodes)], soft=True
                    )
                    if nodes
                    else "SPREAD",
                ).remote(str(self.index_dir), shard)
                for replica in range(self.replicas)
            ]
            for shard in range(n_shards)
        ]

    def switch(self, generation: Path, n_shards: int) -> RayShards:
        """Phase 1 of a switch: every live replica loads `generation`; return its backend.

        The caller swaps in the index built on the backend (phase 2). A replica that cannot
        load it does not stop the switch while its shard has another that can; a shard none of
        whose replicas can raises.

        Raises:
            ShardsUnavailable: A shard has no replica that loaded the generation.
        """
        ray = import_ray()
        handles = self.handles(n_shards)
        refs = [[r.prepare.remote(generation.name) for r in shard] for shard in handles]
        missing, reasons = [], []
        for shard, shard_refs in enumerate(refs):
            ready = 0
            for ref in shard_refs:
                try:
                    ray.get(ref, timeout=10 * REPLY_TIMEOUT)  # a first load compiles kernels
                    ready += 1
                except (ray.exceptions.RayError, ClusterError) as exc:
                    reasons.append(_first(exc))
            if not ready:
                missing.append(shard)
        if missing:
            raise ShardsUnavailable(missing, reasons[-1])
        return RayShards(generation.name, handles)

    def status(self, n_shards: int) -> list[ReplicaStatus]:
        """Return each replica's status (none is started by asking)."""
        ray = import_ray()
        found = []
        for shard in range(n_shards):
            for replica in range(self.replicas):
                name = replica_name(self.index_dir, shard, replica)
                try:
                    handle = ray.get_actor(name, namespace=NAMESPACE)
                    state = ray.get(handle.status.remote(), timeout=REPLY_TIMEOUT)
                except (ValueError, ray.exceptions.RayError) as exc:
                    found.append(ReplicaStatus(shard, replica, name, False, error=_first(exc)))
                    continue
                found.append(
                    ReplicaStatus(
                        shard,
                        replica,
                        name,
                        True,
                        node=str(state["node"]),
                        generations=tuple(state["generations"]),
                        loaded_bytes=int(state["loaded_bytes"]),
                    )
                )
        return found

    def stop(self, n_shards: int) -> None:
        """Kill this index folder's replicas (detached actors outlive their starter)."""
        ray = import_ray()
        for shard in range(n_shards):
            for replica in range(self.replicas):
                try:
                    handle = ray.get_actor(
                        replica_name(self.index_dir, shard, replica), namespace=NAMESPACE
                    )
                except ValueError:
                    continue
                ray.kill(handle, no_restart=True)


def _first(exc: BaseException) -> str:
    """The first line of an error (a replica's own error, not Ray's wrapper), for a status."""
    exc = getattr(exc, "cause", None) or exc
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def status_json(generation: str, n_shards: int, replicas: list[ReplicaStatus]) -> dict[str, Any]:
    """Return `newsbot cluster status --json`'s object."""
    return {
        "generation": generation,
        "shards": n_shards,
        "replicas": [asdict(r) for r in replicas],
        "alive_per_shard": [
            sum(1 for r in replicas if r.shard == shard and r.alive) for shard in range(n_shards)
        ],
    }


def load_index(index_dir: Path, *, semantic: bool = True, address: str | None = None) -> Any:
    """Load the index of `index_dir`: in this process, or its shards on a Ray cluster.

    The address is `address`, else `NEWSBOT_RAY_ADDRESS`; without one Ray is not imported.

    Returns:
        An `index.answers.search.NewsIndex` (an `index.scale.sharded.ShardedNewsIndex` on a
        cluster).

    Raises:
        index.store.generations.StoreError: The index is missing or unusable.
        ClusterError: The cluster cannot be used.
        ShardsUnavailable: A shard has no replica that could load the generation.
    """
    from index.answers.search import NewsIndex

    found = ray_address(given=address)
    if found is None:
        return NewsIndex.load(index_dir, semantic=semantic)
    return open_sharded(found, index_dir, semantic=semantic)


def open_sharded(address: str, index_dir: Path, *, semantic: bool = True) -> Any:
    """Load the current generation of `index_dir` served by the cluster at `address`.

    Returns:
        An `index.scale.sharded.ShardedNewsIndex`, its replicas prepared (phase 1 done).

    Raises:
        ClusterError: The cluster cannot be used.
        index.store.generations.StoreError: The index is missing, damaged or has no shards.
        ShardsUnavailable: A shard has no replica that could load the generation.
    """
    from index.scale.sharded import ShardedNewsIndex

    cluster = Cluster(address, index_dir)
    return ShardedNewsIndex.open(index_dir, cluster.switch, semantic=semantic)
