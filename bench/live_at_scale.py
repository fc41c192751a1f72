"""Issue #12's targets: new articles appended as a segment, merges, questions meanwhile.

A change in the sources makes the bot's refresher (`bot/refresh.py`) run `newsbot index` (an
update: new and changed articles appended as a segment, removed ones masked, segments merged as
the policy asks; `index.store.update`) in a child process and swap the new generation in.

    # 1. 1,000 new articles (~30k sentences) on the 1M index: file appears -> answered
    python -m bench.live_at_scale answerable                  # BM25 only (NEWSBOT_SEMANTIC=off)
    python -m bench.live_at_scale answerable --semantic       # with vectors (a copy of semantic-1m)
    # 2. BM25 question latency while the index changes under the server
    python -m bench.live_at_scale during-rebuild --change append    # 1,000 articles appended
    python -m bench.live_at_scale during-rebuild --change compact   # 30% removed: a full merge
    python -m bench.live_at_scale during-rebuild --change full      # newsbot index --full
    # 3. 30 questions/s for 10 minutes while a loopback feed publishes 10 articles a minute
    nohup python -m bench.live_at_scale sustained > bench/out/live-sustained.txt 2>&1 &

1 runs the real `newsbot run` (`bench.bot_load.start_bot`) against the loopback fake Bot API
with `NEWSBOT_REFRESH=60` (its floor), over two sources: the 1M corpus file and a folder. A JSONL
file of new articles is renamed into the folder (the moment "the feed was fetched") and a
probe asks about one of them through the bot every `--probe-every` seconds until answered. The
split comes from the bot's log (its refresher's "sources changed" and its newsroom's "rebuilt
the index" lines) and from watching the bot's child processes (the rebuild's start and exit).

2 holds a `bot.newsroom.Newsroom` (the bot's own) over a copy of the 1M BM25 index in this
process, times `NewsIndex.ask(..., lexical_only=True)` and the kernel `bm25.top_k` at a steady
rate on one thread, first quiet, then while `Newsroom.rebuild` runs (child process on both cores,
then the new generation's load in a worker thread of this process), then quiet again. The change
is an append of 1,000 articles, a compaction (30% of the articles gone from the source: every
segment merged into one without them), or a full rebuild.

3 runs `newsbot run` over the 100k corpus plus one loopback RSS feed (`tests.test_refresh.Wire`
on the fake's event loop), plays 30 questions/s with `bench.question_load`'s machinery, publishes
10 articles a minute into the feed, and probes each published article (a fresh chat each probe)
until the bot answers it.

Times are `time.monotonic()`; the bot log's wall-clock stamps are converted to it. Every figure
is printed with the 1-minute load average (the machine is shared). Outputs go to
bench/out/live-*.md; working folders are bench/out/live-*/ (the shared indexes are only read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.live_answerable import answerable
from bench.live_bot import CORPUS_100K, load1
from bench.live_during import during_rebuild
from bench.live_sustained import sustained


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("answerable", help="1,000 new articles on the 1M index")
    one.add_argument("--semantic", action="store_true", help="with sentence vectors")
    one.add_argument("--trials", type=int, default=3)
    one.add_argument("--articles", type=int, default=1000)
    one.add_argument("--sentences", type=int, default=30, help="per article")
    one.add_argument("--probe-every", type=float, default=0.5, help="seconds")
    one.add_argument("--timeout", type=float, default=900.0, help="seconds per trial")
    one.add_argument("--seed", type=int, default=12)
    one.set_defaults(handler=answerable)
    two = commands.add_parser("during-rebuild", help="BM25 latency while the rebuild runs")
    two.add_argument("--rate", type=float, default=20.0, help="questions per second")
    two.add_argument("--quiet", type=float, default=30.0, help="seconds before and after")
    two.add_argument("--change", choices=["append", "compact", "full"], default="append")
    two.set_defaults(handler=during_rebuild)
    three = commands.add_parser("sustained", help="questions at a rate while a feed publishes")
    three.add_argument("--corpus", type=Path, default=CORPUS_100K)
    three.add_argument("--rate", type=float, default=30.0)
    three.add_argument("--seconds", type=float, default=600.0)
    three.add_argument("--users", type=int, default=600)
    three.add_argument("--per-minute", type=float, default=10.0, help="articles published")
    three.add_argument("--probe-every", type=float, default=2.0, help="seconds")
    three.add_argument("--answer-timeout", type=float, default=180.0, help="after the load")
    three.add_argument("--grace", type=float, default=60.0, help="seconds to wait for replies")
    three.set_defaults(handler=sustained)
    args = parser.parse_args(argv)
    print(f"load average 1 min at start: {load1():.2f}", flush=True)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
