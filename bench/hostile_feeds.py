"""Hostile feeds against the poller and the build: memory, wall time and event-loop stall per case.

A loopback server (`tests/hostile_feeds.py`, in a process of its own so that its work does not
take this process's GIL) serves a gzip bomb (2 GB of zeros, gzipped: ~2 MB), the same gzipped
twice under `Content-Encoding: gzip, gzip` (~2 KB), an entity bomb (2 MB of references to a
100-character entity), response headers a byte every 0.2 s for 30 s, an HTML "checking your
browser" page and a 503; and, to compare, a plain 2 MB feed. Each case is measured twice:

- the poller (`index.sources.feedpoll.poll_feed`, into a spool when the code has one), in this
  process with an asyncio ticker every 10 ms: wall time, peak RSS over the steady state (RSS sampled
  every 2 ms by a thread, the steady state taken after two polls of a good feed), and the ticker's
  largest lag (how long the event loop was stalled);
- the build's reading (`index.sources.ingest.read_sources([url])`, what `newsbot index URL` does
  before indexing), in a fresh child process per case: wall time and its peak RSS over the peak
  after reading a good feed (`VmHWM`).

Run from the repository: `python -m bench.hostile_feeds` (the code under test is whatever
`PYTHONPATH` imports, so the same file measures another checkout). `--json` prints the rows.

`python -m bench.hostile_feeds --xml` measures XML expansion alone, each in a fresh process:
feedparser itself and `index.sources.formats.feeds.parse_feed` on 2 MB of references to an entity of
10, 100 and 1,000 characters, and on a plain 2 MB feed: seconds, peak RSS (VmHWM) and the
longest text parsed.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from index.sources.feedpoll import feed_client, poll_feed
from index.sources.feedschedule import FeedState
from tests.hostile_feeds import HostileServer, gzip_bomb, stacked_bomb

CASES = (
    "/big-feed",  # not hostile: a plain feed as large as the entity bomb, for comparison
    "/gzip-bomb",
    "/stacked-bomb",
    "/entity-bomb",
    "/slow-headers",
    "/checking-browser",
    "/unavailable",
)
_PAGE = os.sysconf("SC_PAGE_SIZE")
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child of a bench that
# went through a bomb would report the parent's peak.
_BUILD_CHILD = """
import json, re, sys, time
from index.sources.ingest import read_sources
def hwm():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read())[1])
read_sources([sys.argv[1]])
steady = hwm()
started = time.perf_counter()
result = read_sources([sys.argv[2]])
wall = time.perf_counter() - started
peak = hwm()
reason = result.skipped[0].reason if result.skipped else f"{len(result.articles)} articles"
print(json.dumps({"wall": wall, "over_kb": peak - steady, "steady_kb": steady, "outcome": reason}))
"""


@dataclass(frozen=True, slots=True)
class Row:
    """One case, measured in the poller and in the build's reading."""

    case: str
    poll_seconds: float
    poll_rss_over_mb: float
    poll_loop_lag_ms: float
    poll_outcome: str
    build_seconds: float
    build_rss_over_mb: float
    build_outcome: str


def _serve(bomb_bytes: int, entity_bytes: int, hold: float, pipe: Connection) -> None:
    sizes = len(gzip_bomb(bomb_bytes)), len(stacked_bomb(bomb_bytes))  # made before any request
    with HostileServer(bomb_bytes=bomb_bytes, entity_bytes=entity_bytes, hold=hold) as server:
        pipe.send((server.base, *sizes))
        pipe.recv()  # until told to stop


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


