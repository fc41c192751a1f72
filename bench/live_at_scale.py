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
on the fake's event loop), plays 30 questions/s with `bench.bot_load`'s machinery, publishes 10
articles a minute into the feed, and probes each published article (a fresh chat each probe)
until the bot answers it.

Times are `time.monotonic()`; the bot log's wall-clock stamps are converted to it. Every figure
is printed with the 1-minute load average (the machine is shared). Outputs go to
bench/out/live-*.md; working folders are bench/out/live-*/ (the shared indexes are only read).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from bench.bot_load import (
    OUT,
    ROOT,
    Load,
    ask_at_rate,
    latency_row,
    percentile,
    read_questions,
    stamp_deliveries,
    start_bot,
    wait_for_replies,
)
from tests.fake_telegram import FakeTelegram, FakeTelegramThread
from tests.test_refresh import Wire

CORPUS_1M = (OUT / "corpus-1m" / "articles.jsonl").resolve()
CORPUS_100K = (OUT / "corpus-100k" / "articles.jsonl").resolve()
PROBE_CHAT = 50_000_000  # probes ask from chats above this, a fresh one each time
REFRESH_FLOOR = "60"  # NEWSBOT_REFRESH's least (index.sources.feedschedule.RefreshPolicy.floor)
_LETTERS = "bdfgkmprtvz"  # marker words: 'kel' + 4 of these + 'ox', one analyzed term each
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ ([\w.]+): (.*)$")


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


# -- new articles ----------------------------------------------------------------------------


