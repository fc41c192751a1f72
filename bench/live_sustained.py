"""`python -m bench.live_at_scale sustained`: questions at a rate while a feed publishes.

`newsbot run` over the 100k corpus plus one loopback RSS feed (`StampedWire`);
`bench.question_load`'s load at `--rate` questions/s beside `publish_and_probe`, which publishes
articles into the feed and probes each (a fresh chat each probe) until the bot answers it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bench.bot_load import OUT, read_questions, start_bot
from bench.live_articles import answers_about, marker, question_about
from bench.live_bot import (
    REFRESH_FLOOR,
    LogEvent,
    Prober,
    build_untimed,
    load1,
    log_events,
    rebuild_seconds,
    replied,
    reply_time,
    stop_bot,
    wait_for_polling,
)
from bench.question_load import Load, ask_at_rate, latency_row, stamp_deliveries, wait_for_replies
from tests.fake_telegram import FakeTelegram, FakeTelegramThread
from tests.test_refresh import Wire


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
