"""The bot process of the live benches: its index, its log, its rebuild children, its chats.

`build_untimed` builds an index with `newsbot index`, `copy_serving` and `graft_vectors` prepare
one from the shared bench indexes, `stop_bot` stops `newsbot run` and its rebuild child;
`log_events` reads the bot's log on the monotonic clock, `ChildWatch` times its `newsbot index`
children; `Prober` asks through the fake Bot API from fresh chats and `replied` reads the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.bot_load import OUT, ROOT
from tests.fake_telegram import FakeTelegram

CORPUS_1M = (OUT / "corpus-1m" / "articles.jsonl").resolve()
CORPUS_100K = (OUT / "corpus-100k" / "articles.jsonl").resolve()
PROBE_CHAT = 50_000_000  # probes ask from chats above this, a fresh one each time
# NEWSBOT_REFRESH's smallest value (index.sources.feedpoll.RefreshPolicy.floor)
REFRESH_FLOOR = "60"
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ ([\w.]+): (.*)$")


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def build_untimed(index_dir: Path, sources: Sequence[str], settings: dict[str, str]) -> str:
    """Build `index_dir` from `sources` with `newsbot index` (not part of any figure)."""
    started = time.monotonic()
    command = [sys.executable, "-m", "bot.cli", "index", "--json", "--full"]
    command += ["--index-dir", str(index_dir)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | settings
    done = subprocess.run(
        [*command, "--", *sources], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"live_at_scale: building the index failed: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return (
        f"built {index_dir} ({report['articles']:,} articles, {report['sentences']:,} sentences) "
        f"in {time.monotonic() - started:.0f} s, not timed"
    )


def graft_vectors(source: Path, index_dir: Path) -> str:
    """Put the vectors of `source`'s generation into `index_dir`'s (same corpus, same rows).

    The shared semantic-1m index is of an older format and its vectors carry no content keys
    (`bench.semantic_speed` made most of them), so no build can reuse them: they are copied
    into a copy of the current index-1m, whose header is written afresh.
    """
    from index.store import layout

    take = source / (source / "CURRENT").read_text().strip()
    into = index_dir / (index_dir / "CURRENT").read_text().strip()
    for name in ("vector_codes", "vector_scales", "vector_signs", "vector_keys"):
        shutil.copyfile(layout.array_path(take, name), layout.array_path(into, name))
    header = json.loads((into / layout.HEADER).read_text())
    header["vectors"] = json.loads((take / layout.HEADER).read_text())["vectors"]
    header["files"] = layout.describe_files(into)
    (into / layout.HEADER).write_text(json.dumps(header, indent=1))
    return f"index: a copy of {OUT / 'index-1m'} with the vectors of {source} (1M rows) grafted"


def copy_serving(index_dir: Path, to: Path) -> None:
    """Copy the serving generation of a shared index (its CURRENT and that folder only)."""
    generation = (index_dir / "CURRENT").read_text().strip()
    to.mkdir(parents=True)
    shutil.copytree(index_dir / generation, to / generation)
    shutil.copy2(index_dir / "CURRENT", to / "CURRENT")


def indexed_corpus(index_dir: Path) -> Path:
    """The 1M corpus spelled as the copied index's manifest spells it (else `CORPUS_1M`).

    The refresher compares paths with the manifest's: another spelling of the same file would
    look like a new source and rebuild at start-up.
    """
    with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
        generation = (index_dir / "CURRENT").read_text().strip()
        header = json.loads((index_dir / generation / "index.json").read_text())
        spelled = Path(header["manifest"][0]["path"])
        if spelled.is_file() and os.path.samefile(spelled, CORPUS_1M):
            return spelled
    return CORPUS_1M


def stop_bot(bot: subprocess.Popen[bytes]) -> None:
    """Stop `newsbot run` and a rebuild child it may have running.

    The bot stops its running rebuild itself (`Newsroom.stop_rebuild`); the children are
    stopped here too so that a bench of an older checkout leaves none holding the index's lock.
    """
    import psutil

    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(bot.pid).children():
            child.terminate()
    bot.terminate()
    try:
        bot.wait(timeout=30)
    except subprocess.TimeoutExpired:
        bot.kill()
        bot.wait(timeout=30)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One line of the bot's log: when (monotonic), which logger, what."""

    at: float
    logger: str
    message: str


