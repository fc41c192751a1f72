"""`newsbot cluster status`: the sharded index's replicas on the Ray cluster (docs/scale.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from index.cli import EXIT_FAILURE, EXIT_OK, UsageError
from index.cli_flags import add_ray_option
from index.config import default_index_dir
from index.scale.shards import shard_count
from index.store.generations import StoreError, current_generation


def add_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `cluster` subcommand and its `status` action."""
    cluster = commands.add_parser(
        "cluster",
        help="show the sharded index's replicas on a Ray cluster",
        description="Show the serving generation, its shards, and each shard's replicas on the "
        "Ray cluster: alive or not, their node and the bytes they loaded. Exit status 1 when a "
        "shard has no live replica.",
    )
    cluster.add_argument("action", choices=["status"], help="what to do (status)")
    cluster.add_argument("--json", action="store_true", help="print the status as JSON")
    cluster.add_argument("--index-dir", type=Path, default=None, metavar="DIR", help="index folder")
    add_ray_option(cluster)
    cluster.set_defaults(handler=run_cluster)


def run_cluster(args: argparse.Namespace) -> int:
    """Print the cluster's status; exit 1 when a shard has no live replica."""
    from index.scale.cluster import Cluster, status_json
    from index.scale.ray_connect import ClusterError, ray_address

    address = ray_address(given=args.ray)
    if address is None:
        raise UsageError("no cluster: give --ray ADDRESS or set NEWSBOT_RAY_ADDRESS")
    folder: Path = args.index_dir or default_index_dir()
    try:
        generation = current_generation(folder)
        n_shards = shard_count(generation)
        cluster = Cluster(address, folder)
        status = status_json(generation.name, n_shards, cluster.status(n_shards))
    except (StoreError, ClusterError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        print_status(status, sys.stdout)
    return EXIT_OK if all(status["alive_per_shard"]) else EXIT_FAILURE


def print_status(status: dict[str, Any], out: TextIO) -> None:
    """Print the status for a person: one line a shard, then one a replica."""
    print(f"generation {status['generation']}, {status['shards']} shards", file=out)
    for shard, alive in enumerate(status["alive_per_shard"]):
        state = "UNAVAILABLE" if not alive else f"{alive} replicas alive"
        print(f"shard {shard}: {state}", file=out)
        for replica in status["replicas"]:
            if replica["shard"] != shard:
                continue
            where = (
                f"on {replica['node']}, {replica['loaded_bytes']:,} bytes loaded"
                if replica["alive"]
                else f"down ({replica['error']})"
            )
            print(f"  replica {replica['replica']}: {where}", file=out)
