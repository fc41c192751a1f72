"""Joining a Ray cluster: its address and replica settings, Ray imported only when needed.

The address is `--ray ADDRESS` or `NEWSBOT_RAY_ADDRESS` (`auto`, `HOST:PORT`, `ray://HOST:PORT`,
or `local` for a private cluster of this machine); `NEWSBOT_REPLICAS` sets the replicas per
shard. What runs on the cluster is `index.scale.cluster`'s. Ray is an optional extra
(`pip install 'newsbot[ray]'`): `import_ray` says so in one line when it is missing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

RAY_ADDRESS_ENV = "NEWSBOT_RAY_ADDRESS"
REPLICAS_ENV = "NEWSBOT_REPLICAS"
DEFAULT_REPLICAS = 2
NAMESPACE = "newsbot"
# The address that starts a private cluster of this machine, on loopback only.
LOCAL = "local"


class ClusterError(RuntimeError):
    """The cluster cannot be used: Ray missing, no cluster at the address, a bad setting."""


def ray_address(env: Mapping[str, str] | None = None, given: str | None = None) -> str | None:
    """Return the cluster address: `given` (a `--ray` flag), else `NEWSBOT_RAY_ADDRESS`."""
    value = (
        given
        if given is not None
        else (env if env is not None else os.environ).get(RAY_ADDRESS_ENV, "")
    )
    return value.strip() or None


def replicas_per_shard(env: Mapping[str, str] | None = None) -> int:
    """Return `NEWSBOT_REPLICAS` (default `DEFAULT_REPLICAS`).

    Raises:
        ClusterError: It is not a whole number of at least 1.
    """
    raw = (env if env is not None else os.environ).get(REPLICAS_ENV, "").strip()
    if not raw:
        return DEFAULT_REPLICAS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ClusterError(f"{REPLICAS_ENV} must be a whole number of at least 1, not {raw!r}")
    return value


def import_ray() -> Any:
    """Import Ray (the optional extra).

    Raises:
        ClusterError: Ray is not installed.
    """
    try:
        import ray
    except ImportError:
        raise ClusterError("Ray is not installed: pip install 'newsbot[ray]'") from None
    return ray


def connect(address: str) -> None:
    """Connect this process to the cluster at `address` (once; later calls do nothing).

    `local` starts a private cluster whose every process listens on 127.0.0.1 only
    (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` with the node address 127.0.0.1: without the
    variable, a Linux node takes the interface's address), with token authentication on and no
    dashboard. Other addresses join an existing cluster, with the token its nodes were given
    (`RAY_AUTH_TOKEN` or `~/.ray/auth_token`, docs/scale.md).

    Raises:
        ClusterError: Ray is missing or no cluster answers at `address`.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address == LOCAL:  # before Ray is imported: it reads its settings then
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        if os.environ["RAY_AUTH_MODE"] == "token":
            os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    ray = import_ray()
    if ray.is_initialized():
        return
    try:
        if address == LOCAL:
            ray.init(
                _node_ip_address="127.0.0.1",
                include_dashboard=False,
                namespace=NAMESPACE,
                logging_level="WARNING",
                log_to_driver=False,
            )
        else:
            ray.init(address=address, namespace=NAMESPACE, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {exc}") from None