def marker(n: int) -> str:
    """Article `n`'s marker word, capitalized: 'Kel' + 4 letters + 'ox', unique per `n`."""
    digits = "".join(_LETTERS[n // len(_LETTERS) ** p % len(_LETTERS)] for p in range(4))
    return f"Kel{digits}ox"


def question_about(n: int) -> str:
    """A question that only article `n` answers."""
    return f"What does the {marker(n)} desk report?"


def answers_about(n: int, reply: str) -> bool:
    """Whether a reply quotes article `n` (its text, not the question the reply repeats)."""
    return f"{marker(n)} desk reports".lower() in reply.lower()


def corpus_sentences(corpus: Path, skip: int) -> Iterator[str]:
    """Sentences of the corpus' articles from line `skip` on, 6+ words, as the build splits them.

    The newswire text is hard-wrapped: it is unwrapped first (`index.sources.formats.text.paragraphs`).
    """
    from index.sources.formats.text import paragraphs
    from index.text.sentences import split_sentences

    with corpus.open(encoding="utf-8") as lines:
        for line in itertools.islice(lines, skip, None):
            for sentence in split_sentences(paragraphs(json.loads(line)["text"])):
                if len(sentence.split()) >= 6:
                    yield " ".join(sentence.split())


def new_articles(corpus: Path, first: int, count: int, per_article: int) -> list[dict[str, str]]:
    """`count` articles of `per_article` sentences, one a paragraph, each naming its marker.

    The sentences are the corpus' own, each prefixed with "The <marker> desk reports:", so every
    one is new text (none is in the index, none has a vector to reuse).
    """
    sentences = corpus_sentences(corpus, skip=7 * first)
    day = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    articles = []
    for n in range(first, first + count):
        word = marker(n)
        body = [f"The {word} desk reports: {s}" for s in itertools.islice(sentences, per_article)]
        title = f"{word} desk: {body[0].split(': ', 1)[1][:60]}"
        articles.append({"id": f"live-{n}", "title": title, "text": "\n\n".join(body), "date": day})
    return articles


def without_some(corpus: Path, to: Path, keep: float) -> Path:
    """Write the first `keep` of every ten articles of `corpus` into `to` (the rest removed)."""
    kept = round(10 * keep)
    with corpus.open(encoding="utf-8") as lines, to.open("w", encoding="utf-8") as out:
        for n, line in enumerate(lines):
            if n % 10 < kept:
                out.write(line)
    return to


def drop_file(folder: Path, name: str, articles: Sequence[dict[str, str]]) -> float:
    """Write `articles` as JSONL into `folder/name` atomically; return when it appeared."""
    hidden = folder / f".{name}.part"  # hidden files are not sources (index.sources.watch)
    with hidden.open("w", encoding="utf-8") as out:
        for article in articles:
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.rename(hidden, folder / name)
    return time.monotonic()


# -- the bot process: building its index, its log, its rebuild children -----------------------


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


# -- 1. new articles on the 1M index: appeared -> answered -------------------------------------


@dataclass
class Arrival:
    """One file of new articles, from appearing to answered, with the parts in between."""

    appeared: float
    answered: float | None = None
    checked: float | None = None  # the refresher logged "sources changed"
    child: tuple[float, float | None] | None = None  # the rebuild child's start, exit
    swapped: float | None = None  # the newsroom logged "rebuilt the index"
    summary: str = ""
    probes: int = 0
    load: float = 0.0


async def probe_until_answered(
    prober: Prober, n: int, every: float, timeout: float, arrival: Arrival
) -> None:
    """Ask about article `n` every `every` seconds until a reply names its marker."""
    while time.monotonic() - arrival.appeared < timeout:
        started = time.monotonic()
        chat, text = await prober.ask_and_wait(question_about(n))
        arrival.probes += 1
        if answers_about(n, text):
            arrival.answered = reply_time(prober.server, chat)
            return
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


def explain(arrival: Arrival, log: Path, watch: ChildWatch) -> None:
    """Fill in the parts of an arrival from the bot's log and its children."""
    after = arrival.appeared
    checks = log_events(log, "bot.refresh", "sources changed", after)
    rebuilt = log_events(log, "bot.newsroom", "rebuilt the index", after)
    arrival.checked = checks[0].at if checks else None
    arrival.swapped = rebuilt[0].at if rebuilt else None
    arrival.summary = rebuilt[0].message if rebuilt else ""
    arrival.child = watch.first_after(after - 0.05)


def arrival_row(trial: int, a: Arrival) -> str:
    """One Markdown row: total and its parts in seconds, the load average."""

    def span(start: float | None, end: float | None) -> str:
        return f"{end - start:.1f}" if start is not None and end is not None else "?"

    child_start, child_end = a.child or (None, None)
    return (
        f"| {trial} | {span(a.appeared, a.answered)} | {span(a.appeared, a.checked)} | "
        f"{span(child_start, child_end)} ({rebuild_seconds(a.summary)} in the build) | "
        f"{span(child_end, a.swapped)} | {span(a.swapped, a.answered)} | {a.probes} | "
        f"{a.load:.2f} |"
    )


def answerable(args: argparse.Namespace) -> int:
    """Measure 1: new articles in a source folder beside the 1M corpus, until answered."""
    work = OUT / ("live-sem-1m" if args.semantic else "live-1m")
    sources_dir, index_dir = work / "sources", work / "index"
    shutil.rmtree(sources_dir, ignore_errors=True)
    sources_dir.mkdir(parents=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    if args.semantic:  # 1.6 h to embed 1M sentences: the shared index's vectors, grafted
        copy_serving(OUT / "index-1m", index_dir)
    corpus = indexed_corpus(index_dir)
    sources = [str(corpus), str(sources_dir)]
    settings = {
        "NEWSBOT_REFRESH": REFRESH_FLOOR,
        "NEWSBOT_SEMANTIC": "on" if args.semantic else "off",
    }
    notes = [f"sources: {corpus} and the folder {sources_dir} (empty at start)"]
    if args.semantic:
        notes.append(graft_vectors(OUT / "semantic-1m", index_dir))
    else:
        notes.append(build_untimed(index_dir, sources, settings))
    rng = random.Random(args.seed)
    rows = []
    log = OUT / f"{work.name}.log"
    with FakeTelegramThread() as fake:
        bot = start_bot(fake, index_dir, sources, log, settings)
        try:
            fake.run(wait_for_polling(fake.server, bot), timeout=None)
            prober = Prober(fake.server)
            fake.run(prober.ask_and_wait("What does the Kelbbbbox desk report?", 120), None)
            for trial in range(1, args.trials + 1):
                time.sleep(rng.uniform(0, float(REFRESH_FLOOR)))  # any phase of the schedule
                first = trial * args.articles
                articles = new_articles(CORPUS_1M, first, args.articles, args.sentences)
                with ChildWatch(bot.pid) as watch:
                    arrival = Arrival(drop_file(sources_dir, f"new-{trial}.jsonl", articles))
                    probe = probe_until_answered(
                        prober, first + args.articles // 2, args.probe_every, args.timeout, arrival
                    )
                    fake.run(probe, timeout=None)
                    arrival.load = load1()
                    time.sleep(0.5)  # the log line of the swap is written before the reply
                explain(arrival, log, watch)
                rows.append(arrival_row(trial, arrival))
                print(rows[-1], "|", arrival.summary, flush=True)
        finally:
            stop_bot(bot)
    kind = "with sentence vectors" if args.semantic else "BM25 only (NEWSBOT_SEMANTIC=off)"
    text = "\n".join(
        [
            f"Command: `python -m bench.live_at_scale {' '.join(sys.argv[1:])}`",
            "",
            f"- {kind}; `newsbot run` with NEWSBOT_REFRESH={REFRESH_FLOOR}; a change is an "
            "update (`newsbot index`: the new articles appended as a segment)",
            *[f"- {note}" for note in notes],
            f"- each trial: {args.articles:,} new articles of {args.sentences} sentences in one "
            f"new JSONL file, after a random wait of 0-{REFRESH_FLOOR} s; probe every "
            f"{args.probe_every} s; probes lost: {prober.lost}",
            "",
            "| trial | appeared -> answered s | waiting for the poll s | update child s | "
            "swap/load s | first answer s | probes | load avg 1 min |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    (OUT / f"{work.name}.md").write_text(text + "\n")
    print(text)
    return 0


# -- 2. BM25 latency while the rebuild runs ---------------------------------------------------


@dataclass
class Timings:
    """Milliseconds of each `ask` and `top_k` in one phase, and the load average after it."""

    ask: list[float] = field(default_factory=list)
    top_k: list[float] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # when each question was asked (monotonic)
    load: float = 0.0
    seconds: float = 0.0

    def between(self, start: float, end: float) -> Timings:
        """The questions asked from `start` to `end` (monotonic); the same load average."""
        kept = [n for n, at in enumerate(self.at) if start <= at < end]
        return Timings(
            [self.ask[n] for n in kept],
            [self.top_k[n] for n in kept],
            [self.at[n] for n in kept],
            self.load,
            end - start,
        )


def time_questions(
    news: Callable[[], object], questions: Sequence[str], rate: float, until: Callable[[], bool]
) -> Timings:
    """Time `ask(lexical_only=True)` and `bm25.top_k` at `rate` questions/s until `until()`."""
    from index.answers.search import NewsIndex

    timings = Timings()
    started = time.monotonic()
    for n, question in enumerate(itertools.cycle(questions)):
        if until():
            break
        pause = started + n / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        index = news()
        assert isinstance(index, NewsIndex)
        terms = index.analyze(question).known
        timings.at.append(time.monotonic())
        t0 = time.perf_counter()
        index.ask(question, 3, lexical_only=True)
        t1 = time.perf_counter()
        index.bm25.top_k(terms, 10)
        t2 = time.perf_counter()
        timings.ask.append(1000 * (t1 - t0))
        timings.top_k.append(1000 * (t2 - t1))
    timings.seconds = time.monotonic() - started
    timings.load = load1()
    return timings


def timing_row(phase: str, t: Timings) -> str:
    """One Markdown row: p50 / p99 / max of ask and top_k, count, seconds, load."""

    def ms(values: list[float]) -> str:
        return " / ".join(
            f"{v:.2f}"
            for v in (
                percentile(values, 0.5),
                percentile(values, 0.99),
                max(values, default=math.nan),
            )
        )

    return (
        f"| {phase} | {len(t.ask):,} | {t.seconds:.1f} | {ms(t.ask)} | {ms(t.top_k)} | "
        f"{t.load:.2f} |"
    )


def during_rebuild(args: argparse.Namespace) -> int:
    """Measure 2: BM25 latency quiet, during `Newsroom.rebuild` of the 1M index, quiet again."""
    os.environ["NEWSBOT_SEMANTIC"] = "off"  # the rebuild child builds without vectors
    from bot.newsroom import Newsroom

    work = OUT / "live-during"
    index_dir, folder = work / "index", work / "sources"
    for old in (index_dir, folder):
        shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True)
    sources = [str(CORPUS_1M), str(folder)]
    notes = [f"index: a copy of {OUT / 'index-1m'} (BM25 only)"]
    if args.change == "compact":  # the corpus under a path of its own, then 30% of it removed
        corpus = work / "corpus.jsonl"
        shutil.copyfile(CORPUS_1M, corpus)
        sources = [str(corpus)]
        notes = [build_untimed(index_dir, sources, {"NEWSBOT_SEMANTIC": "off"})]
        without_some(CORPUS_1M, corpus, keep=0.7)
        # 30% of the articles leaving their file is this measure's point, not a mistake to refuse
        # (NEWSBOT_MAX_REMOVAL, 20% by default: docs/live.md).
        os.environ["NEWSBOT_MAX_REMOVAL"] = "100%"
    else:
        copy_serving(OUT / "index-1m", index_dir)
        sources[0] = str(indexed_corpus(index_dir))
    newsroom = Newsroom(sources, index_dir, semantic=False)
    questions = read_questions(CORPUS_1M.parent / "questions.jsonl")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="newsroom", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(newsroom.open(), loop).result()

    def index() -> object:  # whatever serves now: the rebuild swaps it
        return newsroom.index

    def for_seconds(seconds: float) -> Callable[[], bool]:
        end = time.monotonic() + seconds
        return lambda: time.monotonic() >= end

    time_questions(index, questions, args.rate, for_seconds(5))  # warm-up: JIT, page cache
    before = time_questions(index, questions, args.rate, for_seconds(args.quiet))
    generation = newsroom.generation
    if args.change == "append":
        drop_file(folder, "new.jsonl", new_articles(CORPUS_1M, 1000, 1000, 30))
    with ChildWatch(os.getpid()) as watch:
        asked = time.monotonic()
        full = args.change == "full"
        rebuild = asyncio.run_coroutine_threadsafe(newsroom.rebuild(full=full), loop)
        during = time_questions(index, questions, args.rate, rebuild.done)
        result = rebuild.result()
    child = watch.first_after(asked - 0.05)
    child_start, child_end = child if child else (asked, None)
    child_end = child_end or asked + during.seconds
    after = time_questions(index, questions, args.rate, for_seconds(args.quiet))
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    text = "\n".join(
        [
            f"Command: `python -m bench.live_at_scale {' '.join(sys.argv[1:])}`",
            "",
            *[f"- {note}" for note in notes],
            f"- served by `bot.newsroom.Newsroom` in this process; questions: "
            f"{len(questions)} from corpus-1m, cycled, {args.rate:g}/s on one thread",
            f"- the change ({args.change}): `Newsroom.rebuild(full={full})` = `newsbot index"
            f"{' --full' if full else ''}` over {', '.join(sources)} in a child process (both "
            f"cores), then the new generation loaded here and swapped in: {result.summary} "
            f"({result.seconds:.1f} s wall); generation {generation} -> {newsroom.generation}",
            "",
            "| phase | questions | s | ask(lexical_only) ms p50 / p99 / max | "
            "bm25.top_k ms p50 / p99 / max | load avg 1 min |",
            "|---|---|---|---|---|---|",
            timing_row("no rebuild (before)", before),
            timing_row("during the rebuild", during),
            timing_row("... its child process", during.between(child_start, child_end)),
            timing_row(
                "... then load + swap here", during.between(child_end, asked + during.seconds)
            ),
            timing_row("no rebuild (after)", after),
        ]
    )
    (OUT / "live-during.md").write_text(text + "\n")
    print(text)
    return 0


# -- 3. 30 questions/s for 10 minutes while a feed publishes ------------------------------------


@dataclass
class StampedWire(Wire):
    """`tests.test_refresh.Wire`, recording (monotonic, status, items served) per request."""

    fetches: list[tuple[float, int, int]] = field(default_factory=list)

    async def feed(self, request: web.Request) -> web.Response:
        response = await super().feed(request)
        self.fetches.append((time.monotonic(), response.status, len(self.items)))
        return response


async def serve_wire() -> StampedWire:
    """Start a `StampedWire` on 127.0.0.1 in the running loop (the fake Bot API's)."""
    wire = StampedWire()
    app = web.Application()
    app.router.add_get("/wire.xml", wire.feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    wire.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return wire


def publish_story(wire: Wire, n: int) -> None:
    """Add article `n` to the feed: three sentences naming its marker."""
    word = marker(n)
    wire.publish(
        f"{word} desk: ferry {n} back in service",
        f"The {word} desk reports that ferry number {n} is back in service after repairs. "
        f"Engineers at the {word} desk replaced its two engines in a week. "
        f"The {word} desk expects the timetable to be normal again by Monday.",
        datetime.now().strftime("%a, %d %b %Y %H:%M:%S +0000"),
    )


@dataclass
class Story:
    """One published article and when it could first be answered."""

    n: int
    published: float
    answered: float | None = None
    waiting: int | None = None  # the chat of the probe not yet answered
    asked_at: float = 0.0
    probes: int = 0


async def publish_and_probe(
    server: FakeTelegram, wire: StampedWire, args: argparse.Namespace, stories: list[Story]
) -> None:
    """Publish `--per-minute` articles a minute for `--seconds`; probe each until answered."""
    prober = Prober(server)
    started = time.monotonic()
    total = int(args.seconds * args.per_minute / 60)
    deadline = started + args.seconds + args.answer_timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        while len(stories) < total and started + len(stories) * 60 / args.per_minute <= now:
            n = 100 + len(stories)
            publish_story(wire, n)
            stories.append(Story(n, time.monotonic()))
        for story in stories:
            if story.answered is not None:
                continue
            if story.waiting is not None:
                text = replied(server, story.waiting)
                if text is None:
                    continue
                if answers_about(story.n, text):
                    story.answered = reply_time(server, story.waiting)
                    continue
                story.waiting = None
            if now - story.asked_at >= args.probe_every:
                story.waiting = await prober.ask(question_about(story.n))
                story.asked_at, story.probes = now, story.probes + 1
        if len(stories) == total and all(s.answered is not None for s in stories):
            return
        await asyncio.sleep(0.1)


async def sustained_run(
    server: FakeTelegram,
    wire: StampedWire,
    bot: subprocess.Popen[bytes],
    questions: Sequence[str],
    args: argparse.Namespace,
    loads: list[float],
) -> tuple[Load, list[Story]]:
    """The load and the publishing side by side, then every reply waited for."""
    await wait_for_polling(server, bot)
    load, stories = Load(), list[Story]()
    stamp_deliveries(server, load)

    async def sample_load() -> None:
        while True:
            loads.append(load1())
            await asyncio.sleep(10)

    sampler = asyncio.ensure_future(sample_load())
    await asyncio.gather(
        ask_at_rate(
            server, load, questions, rate=args.rate, seconds=args.seconds, users=args.users
        ),
        publish_and_probe(server, wire, args, stories),
    )
    sampler.cancel()
    await wait_for_replies(server, load, args.grace)
    return load, stories


def seconds_row(name: str, values: Sequence[float]) -> str:
    """One Markdown row: n, min / median / max seconds."""
    if not values:
        return f"| {name} | 0 | - |"
    return (
        f"| {name} | {len(values)} | {min(values):.1f} / {statistics.median(values):.1f} / "
        f"{max(values):.1f} |"
    )


def first_fetch(wire: StampedWire, story: Story, position: int) -> float | None:
    """When the feed was first served with the story in it (by the poll or the rebuild)."""
    for at, status, items in wire.fetches:
        if status == 200 and items > position and at >= story.published:
            return at
    return None


def sustained(args: argparse.Namespace) -> int:
    """Measure 3: `--rate` questions/s through the bot while the feed publishes."""
    work = OUT / "live-sustained"
    index_dir = work / "index"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = {"NEWSBOT_REFRESH": REFRESH_FLOOR, "NEWSBOT_SEMANTIC": "off"}
    questions = read_questions(args.corpus.parent / "questions.jsonl")
    loads: list[float] = []
    log = OUT / "live-sustained.log"
    with FakeTelegramThread() as fake:
        wire = fake.run(serve_wire())
        publish_story(wire, 0)  # the feed's first article, in the initial build
        sources = [str(args.corpus), wire.url]
        notes = [build_untimed(index_dir, sources, settings)]
        bot = start_bot(fake, index_dir, sources, log, settings)
        try:
            run = sustained_run(fake.server, wire, bot, questions, args, loads)
            load, stories = fake.run(run, timeout=None)
            notes.append(cpu_note(bot.pid, load.ended - load.started))
        finally:
            stop_bot(bot)
    rebuilt = log_events(log, "bot.newsroom", "rebuilt the index")
    changed = log_events(log, "bot.refresh", "sources changed")
    answered = [s for s in stories if s.answered is not None]
    published = [s.answered - s.published for s in answered if s.answered]
    fetched = []
    for position, story in enumerate(stories, start=1):  # position 0 is the initial article
        at = first_fetch(wire, story, position)
        if story.answered is not None and at is not None:
            fetched.append(story.answered - at)
    span = load.ended - load.started
    text = "\n".join(
        [
            f"Command: `python -m bench.live_at_scale {' '.join(sys.argv[1:])}`",
            "",
            f"- `newsbot run`, BM25 only (NEWSBOT_SEMANTIC=off), NEWSBOT_REFRESH={REFRESH_FLOOR}, "
            f"sources: {args.corpus} and one loopback RSS feed; a change is an update "
            "(`newsbot index`: appended as a segment)",
            *[f"- {note}" for note in notes],
            f"- load: {len(load.asked):,} questions in {span:.0f} s "
            f"({len(load.asked) / span:.1f}/s) from {args.users} users; "
            f"lost replies: {len(load.lost)}; failed replies: {len(load.failed)}",
            f"- feed: {len(stories)} articles published ({args.per_minute:g}/min); answered: "
            f"{len(answered)}; probes (extra questions, a fresh chat each, every "
            f"{args.probe_every:g} s per unanswered article): {sum(s.probes for s in stories)}",
            f"- rebuilds: {len(rebuilt)}; build seconds each (min / median / max): "
            + " / ".join(
                f"{v:.1f}"
                for v in _spread([float(rebuild_seconds(e.message)) for e in rebuilt] or [0.0])
            ),
            "- load average 1 min, sampled every 10 s (min / median / max): "
            + " / ".join(f"{v:.2f}" for v in _spread(loads or [0.0])),
            "",
            "| questions | n | reply latency ms p50 / p99 / max | end-to-end ms p50 / p99 / max |",
            "|---|---|---|---|",
            latency_row("all", load.asked),
            *minute_rows(load, changed),
            "",
            "| new article | n | s min / median / max |",
            "|---|---|---|",
            seconds_row("published -> answered", published),
            seconds_row("first fetch -> answered", fetched),
        ]
    )
    (OUT / "live-sustained.md").write_text(text + "\n")
    print(text)
    return 1 if load.lost or len(answered) < len(stories) else 0


def minute_rows(load: Load, changed: Sequence[LogEvent]) -> list[str]:
    """`latency_row`s minute by minute of the load, naming the rebuilds started in each."""
    rows = []
    for minute in range(int((load.ended - load.started) // 60 + 1)):
        start = load.started + 60 * minute
        asked = [a for a in load.asked if start <= a.queued < start + 60]
        rebuilds = sum(1 for e in changed if start <= e.at < start + 60)
        if asked:
            rows.append(latency_row(f"minute {minute + 1} ({rebuilds} rebuild)", asked))
    return rows


def cpu_note(pid: int, seconds: float) -> str:
    """CPU seconds of the bot process and of its finished children (the rebuilds)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    own, children = times.user + times.system, times.children_user + times.children_system
    return (
        f"CPU over the {seconds:.0f} s of load: bot process {own:.0f} s "
        f"({100 * own / seconds:.0f} % of one core), its rebuild children {children:.0f} s"
    )


def _spread(values: Sequence[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


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
