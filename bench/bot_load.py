"""Questions at a sustained rate through the real bot and the loopback Bot API: latency, losses.

Issue #4 ("through the bot") and issue #5 ("reindex under load"). The bot runs as `newsbot run`
in its own process, exactly as deployed, against the fake Bot API of `tests/fake_telegram.py`
(in a thread of this process), with the index given by --index-dir (built first when missing).
This process plays the users: `--rate` questions a second for `--seconds`, round-robin over
`--users` distinct private chats (enough that no user trips the bot's per-user flood guard).
With `--reindex`, an admin sends /reindex after `--warmup` seconds and the load goes on until the
rebuild has been reported (and at least `--seconds`).

Times, all `time.monotonic()` (one clock for every process on Linux):
    queued     the fake server queued the user's message (what Telegram does when it arrives)
    delivered  the fake server returned the getUpdates response that carried the update
    replied    the fake server received the sendMessage request that was accepted (HTTP 200)
               as the reply: the k-th accepted sendMessage to a chat answers its k-th question
               (the bot keeps replies in order within a chat)
Reply latency = replied - delivered: from the update reaching the bot to the bot issuing
sendMessage, plus two loopback hops. End-to-end = replied - queued, long-poll pick-up included.
A question is lost when no reply came `--grace` seconds after the load ended; a reply failed
when Telegram refused it or it is the bot's apology for an error.

    python -m bench.bot_load --index-dir bench/out/index-1m         # the issue #4 figures
    python -m bench.bot_load --index-dir /tmp/nb-load --reindex SOURCE...   # issue #5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bot_load.py` as well as `python -m bench.bot_load`
    sys.path.insert(0, str(ROOT))

from bench.question_load import Load, ask_at_rate, latency_row, stamp_deliveries, wait_for_replies  # noqa: E402
from tests.fake_telegram import FakeTelegram, FakeTelegramThread  # noqa: E402

OUT = ROOT / "bench" / "out"
ADMIN = 1001
FALLBACK_QUESTIONS = (
    "How much was trade between China and Russia in 2025?",
    "What did Putin and Xi discuss?",
    "What did Trump say to Xi Jinping?",
    "Which initiatives did China promote for global stability?",
)


# -- the bench: a `newsbot run` process against the fake -------------------------------------


def read_questions(path: Path | None) -> list[str]:
    """Questions from a questions.jsonl ({"question": ...} per line), else a few seed ones."""
    if path is None or not path.is_file():
        return list(FALLBACK_QUESTIONS)
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


def default_corpus() -> tuple[Path, str]:
    """The largest bench corpus made by `bench.corpus`, else the seeds; and a note on which."""
    for size in ("1m", "100k"):
        articles = OUT / f"corpus-{size}" / "articles.jsonl"
        if articles.is_file():
            note = "" if size == "1m" else "corpus-1m not found: fell back to corpus-100k"
            return articles, note
    return ROOT / "seeds", "no bench corpus found (run `python -m bench.corpus`): seeds only"


def ensure_index(index_dir: Path, corpus: Path) -> str:
    """Build `index_dir` from `corpus` with `newsbot index` when it holds no index; say what."""
    if (index_dir / "CURRENT").is_file():
        return f"existing index {index_dir}"
    started = time.monotonic()
    command = [sys.executable, "-m", "bot.cli", "index", "--json", "--index-dir", str(index_dir)]
    done = subprocess.run(
        [*command, str(corpus)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"bot_load: building the index failed: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return (
        f"built {index_dir} from {corpus}: {report['sentences']:,} sentences in "
        f"{time.monotonic() - started:.0f} s"
    )


def start_bot(
    fake: FakeTelegramThread,
    index_dir: Path,
    sources: Sequence[str],
    log: Path,
    settings: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `newsbot run` against the fake, logging to `log`; return the process.

    `settings` adds environment variables (e.g. NEWSBOT_REFRESH, NEWSBOT_SEMANTIC); the caller's
    own NEWSBOT_* and TELEGRAM_* variables are never passed on.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "NEWSBOT_API_URL": fake.base_url,
        "NEWSBOT_ADMIN_IDS": str(ADMIN),
        "NEWSBOT_SOURCES": ",".join(sources),
        "NEWSBOT_INDEX_DIR": str(index_dir),
        **(settings or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def resident_mb(pid: int) -> str:
    """Resident memory of process `pid`, in MB, when psutil is installed; on Linux, its split.

    RSS counts anonymous memory and the file-backed pages the process has mapped (clean ones
    are shared with the page cache and reclaimable, but counted all the same).
    """
    try:
        import psutil
    except ImportError:
        return "unknown (no psutil)"
    total = f"{psutil.Process(pid).memory_info().rss / 2**20:.0f} MB"
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return total
    kb = {line.split(":")[0]: line.split()[1] for line in lines if line.startswith("Rss")}
    return (
        f"{total} (anonymous {int(kb['RssAnon']) / 1024:.0f}, "
        f"file-backed {int(kb['RssFile']) / 1024:.0f})"
    )


class ResidentPeak:
    """The largest resident set of a process, sampled every `interval` seconds in a thread.

    Use as a context manager around the load; `peak_mb` is 0 without psutil.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-peak", daemon=True)

    def __enter__(self) -> ResidentPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            process = psutil.Process(self.pid)
            while not self._stop.is_set():
                self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
                self._stop.wait(self.interval)
        except psutil.Error:  # the bot exited
            return


