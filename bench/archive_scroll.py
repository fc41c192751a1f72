"""A feed that scrolls, polled by `newsbot index URL`: is every item ever published answerable?

A loopback RSS feed (127.0.0.1) shows a window of its newest items (5) and publishes a new one
every `--every` seconds (30); its `<lastBuildDate>` changes on every request, as many feeds'
do. `newsbot index URL --json` runs every `--poll` seconds (half of `--every`) for `--minutes`
(10), each run a separate process as the bot's build child is. At the end every item ever
published is asked about (`newsbot ask - --json --lexical-only`, one question an item, on a
word only that item holds), and the run reports how many were answered by their own item, how
many polls committed a generation and how many found nothing changed. Then the feed fails
(503 to every request) and `newsbot index URL` runs once more: its exit status, whether
`CURRENT` still names the same generation, and how many items are still answerable.

    python -m bench.archive_scroll                      # the 10-minute run of docs/reliability.md
    python -m bench.archive_scroll --minutes 1 --every 5
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

WINDOW = 5
ROOT = Path(__file__).resolve().parent.parent


def word(n: int) -> str:
    """Return the made-up place name only item `n` mentions."""
    syllables = ["bra", "cor", "dun", "fel", "gar", "hol", "kin", "lor", "mar", "nor"]
    return "".join(syllables[int(d)] for d in f"{n:03d}").capitalize()


def item_xml(n: int, published: float) -> str:
    """Return item `n` of the feed as RSS."""
    return (
        f"<item><title>Item {n}: news from {word(n)}</title>"
        f"<link>http://127.0.0.1/item/{n}</link><guid>item-{n}</guid>"
        f"<pubDate>{formatdate(published, usegmt=True)}</pubDate>"
        f"<description>The harbour of {word(n)} reopened on the morning of item {n}. "
        f"Fishing boats from {word(n)} returned to the quay.</description></item>"
    )


class ScrollingFeed:
    """An RSS feed on 127.0.0.1 publishing an item every `every` seconds, showing the last 5."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.started = time.time()
        self.requests = 0
        self.served = 0  # items published when the feed was last read
        self.failing = False  # answer 503 to everything
        feed = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if feed.failing:
                    self.send_error(503)
                    return
                body = feed.body().encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/feed.xml"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def published(self) -> int:
        """Return how many items have been published so far (5 at the start)."""
        return WINDOW + int((time.time() - self.started) // self.every)

    def body(self) -> str:
        """Return the feed now: its newest `WINDOW` items, a build date of this very request."""
        self.requests += 1
        last = self.served = self.published()
        items = "".join(
            item_xml(n, self.started + n * self.every)
            for n in range(last - 1, last - 1 - WINDOW, -1)
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Scrolling News</title>'
            f"<link>http://127.0.0.1/</link><lastBuildDate>{formatdate(usegmt=True)}"
            f"</lastBuildDate>{items}</channel></rss>"
        )

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def newsbot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `newsbot` as a process of this checkout (semantic layer off: BM25 is the subject)."""
    env = {**os.environ, "NEWSBOT_SEMANTIC": "off", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


def answerable(index_dir: Path, published: int) -> list[int]:
    """Return the items (of the first `published`) whose own article answers the question."""
    questions = [f"What reopened in {word(n)}?" for n in range(published)]
    asked = newsbot(
        "ask",
        "-",
        "--json",
        "--lexical-only",
        "--index-dir",
        str(index_dir),
        stdin="\n".join(questions) + "\n",
    )
    answers = [json.loads(line) for line in asked.stdout.strip().splitlines()]
    return [
        n
        for n, answer in enumerate(answers)
        if answer["answers"] and answer["answers"][0]["article"]["title"].startswith(f"Item {n}:")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between new items")
    parser.add_argument("--poll", type=float, default=None, help="seconds between updates")
    args = parser.parse_args()
    poll = args.poll or args.every / 2
    feed = ScrollingFeed(args.every)
    polls = committed = unchanged = failed = 0
    seconds: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        end = time.monotonic() + args.minutes * 60
        while True:
            started = time.monotonic()
            done = newsbot("index", feed.url, "--index-dir", str(index_dir), "--json")
            seconds.append(time.monotonic() - started)
            polls += 1
            if done.returncode != 0:
                failed += 1
                print(
                    f"poll {polls}: exit {done.returncode}: {done.stderr.strip()}", file=sys.stderr
                )
            else:
                report = json.loads(done.stdout.strip().splitlines()[-1])
                committed += bool(report.get("committed", True))  # main: always
                unchanged += not report.get("committed", True)
            if time.monotonic() >= end:
                break
            time.sleep(max(0.0, min(poll - (time.monotonic() - started), end - time.monotonic())))
        # What the last poll read: items published after it could not be indexed.
        seen = feed.served
        found = answerable(index_dir, seen)
        generations = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))
        # Then the feed fails (503): one more `newsbot index`, which must commit nothing.
        feed.failing = True
        current = (index_dir / "CURRENT").read_text()
        failing = newsbot("index", feed.url, "--index-dir", str(index_dir), "--json")
        after_failure = {
            "exit_status": failing.returncode,
            "stderr": failing.stderr.strip(),
            "current_unchanged": (index_dir / "CURRENT").read_text() == current,
            "answerable": len(answerable(index_dir, seen)),
        }
    feed.close()
    result = {
        "minutes": args.minutes,
        "every": args.every,
        "poll": poll,
        "published": seen,
        "answerable": len(found),
        "missing": sorted(set(range(seen)) - set(found)),
        "polls": polls,
        "committed": committed,
        "unchanged": unchanged,
        "failed": failed,
        "feed_requests": feed.requests,
        "generations_on_disk": len(generations),
        "poll_seconds_median": round(sorted(seconds)[len(seconds) // 2], 2),
        "after_failure": after_failure,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
