"""Feeds failing at random while the bot answers 30 questions/s: is anything lost or leaked?

Issue #18's soak target. A loopback feed server (127.0.0.1) serves `--feeds` (6) RSS feeds;
each request to a feed draws (seeded) its answer: a good one (that feed's window of its newest 5
items, a new item added with probability `--new-item` per good answer, a `<lastBuildDate>` of
the very request, so every good body differs from the last) or one of the failures `FAILURES`:
a 503, a timeout (nothing sent for longer than the fetch deadline), an HTML "checking your
browser" page, slow headers (a header byte every 0.2 s), a 2 GB gzip bomb and a 2 MB entity bomb
(the bombs are `tests/hostile_feeds.py`'s). The first answer of each feed is good, so that the
bot's first build has something to index.

The bot is the real `newsbot run` process, polling the fake Bot API of `tests/fake_telegram`,
with the feeds as its sources, `NEWSBOT_REFRESH=60s` (the minimum), `NEWSBOT_BUILD_TIMEOUT=60s`
(the minimum) and `NEWSBOT_SEMANTIC=off` (BM25 only: the subject is polling, building and
serving, not the sentence vectors). The users, the reply matching and the RSS sampling are
`bench.bot_load`'s: `--rate` questions/s from 600 chats for `--minutes`.

At the end the feeds answer 503 only (no item is served after that), the bench waits until the
bot has no build child for a while, stops the bot and reports:

- questions lost (sent, never answered within the grace) and failed (the bot's apology);
- articles lost: every item ever served in a good answer asked about with `newsbot ask --json
  --lexical-only` on the made-up word only that item holds (`bench.archive_scroll`'s); it is
  lost unless its own article answers first;
- the bot's RSS when the load started, its peak, and at the end;
- builds killed past `NEWSBOT_BUILD_TIMEOUT` ("rebuild stopped after" in the bot's log);
- generations committed ("rebuilt the index" in the log) against good answers whose items
  differed from that feed's previous good answer: a generation only when items changed.

Exits 1 when a target is missed: 0 lost or failed questions, 0 lost articles, RSS at most
+50 MB over the start (peak and end), 0 builds killed, generations <= item changes.

    python -m bench.soak_feeds                 # 10 minutes: the docs/reliability.md figures
    python -m bench.soak_feeds --minutes 1     # a trial
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/soak_feeds.py` as well as `-m bench.soak_feeds`
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.archive_scroll import WINDOW, answerable, item_xml, word  # noqa: E402
from bench.bot_load import ADMIN, ResidentPeak, run_load, start_bot  # noqa: E402
from bench.question_load import Load, latency_row  # noqa: E402
from index.sources.fetch import FETCH_TIMEOUT  # noqa: E402
from tests.fake_telegram import FakeTelegramThread  # noqa: E402
from tests.hostile_feeds import (  # noqa: E402
    CHECKING_PAGE,
    LoopbackServer,
    entity_bomb,
    gzip_bomb,
)

FAILURES = ("503", "timeout", "html", "slow-headers", "gzip-bomb", "entity-bomb")
BOMB_BYTES = 2_000_000_000  # zeros in the gzip bomb (about 1.9 MB sent)
ENTITY_BYTES = 2_000_000
RSS_ALLOWANCE_MB = 50.0
SETTINGS = {"NEWSBOT_REFRESH": "60s", "NEWSBOT_BUILD_TIMEOUT": "60s", "NEWSBOT_SEMANTIC": "off"}
# Log lines of `bot.newsroom`: a committed generation, a build killed past its limit.
COMMITTED = "rebuilt the index: "
UNCHANGED = "INFO bot.newsroom: unchanged: "
KILLED = "rebuild stopped after"
STARTED = "telegram.ext.Application: Application started"
FEED_FAILING = "WARNING bot.refresh: feed "


@dataclass
class Feed:
    """One feed's items (global numbers, oldest first) and what its good answers served."""

    items: list[int] = field(default_factory=list)
    last_served: tuple[int, ...] | None = None
    changes: int = 0  # good answers whose items differ from the previous good answer's


