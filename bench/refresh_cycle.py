"""One refresh cycle over many loopback feeds, most answering 304: wall time and CPU time.

    python -m bench.refresh_cycle                     # 200 feeds, 10 changed per cycle, limit 8
    python -m bench.refresh_cycle --feeds 1000 --changed 50 --cycles 5

A feed server runs in a child process on 127.0.0.1 (so this process's CPU time is the
poller's alone). Each feed is an RSS document of 20 items with an ETag and a Last-Modified, and
answers 304 to a request carrying its current ETag. The first cycle fetches every feed (all
200); before each later cycle the server publishes a new version of `--changed` feeds, so that
cycle gets that many 200s and 304s for the rest. Polling is `index.sources.feedpoll.poll_all` over
one `feed_client`, at most `--limit` requests in flight. Wall time is `time.perf_counter`, CPU time
`time.process_time` of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

from aiohttp import web

from index.sources.feedpoll import Poll, feed_client, poll_all
from index.sources.feedschedule import FeedState

LAST_MODIFIED = "Wed, 11 Feb 2026 10:00:00 GMT"


def feed_body(n: int, version: int, items: int = 20) -> bytes:
    """Return feed `n` at `version`: an RSS channel of `items` short stories."""
    entries = "".join(
        f"<item><title>Story {n}.{version}.{i}</title><link>https://example.org/{n}/{i}</link>"
        f"<description>Feed {n}, version {version}, story {i}: a sentence or two of news "
        f"text, as a wire service would send it.</description>"
        f"<pubDate>Wed, 11 Feb 2026 10:{i:02d}:00 GMT</pubDate></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"{entries}</channel></rss>"
    ).encode()


def serve(feeds: int, pipe: Connection) -> None:
    """Run the feed server; send its port down `pipe`, then publish on each message."""
    versions = [0] * feeds

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        etag = f'"{n}-{versions[n]}"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        body = feed_body(n, versions[n])
        return web.Response(body=body, headers=headers, content_type="application/rss+xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        pipe.send(runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        while True:
            changed = await loop.run_in_executor(None, pipe.recv)
            if changed is None:
                break
            for n in range(changed):
                versions[n] += 1
            pipe.send("published")
        await runner.cleanup()

    asyncio.run(main())


async def cycle(states: list[FeedState], limit: int) -> tuple[list[Poll], float, float]:
    """Poll every feed once; return the polls, wall seconds and CPU seconds."""
    async with feed_client(limit) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        polls = await poll_all(states, client, limit)
        return polls, time.perf_counter() - wall, time.process_time() - cpu


def report(name: str, polls: list[Poll], wall: float, cpu: float) -> None:
    """Print one cycle's line."""
    statuses = [p.response.status if p.response else 0 for p in polls]
    body = sum(len(p.response.body or b"") for p in polls if p.response)
    print(
        f"| {name} | {len(polls)} | {statuses.count(200)} | {statuses.count(304)} | "
        f"{statuses.count(0)} | {body / 1024:,.0f} KiB | {wall * 1000:,.0f} ms | "
        f"{cpu * 1000:,.0f} ms |"
    )


async def run(args: argparse.Namespace, port: int, pipe: Connection) -> None:
    """Run the cold cycle and the warm ones, printing a Markdown table."""
    states = [FeedState(f"http://127.0.0.1:{port}/feed/{n}") for n in range(args.feeds)]
    print("| cycle | feeds | 200 | 304 | failed | bodies | wall | CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    polls, wall, cpu = await cycle(states, args.limit)
    report("first (cold)", polls, wall, cpu)
    walls, cpus = [], []
    for k in range(args.cycles):
        states = [p.state for p in polls]
        pipe.send(args.changed)
        pipe.recv()
        polls, wall, cpu = await cycle(states, args.limit)
        walls.append(wall)
        cpus.append(cpu)
        report(f"later #{k + 1}", polls, wall, cpu)
    print(
        f"\nlater cycles, median: wall {statistics.median(walls) * 1000:,.0f} ms, "
        f"CPU {statistics.median(cpus) * 1000:,.0f} ms "
        f"({args.feeds} feeds, {args.changed} changed, limit {args.limit})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--changed", type=int, default=10, help="feeds changed per cycle")
    parser.add_argument("--cycles", type=int, default=5, help="cycles after the first")
    parser.add_argument("--limit", type=int, default=8, help="requests in flight")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.feeds, theirs), daemon=True
    )
    server.start()
    try:
        port = ours.recv()
        asyncio.run(run(args, port, ours))
    finally:
        ours.send(None)
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