def log_events(log: Path, logger: str, prefix: str, after: float = 0.0) -> list[LogEvent]:
    """The log lines of `logger` starting with `prefix`, stamped after `after` (monotonic)."""
    offset = time.time() - time.monotonic()
    events = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _LOG_LINE.match(line)
        if match is None or match[2] != logger or not match[3].startswith(prefix):
            continue
        wall = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if wall - offset >= after:
            events.append(LogEvent(wall - offset, match[2], match[3]))
    return events


def rebuild_seconds(summary: str) -> str:
    """The build's own seconds from a 'rebuilt the index: ...' line ('?' when absent)."""
    found = re.findall(r"([\d.]+) s\b", summary)
    return found[-1] if found else "?"


class ChildWatch:
    """Start and exit times (monotonic) of a process's `newsbot index` children, polled.

    Both are when a poll first saw the change (`interval` late at most): psutil's
    `create_time` counts from a boot time rounded to the second, up to a second off.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.spans: dict[int, list[float]] = {}  # child pid -> [start, last seen alive]
        self.ended: dict[int, float] = {}  # child pid -> first time seen gone
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="child-watch", daemon=True)

    def __enter__(self) -> ChildWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def first_after(self, moment: float) -> tuple[float, float | None] | None:
        """(start, exit) of the first rebuild child started after `moment`, if any."""
        starts = sorted((s[0], pid) for pid, s in self.spans.items() if s[0] >= moment)
        if not starts:
            return None
        start, pid = starts[0]
        return start, self.ended.get(pid)

    def _watch(self) -> None:
        import psutil

        parent = psutil.Process(self.pid)
        while not self._stop.is_set():
            now = time.monotonic()
            alive = set()
            with contextlib.suppress(psutil.Error):
                for child in parent.children():
                    with contextlib.suppress(psutil.Error):
                        if child.pid not in self.spans and "index" in child.cmdline():
                            self.spans[child.pid] = [now, now]
                    alive.add(child.pid)
            for pid, span in self.spans.items():
                if pid in alive:
                    span[1] = now
                elif pid not in self.ended:
                    self.ended[pid] = now
            self._stop.wait(self.interval)


# -- asking through the fake Bot API -----------------------------------------------------------


def reply_time(server: FakeTelegram, chat: int) -> float | None:
    """When the server accepted the bot's latest message to `chat` (monotonic), if any."""
    for call in reversed(server.calls):
        if call.method == "sendMessage" and call.status == 200 and call.params["chat_id"] == chat:
            return call.received_at
    return None


def replied(server: FakeTelegram, chat: int) -> str | None:
    """The text of the bot's first message in `chat`, if it sent one."""
    found = server.chats.get(chat)
    messages = found.bot_messages if found else []
    return (messages[0].text or "") if messages else None


async def wait_for_polling(server: FakeTelegram, bot: subprocess.Popen[bytes]) -> None:
    """Wait until the bot long-polls the fake (its index loaded, its refresher started)."""
    while not server.calls_to("getUpdates"):
        if bot.poll() is not None:
            raise SystemExit(f"live_at_scale: newsbot run exited with status {bot.returncode}")
        await asyncio.sleep(0.2)


@dataclass
class Prober:
    """Asks questions from fresh chats, so the bot's per-user flood guard never holds one."""

    server: FakeTelegram
    next_chat: int = PROBE_CHAT
    lost: int = 0

    async def ask(self, question: str) -> int:
        """Send `question` from a new chat; return the chat."""
        chat, self.next_chat = self.next_chat, self.next_chat + 1
        await self.server.send_text(chat, question)
        return chat

    async def ask_and_wait(self, question: str, timeout: float = 30.0) -> tuple[int, str]:
        """Ask and wait for the reply; return the chat and the reply ('' when none came)."""
        chat = await self.ask(question)
        with contextlib.suppress(AssertionError):
            await self.server.wait_until(lambda: replied(self.server, chat), timeout, "a reply")
        text = replied(self.server, chat)
        if text is None:
            self.lost += 1
        return chat, text or ""
