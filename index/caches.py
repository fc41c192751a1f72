"""Caches that a question may fill, bounded by entries and by bytes, and free of cycles.

Why not `functools.lru_cache(self.method)` on an instance: the cache holds the bound method,
which holds the instance, which holds the cache. Such a cycle is freed only by a full garbage
collection, so a swapped-out index generation kept its memory maps and descriptors open (and its
deleted files their disk space) long after its last question (docs/reliability.md, "Leaks and
bounds"). A `BoundedCache` holds keys and values only; what computes a value is passed to each
`get` and dropped when it returns.

Why bytes as well as entries: what a stranger asks decides what is kept. Entries of unbounded
size (a 4 KB question's vector key, an article of any length) make a count alone no bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A least-recently-used map of at most `entries` values and `max_bytes` bytes; thread-safe.

    A value larger than `max_bytes` by itself is returned but not kept.

    Attributes:
        entries: Most values kept.
        max_bytes: Most bytes kept, as `weigh` counts them.
    """

    def __init__(self, entries: int, max_bytes: int, weigh: Callable[[K, V], int]) -> None:
        """Keep up to `entries` values and `max_bytes` bytes; `weigh(key, value)` sizes one.

        `weigh` should be a plain function (not a bound method of the cache's owner: that
        would make the very cycle this class avoids).
        """
        self.entries = entries
        self.max_bytes = max_bytes
        self._weigh = weigh
        self._values: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    @property
    def nbytes(self) -> int:
        """Bytes held now, as `weigh` counts them."""
        return self._bytes

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """Return the value kept for `key`, else `compute()` (kept when it fits).

        Two threads asking for one missing key may both compute it; the last one is kept.
        """
        with self._lock:
            kept = self._values.get(key)
            if kept is not None:
                self._values.move_to_end(key)
                return kept[0]
        value = compute()
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, dropping the least recently used values past the bounds."""
        size = self._weigh(key, value)
        if size > self.max_bytes or self.entries <= 0:
            return
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._values[key] = (value, size)
            self._bytes += size
            while len(self._values) > self.entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Drop every value."""
        with self._lock:
            self._values.clear()
            self._bytes = 0