class FailingFeeds(LoopbackServer):
    """The feed server: `/feed/<n>` answers good or one of `FAILURES`, drawn per request."""

    def __init__(self, feeds: int, seed: int, good_share: float, new_item: float) -> None:
        self.rng = random.Random(seed)
        self.good_share, self.new_item = good_share, new_item
        self.feeds = [Feed() for _ in range(feeds)]
        self.next_item = 0
        self.answers: Counter[str] = Counter()
        self.served: set[int] = set()
        self.frozen = False  # the load is over: 503 to everything
        self.lock = threading.Lock()
        for feed in self.feeds:
            for _ in range(2):
                self._publish(feed)
        super().__init__(_handler(self))
        self.urls = [f"{self.base}/feed/{n}" for n in range(feeds)]

    def _publish(self, feed: Feed) -> None:
        feed.items.append(self.next_item)
        self.next_item += 1

    def draw(self, n: int) -> tuple[str, bytes]:
        """Return the kind of answer feed `n` gives now, and the good body when it is good."""
        with self.lock:
            feed = self.feeds[n]
            if self.frozen:
                kind = "503"
            elif feed.last_served is None or self.rng.random() < self.good_share:
                kind = "good"
            else:
                kind = self.rng.choice(FAILURES)
            self.answers[kind] += 1
            if kind != "good":
                return kind, b""
            if feed.last_served is not None and self.rng.random() < self.new_item:
                self._publish(feed)
            shown = tuple(feed.items[-WINDOW:])
            feed.changes += shown != feed.last_served
            feed.last_served = shown
            self.served.update(shown)
        return kind, self.body(n, shown)

    @staticmethod
    def body(n: int, shown: Sequence[int]) -> bytes:
        """Return feed `n` showing items `shown`, newest first, built this very second."""
        items = "".join(item_xml(i, 1_700_000_000 + 60 * i) for i in reversed(shown))
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Soak {n}</title>'
            f"<link>http://127.0.0.1/{n}</link><lastBuildDate>{formatdate(usegmt=True)}"
            f"</lastBuildDate>{items}</channel></rss>"
        ).encode()