class _PeakRss:
    """Samples this process's RSS every 2 ms in a thread; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())


async def _poll_cases(base: str) -> dict[str, tuple[float, float, float, str]]:
    """Poll each case once; return wall s, peak RSS over steady MB, max loop lag ms, outcome."""
    spool_dir = tempfile.mkdtemp(prefix="hostile-spool-")
    extra: dict[str, Any] = {}
    if "spool" in inspect.signature(poll_feed).parameters:
        from index.sources.spool import Spool

        extra["spool"] = Spool(Path(spool_dir))
    out = {}
    async with feed_client() as client:
        for _ in range(2):
            await poll_feed(client, FeedState(f"{base}/feed"), **extra)
        steady = _rss()
        for case in CASES:
            lags: list[float] = []
            ticking = asyncio.create_task(_ticker(lags))
            with _PeakRss() as rss:
                started = time.perf_counter()
                poll = await poll_feed(client, FeedState(f"{base}{case}"), **extra)
                wall = time.perf_counter() - started
                await asyncio.sleep(0.05)  # the ticker sees a stall that ended the poll
            ticking.cancel()
            outcome = (
                poll.state.last_error or f"HTTP {poll.response.status if poll.response else '?'}"
            )
            out[case] = (wall, (rss.peak - steady) / 1e6, max(lags, default=0.0) * 1e3, outcome)
    return out


async def _ticker(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append(loop.time() - before - 0.01)


def _build_case(base: str, case: str) -> tuple[float, float, str]:
    """Read one case in a fresh process; return wall s, peak RSS over steady MB, outcome."""
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_CHILD, f"{base}/feed", f"{base}{case}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    row = json.loads(done.stdout.strip().splitlines()[-1])
    return row["wall"], row["over_kb"] / 1e3, row["outcome"]


_XML_CHILD = """
import io, json, re, sys, time
import feedparser
from index.sources.formats.feeds import parse_feed
from tests.hostile_feeds import big_feed, entity_bomb
def hwm():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read())[1])
length = int(sys.argv[2])
data = entity_bomb(2_000_000, length) if length else big_feed(2_000_000)
steady = hwm()
started = time.perf_counter()
if sys.argv[1] == "feedparser":
    feed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    longest = max((len(e.get("summary", "")) for e in feed.entries), default=0)
    note = repr(feed.get("bozo_exception", ""))[:70]
else:
    longest = max((len(getattr(d, "text", "")) for d in parse_feed(data)), default=0)
    note = ""
print(json.dumps({"wall": time.perf_counter() - started, "steady_kb": steady,
                  "peak_kb": hwm(), "longest": longest, "note": note}))
"""


def xml_expansion() -> None:
    """Print feedparser's and `parse_feed`'s cost on entity bombs and on a plain feed."""
    print("| parser | document (2 MB) | s | peak RSS MB (after imports) | longest text | note |")
    print("|---|---|---|---|---|---|")
    for parser in ("feedparser", "parse_feed"):
        for length in (10, 100, 1000, 0):
            done = subprocess.run(
                [sys.executable, "-c", _XML_CHILD, parser, str(length)],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            what = f"&a; x {length} characters" if length else "plain feed"
            print(
                f"| {parser} | {what} | {row['wall']:.2f} | {row['peak_kb'] / 1e3:.0f} "
                f"({row['steady_kb'] / 1e3:.0f}) | {row['longest']:,} | {row['note']} |"
            )


def main() -> None:
    """Serve the hostile feeds, measure each case, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-bytes", type=int, default=2_000_000_000)
    parser.add_argument("--entity-bytes", type=int, default=2_000_000)
    parser.add_argument("--hold", type=float, default=30.0, help="seconds of slow headers")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--xml", action="store_true", help="measure XML expansion alone")
    args = parser.parse_args()
    if args.xml:
        xml_expansion()
        return
    mine, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve, args=(args.bomb_bytes, args.entity_bytes, args.hold, theirs), daemon=True
    )
    server.start()
    base, gzipped, stacked = mine.recv()
    try:
        polled = asyncio.run(_poll_cases(base))
        rows = [Row(case, *polled[case], *_build_case(base, case)) for case in CASES]
    finally:
        mine.send("stop")
        server.join(10)
    sizes = f"{args.bomb_bytes:,} zeros: gzip bomb {gzipped:,} B, stacked {stacked:,} B"
    if args.json:
        print(json.dumps({"sizes": sizes, "rows": [asdict(r) for r in rows]}, indent=1))
        return
    print(sizes)
    print(
        "| case | poll s | poll RSS over steady, MB | loop lag, ms | poll outcome "
        "| build s | build RSS over steady, MB | build outcome |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.case} | {r.poll_seconds:.2f} | {r.poll_rss_over_mb:+.1f} "
            f"| {r.poll_loop_lag_ms:.0f} | {r.poll_outcome} | {r.build_seconds:.2f} "
            f"| {r.build_rss_over_mb:+.1f} | {r.build_outcome} |"
        )


if __name__ == "__main__":
    main()