@dataclass
class Rebuild:
    """When the admin's /reindex was sent and when its outcome was reported."""

    sent: float = 0.0
    reported: float = 0.0
    outcome: str = ""


async def reindex_after(server: FakeTelegram, rebuild: Rebuild, warmup: float) -> None:
    """Send /reindex as the admin after `warmup` seconds; wait for the summary edit."""
    await asyncio.sleep(warmup)
    rebuild.sent = time.monotonic()
    await server.send_text(ADMIN, "/reindex")

    def reported() -> str:
        for call in server.calls_to("editMessageText"):
            text = str(call.params.get("text", ""))
            if call.status == 200 and ("rebuilt" in text or "failed" in text):
                return text
        return ""

    rebuild.outcome = await server.wait_until(reported, timeout=3600, what="the rebuild report")
    rebuild.reported = time.monotonic()


async def run_load(
    server: FakeTelegram,
    questions: Sequence[str],
    args: argparse.Namespace,
    rebuild: Rebuild | None,
    bot: subprocess.Popen[bytes],
) -> Load:
    """Wait for the bot to poll, run the load (and the rebuild), wait for replies."""
    while not server.calls_to("getUpdates"):
        if bot.poll() is not None:
            raise SystemExit(f"bot_load: newsbot run exited with status {bot.returncode}")
        with contextlib.suppress(AssertionError):
            await server.wait_until(lambda: server.calls_to("getUpdates"), timeout=1.0)
    load = Load()
    stamp_deliveries(server, load)
    tasks = []
    if rebuild is not None:
        tasks.append(asyncio.ensure_future(reindex_after(server, rebuild, args.warmup)))
    await ask_at_rate(
        server,
        load,
        questions,
        rate=args.rate,
        seconds=args.seconds,
        users=args.users,
        keep_going=lambda: rebuild is not None and not rebuild.reported,
    )
    await asyncio.gather(*tasks)
    await wait_for_replies(server, load, args.grace)
    return load


def report(load: Load, args: argparse.Namespace, notes: list[str], rebuild: Rebuild | None) -> str:
    """The results as a markdown snippet."""
    span = load.ended - load.started
    lines = [
        f"Command: `python -m bench.bot_load {' '.join(sys.argv[1:])}`",
        "",
        *[f"- {note}" for note in notes],
        f"- sent {len(load.asked):,} questions in {span:.1f} s ({len(load.asked) / span:.1f}/s) "
        f"from {min(args.users, len(load.asked)):,} users",
        f"- lost replies: {len(load.lost)}; failed replies: {len(load.failed)}",
        "",
        "| questions | n | reply latency ms p50 / p99 / max | end-to-end ms p50 / p99 / max |",
        "|---|---|---|---|",
        latency_row("all", load.asked),
    ]
    if rebuild is not None and rebuild.reported:
        during = [a for a in load.asked if rebuild.sent <= a.queued <= rebuild.reported]
        outside = [a for a in load.asked if not rebuild.sent <= a.queued <= rebuild.reported]
        lines += [latency_row("during the rebuild", during), latency_row("outside it", outside)]
        lines.insert(
            3,
            f"- rebuild: {rebuild.reported - rebuild.sent:.1f} s from /reindex to its report: "
            f"{rebuild.outcome.splitlines()[0]}",
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=OUT / "index-1m")
    parser.add_argument("--corpus", type=Path, help="articles to build from (default: largest)")
    parser.add_argument("--questions", type=Path, help="questions.jsonl (default: the corpus')")
    parser.add_argument("--rate", type=float, default=30.0, help="questions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--grace", type=float, default=30.0, help="seconds to wait for replies")
    parser.add_argument("--reindex", nargs="+", metavar="SOURCE", help="sources to /reindex from")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before /reindex")
    parser.add_argument("--out", type=Path, default=OUT / "bot_load.md")
    args = parser.parse_args(argv)

    notes: list[str] = []
    corpus, note = (args.corpus, "") if args.corpus else default_corpus()
    if note:
        notes.append(note)
    notes.append(ensure_index(args.index_dir, corpus))
    questions_file = args.questions or corpus.parent / "questions.jsonl"
    questions = read_questions(questions_file if corpus.is_file() or args.questions else None)
    notes.append(f"{len(questions):,} distinct questions, cycled")
    sources = args.reindex or [str(corpus)]
    rebuild = Rebuild() if args.reindex else None

    OUT.mkdir(parents=True, exist_ok=True)
    log = args.out.with_suffix(".log")
    with FakeTelegramThread() as fake:
        fake.server.add_chat(ADMIN)
        bot = start_bot(fake, args.index_dir, sources, log)
        try:
            with ResidentPeak(bot.pid) as peak:
                load = fake.run(run_load(fake.server, questions, args, rebuild, bot), timeout=None)
            notes.append(f"bot process RSS after the load: {resident_mb(bot.pid)}")
            notes.append(f"bot process peak RSS during the load: {peak.peak_mb:.0f} MB")
        finally:
            bot.terminate()
            bot.wait(timeout=60)
    leaked = fake.token in log.read_text() or fake.token.split(":")[1] in log.read_text()
    notes.append(f"bot log: {log} (token in it: {'YES' if leaked else 'no'})")
    text = report(load, args, notes, rebuild)
    args.out.write_text(text)
    print(text)
    return 1 if load.lost or load.failed or leaked else 0


if __name__ == "__main__":
    sys.exit(main())