def _handler(feeds: FailingFeeds) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/feed/") or not name.isdigit():
                self._send(404, b"", {})
                return
            kind, body = feeds.draw(int(name))
            if kind == "good":
                self._send(200, body, {"Content-Type": "application/rss+xml"})
            elif kind == "503":
                self._send(503, b"busy", {})
            elif kind == "html":
                self._send(200, CHECKING_PAGE, {"Content-Type": "text/html"})
            elif kind == "gzip-bomb":
                self._send(200, gzip_bomb(BOMB_BYTES), {"Content-Encoding": "gzip"})
            elif kind == "entity-bomb":
                self._send(200, entity_bomb(ENTITY_BYTES), {"Content-Type": "application/xml"})
            else:
                self._hold(trickle=kind == "slow-headers")

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _hold(self, *, trickle: bool) -> None:
            """Past the fetch deadline: nothing at all, or a header byte every 0.2 s."""
            if trickle:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
            ends = time.monotonic() + FETCH_TIMEOUT + 5
            while time.monotonic() < ends and not feeds.stop.wait(0.2):
                if trickle:
                    self.wfile.write(b"X")  # one byte of a header line that never ends
                    self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def wait_for_builds(pid: int, quiet: float, limit: float) -> float:
    """Wait until process `pid` has had no child for `quiet` seconds (at most `limit`)."""
    started = time.monotonic()
    process = psutil.Process(pid)
    calm_since = time.monotonic()
    while time.monotonic() - started < limit:
        if process.children():
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            break
        time.sleep(0.2)
    return time.monotonic() - started


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` in MB."""
    return float(psutil.Process(pid).memory_info().rss) / 2**20


class Timeline(ResidentPeak):
    """`bench.bot_load.ResidentPeak`, keeping one sample every `every` seconds as well."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(pid)
        self.every, self.started = every, time.monotonic()
        self.samples: list[tuple[float, float]] = []  # (seconds since the start, MB)

    def _sample(self) -> None:
        process = psutil.Process(self.pid)
        with contextlib.suppress(psutil.Error):  # the bot exited
            while not self._stop.is_set():
                mb = float(process.memory_info().rss) / 2**20
                self.peak_mb = max(self.peak_mb, mb)
                now = time.monotonic() - self.started
                if not self.samples or now - self.samples[-1][0] >= self.every:
                    self.samples.append((now, mb))
                self._stop.wait(self.interval)


@dataclass
class Outcome:
    """What the run measured, besides the load."""

    rss_start: float = 0.0
    rss_peak: float = 0.0
    rss_end: float = 0.0
    missing: list[int] = field(default_factory=list)
    timeline: list[tuple[float, float]] = field(default_factory=list)
    log: str = ""


def run(args: argparse.Namespace, feeds: FailingFeeds, index_dir: Path) -> tuple[Load, Outcome]:
    """Start the bot on the feeds, run the load, wait for the builds, check the index."""
    outcome = Outcome()
    log = args.out.with_suffix(".log")
    load_args = argparse.Namespace(
        rate=args.rate, seconds=args.minutes * 60, users=600, grace=args.grace
    )
    with FakeTelegramThread() as fake:
        fake.server.add_chat(ADMIN)
        bot = start_bot(fake, index_dir, feeds.urls, log, SETTINGS)
        try:
            # The start figure is the serving bot's: its first generation loaded and warmed
            # (the kernel compiled), which is after the build child wrote CURRENT.
            first_build = time.monotonic() + 300
            while STARTED not in log.read_text(errors="replace") and bot.poll() is None:
                if time.monotonic() > first_build:
                    raise SystemExit("soak_feeds: not serving after 300 s; see the bot's log")
                time.sleep(0.2)
            outcome.rss_start = rss_mb(bot.pid)
            questions = [f"What reopened in {word(n)}?" for n in range(feeds.next_item)]
            peak = Timeline(bot.pid, every=10.0)
            with peak:
                load = fake.run(
                    run_load(fake.server, questions, load_args, None, bot), timeout=None
                )
                feeds.frozen = True
                wait_for_builds(bot.pid, quiet=10.0, limit=180.0)
                outcome.rss_end = rss_mb(bot.pid)
            outcome.rss_peak = max(peak.peak_mb, outcome.rss_start, outcome.rss_end)
            outcome.timeline = peak.samples
        finally:
            bot.terminate()
            bot.wait(timeout=60)
    outcome.log = log.read_text(encoding="utf-8", errors="replace")
    found = set(answerable(index_dir, feeds.next_item))
    outcome.missing = sorted(feeds.served - found)
    return load, outcome


def report(args: argparse.Namespace, feeds: FailingFeeds, load: Load, outcome: Outcome) -> str:
    """The summary, markdown; the last line says which targets were missed."""
    committed = outcome.log.count(COMMITTED)
    changes = sum(f.changes for f in feeds.feeds)
    killed = outcome.log.count(KILLED)
    span = load.ended - load.started
    misses = [
        name
        for name, missed in (
            ("questions lost", bool(load.lost or load.failed)),
            ("articles lost", bool(outcome.missing)),
            ("RSS", max(outcome.rss_peak, outcome.rss_end) > outcome.rss_start + RSS_ALLOWANCE_MB),
            ("build over its limit", killed > 0),
            ("generations without item changes", committed > changes),
        )
        if missed
    ]
    answers = ", ".join(f"{kind} {n}" for kind, n in feeds.answers.most_common())
    lines = [
        f"Command: `python -m bench.soak_feeds {' '.join(sys.argv[1:])}`",
        "",
        f"- {args.feeds} feeds, seed {args.seed}: {sum(feeds.answers.values())} feed requests "
        f"({answers})",
        f"- questions: {len(load.asked):,} sent in {span:.0f} s ({len(load.asked) / span:.1f}/s);"
        f" lost {len(load.lost)}, failed {len(load.failed)}",
        f"- articles: {len(feeds.served)} items served in good answers, "
        f"{len(feeds.served) - len(outcome.missing)} answered by their own article at the end; "
        f"lost {len(outcome.missing)} {outcome.missing[:20] if outcome.missing else ''}",
        f"- bot RSS: {outcome.rss_start:.0f} MB at the start of the load, peak "
        f"{outcome.rss_peak:.0f} MB (+{outcome.rss_peak - outcome.rss_start:.1f}), end "
        f"{outcome.rss_end:.0f} MB (+{outcome.rss_end - outcome.rss_start:.1f})",
        f"- builds: {committed} generations committed, {outcome.log.count(UNCHANGED)} builds "
        f"unchanged (nothing committed), {outcome.log.count('rebuild failed after')} failed, "
        f"{killed} killed past NEWSBOT_BUILD_TIMEOUT",
        f"- good answers whose items changed: {changes}; generations <= changes: "
        f"{'yes' if committed <= changes else 'NO'}",
        "- bot RSS over the run (s: MB): "
        + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in outcome.timeline),
        f"- feed-failing warnings in the bot's log: {outcome.log.count(FEED_FAILING)}",
        "",
        "| questions | n | reply latency ms p50 / p99 / max | end-to-end ms p50 / p99 / max |",
        "|---|---|---|---|",
        latency_row("all", load.asked),
        "",
        f"Targets missed: {', '.join(misses) if misses else 'none'}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0, help="questions per second")
    parser.add_argument("--feeds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--good-share", type=float, default=0.5, help="share of good answers")
    parser.add_argument("--new-item", type=float, default=0.5, help="chance of a new item")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds to wait for replies")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak_feeds.md")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    gzip_bomb(BOMB_BYTES)  # compressed once, before any request
    feeds = FailingFeeds(args.feeds, args.seed, args.good_share, args.new_item)
    with feeds, tempfile.TemporaryDirectory() as tmp:
        load, outcome = run(args, feeds, Path(tmp) / "index")
    text = report(args, feeds, load, outcome)
    args.out.write_text(text)
    print(text)
    return 0 if text.rstrip().endswith("none") else 1


if __name__ == "__main__":
    sys.exit(main())
