"""kill -9 of the bot during updates with followers: no standing question and no alert lost.

Issue #22's last target row. The bot runs as `newsbot run` in its own process (as deployed)
against the fake Bot API (`tests/fake_telegram`, a thread of this process), its one source a
loopback RSS feed (`serve_feed`, `tests.test_refresh.Wire`), sentence vectors off
(`NEWSBOT_SEMANTIC=off`: BM25 alone, for speed), the hourly cap lifted. `USERS` follow the
`TOPICS` questions through the fake; then each round publishes one new article per topic (each
alerts that topic's followers: its own story, as its figures differ from every other's) and
`OFF_TOPIC` articles that alert no one, an admin sends /reindex, and the bot is killed with
SIGKILL (the bot process alone: its build child lives on, as after a real `kill -9`) at a
seeded random moment, then started again. Telegram answers each sendMessage `--send-delay`
seconds after taking it (`execute_first`), as the real API does, so an alert can be delivered
and the bot killed before it hears so.

A calibration round without a kill, before the first, times /reindex to the round's last alert;
`--kill-at random` kills at a uniform moment of 1.2 times that window (during the build, the
matching or the sending), `--kill-at sending` once the round's first alert is pending in the
state file (the in-flight case, every time). After the last round the bot is started once more,
an admin sends /reindex, and the bench waits for the alerts.

Verdicts: a standing question is lost when the state file or the user's /following no longer
shows it; an alert is lost when a (follower, article) pair expected never arrived; a duplicate
is explained when the alert was pending in the state file at a kill (recorded, maybe delivered,
not yet marked sent) at least as many times as it arrived twice. Exit 1 on a loss or an
unexplained duplicate. The news, the followers and the books are `bench.follow_ledger`'s.

    python -m bench.follow_kills                  # 20 kills (docs/follow.md)
    python -m bench.follow_kills --kills 3        # quick
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/follow_kills.py` as well as `-m bench.follow_kills`
    sys.path.insert(0, str(ROOT))

from bench.follow_ledger import (  # noqa: E402
    OFF_TOPIC,
    TOPICS,
    USERS,
    Kill,
    Published,
    Run,
    alerts_delivered,
    owed,
    pending_at,
    seen_count,
    standing_in,
)
from bench.live_articles import marker  # noqa: E402
from tests.fake_telegram import FakeTelegram, FakeTelegramThread  # noqa: E402
from tests.test_refresh import Wire  # noqa: E402

ADMIN = 1001


# -- the bot process ----------------------------------------------------------------------------


@dataclass
class BotProcess:
    """`newsbot run` started, killed and started again with one environment."""

    env: dict[str, str]
    cwd: Path
    telegram: FakeTelegram
    log: Path
    process: subprocess.Popen[bytes] | None = None
    children: list[int] = field(default_factory=list)  # build children left by kills

    def start(self) -> None:
        """Start the bot and wait until it long-polls (index loaded, pending alerts sent off)."""
        polls = len(self.telegram.calls_to("getUpdates"))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait(lambda: len(self.telegram.calls_to("getUpdates")) > polls, 120, "the bot to poll")

    def kill(self) -> None:
        """SIGKILL the bot process alone, and wait for it to be gone."""
        import psutil

        assert self.process is not None
        with contextlib.suppress(psutil.Error):
            self.children += [c.pid for c in psutil.Process(self.process.pid).children()]
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the bot (SIGTERM), and the build children kills left running."""
        from bench.live_bot import stop_bot

        if self.process is not None and self.process.poll() is None:
            stop_bot(self.process)
        for pid in self.children:  # a build child a kill left running, if still running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` every 20 ms; exit the bench when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"follow_kills: timed out waiting for {what}")
        time.sleep(0.02)


async def serve_feed() -> tuple[Wire, web.AppRunner]:
    """Start a loopback RSS feed in the running loop (the fake Bot API's); return its runner."""
    wire = Wire()
    app = web.Application()
    app.router.add_get("/wire.xml", wire.feed)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    wire.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return wire, runner


# -- the rounds ---------------------------------------------------------------------------------


def publish_round(wire: Wire, run: Run) -> list[Published]:
    """Publish one article per topic and the off-topic ones; return them."""
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    new: list[Published] = []
    for topic, template in [(t.key, t.template) for t in TOPICS] + [(None, o) for o in OFF_TOPIC]:
        n = len(run.articles) + len(new) + 1
        word = marker(n)
        # Figures of its own: a story quoting other numbers is another story (index.follow.stories)
        text = template.format(m=word, a=1000 + 37 * n, b=500 + 53 * n)
        wire.publish(f"{word} report {n}", text, now)
        new.append(Published(word, topic))
    run.articles += new
    return new


def reindex(telegram: FakeTelegram, fake: FakeTelegramThread) -> float:
    """Send /reindex as the admin; return when (monotonic)."""
    fake.run(telegram.send_text(ADMIN, "/reindex"))
    return time.monotonic()


def calibrate(bot: BotProcess, fake: FakeTelegramThread, wire: Wire, run: Run) -> float:
    """A round without a kill: seconds from /reindex to the round's last alert."""
    due = owed(publish_round(wire, run))
    asked = reindex(bot.telegram, fake)
    wait(lambda: due <= set(alerts_delivered(bot.telegram)), 120, "the calibration alerts")
    return time.monotonic() - asked


def kill_round(
    bot: BotProcess,
    fake: FakeTelegramThread,
    wire: Wire,
    run: Run,
    when: Callable[[set[tuple[int, str]]], None],
) -> Kill:
    """Publish, /reindex, kill when `when` returns, note the state file, start again."""
    db = Path(bot.env["NEWSBOT_STATE_DB"])
    seen = seen_count(db)
    due = owed(publish_round(wire, run))
    before = alerts_delivered(bot.telegram)
    asked = reindex(bot.telegram, fake)
    when(due)
    after = time.monotonic() - asked
    bot.kill()
    delivered = sum(n for k, n in alerts_delivered(bot.telegram).items() if k not in before)
    kill = Kill(after, seen_count(db) > seen, pending_at(db), delivered)
    bot.start()
    return kill


def random_moment(rng: random.Random, window: float) -> Callable[[set[tuple[int, str]]], None]:
    """Wait a uniform moment of `window` seconds."""
    return lambda _due: time.sleep(rng.uniform(0.0, window))


def while_sending(
    rng: random.Random, db: Path, telegram: FakeTelegram
) -> Callable[[set[tuple[int, str]]], None]:
    """Wait until one of the round's alerts is pending, then up to 0.3 s more (in flight)."""

    def moment(due: set[tuple[int, str]]) -> None:
        wait(lambda: pending_at(db) & due, 120, "a pending alert of the round")
        time.sleep(rng.uniform(0.0, 0.3))

    return moment


def settle(bot: BotProcess, fake: FakeTelegramThread, run: Run) -> None:
    """After the last kill: /reindex once more, wait for every alert owed, then for strays."""
    reindex(bot.telegram, fake)
    deadline = time.monotonic() + 120
    while not run.expected() <= set(alerts_delivered(bot.telegram)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(2.0)  # time for a duplicate, were one sent
    run.delivered = alerts_delivered(bot.telegram)


def check_questions(bot: BotProcess, fake: FakeTelegramThread, run: Run) -> None:
    """Compare the state file and each user's /following with what they followed."""
    db = Path(bot.env["NEWSBOT_STATE_DB"])
    followed = {(u, t.question) for u, keys in USERS.items() for t in TOPICS if t.key in keys}
    run.lost_questions += [f"{u}: {q} (state file)" for u, q in sorted(followed - standing_in(db))]
    telegram = bot.telegram
    for user, keys in USERS.items():
        count = len(telegram.chats[user].bot_messages)
        fake.run(telegram.send_text(user, "/following"))
        fake.run(telegram.wait_for_messages(user, count + 1, timeout=30), timeout=40)
        listed = telegram.chats[user].bot_messages[count].text or ""
        run.lost_questions += [
            f"{user}: {t.question} (/following)"
            for t in TOPICS
            if t.key in keys and t.question not in listed
        ]


def follow_all(bot: BotProcess, fake: FakeTelegramThread) -> None:
    """Each user follows their topics' questions, waiting for each confirmation."""
    telegram = bot.telegram
    for user, keys in USERS.items():
        telegram.add_chat(user)
        for n, topic in enumerate(t for t in TOPICS if t.key in keys):
            fake.run(telegram.send_text(user, f"/follow {topic.question}"))
            fake.run(telegram.wait_for_messages(user, n + 1, timeout=30), timeout=40)


def bot_env(folder: Path, telegram: FakeTelegramThread, feed: str) -> dict[str, str]:
    """The bot's environment: the fake Bot API, the loopback feed, no refresh, no vectors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    return env | {
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "NEWSBOT_API_URL": telegram.base_url,
        "NEWSBOT_ADMIN_IDS": str(ADMIN),
        "NEWSBOT_SOURCES": feed,
        "NEWSBOT_INDEX_DIR": str(folder / "index"),
        "NEWSBOT_STATE_DB": str(folder / "state.sqlite3"),
        "NEWSBOT_REFRESH": "off",
        "NEWSBOT_SEMANTIC": "off",
        "NEWSBOT_ALERTS_PER_HOUR": "1000",
    }


def run_kills(args: argparse.Namespace, folder: Path) -> Run:
    """The whole run in `folder`: start, follow, calibrate, `--kills` rounds, settle, check."""
    run, rng = Run(), random.Random(args.seed)
    started = time.monotonic()
    with FakeTelegramThread() as fake:
        telegram = fake.server
        telegram.add_chat(ADMIN)
        wire, feed = fake.run(serve_feed())
        wire.publish(
            "Council passes the budget",
            "The council passed the library budget.",
            "Mon, 09 Feb 2026 08:00:00 GMT",
        )
        env = bot_env(folder, fake, wire.url)
        bot = BotProcess(env, folder, telegram, folder / "bot.log")
        try:
            bot.start()  # builds the index; its articles are no one's news
            follow_all(bot, fake)
            telegram.delay(args.send_delay, "sendMessage", execute_first=True)
            run.window = calibrate(bot, fake, wire, run)
            db = Path(env["NEWSBOT_STATE_DB"])
            if args.kill_at == "sending":
                moment = while_sending(rng, db, telegram)
            else:
                moment = random_moment(rng, 1.2 * run.window)
            for n in range(args.kills):
                run.kills.append(kill_round(bot, fake, wire, run, moment))
                print(f"kill {n + 1}: {run.kills[-1]}", file=sys.stderr)
            settle(bot, fake, run)
            check_questions(bot, fake, run)
        finally:
            bot.stop()
            fake.run(feed.cleanup())
    run.seconds = time.monotonic() - started
    return run


def report(args: argparse.Namespace, run: Run) -> str:
    """The Markdown table of a run."""
    matched = sum(k.matched for k in run.kills)
    with_pending = sum(bool(k.pending) for k in run.kills)
    lost = run.lost()
    rows = [
        ("kills (SIGKILL of the bot process)", f"{len(run.kills)}"),
        ("kill moment", f"{args.kill_at}, seed {args.seed}, round {run.window:.1f} s unkilled"),
        ("kills before the round was matched", f"{len(run.kills) - matched}"),
        ("kills with alerts pending (recorded, not marked sent)", f"{with_pending}"),
        ("alerts pending at the kills", f"{sum(len(k.pending) for k in run.kills)}"),
        ("articles published (on topic / off)", _published(run)),
        ("standing questions followed / lost", f"{_followed()} / {len(run.lost_questions)}"),
        (
            "alerts owed / delivered at least once",
            f"{len(run.expected())} / {len(run.expected()) - len(lost)}",
        ),
        ("alerts lost", f"{len(lost)}"),
        (
            "duplicates / of alerts not pending at a kill",
            f"{run.duplicates()} / {len(run.unexplained())}",
        ),
        ("alerts nothing owed", f"{len(run.unexpected())}"),
        ("run time", f"{run.seconds:.0f} s"),
    ]
    lines = ["| what | figure |", "|---|---|", *(f"| {w} | {f} |" for w, f in rows)]
    for what, items in (("lost", lost), ("unexplained duplicate", run.unexplained())):
        lines += [f"{what}: user {u}, article {m}" for u, m in items]
    return "\n".join(lines + [f"lost question: {q}" for q in run.lost_questions])


def _published(run: Run) -> str:
    on = sum(a.topic is not None for a in run.articles)
    return f"{on} / {len(run.articles) - on}"


def _followed() -> int:
    return sum(len(keys) for keys in USERS.values())


def failed(run: Run) -> bool:
    """Whether the run lost a question or an alert, or sent a duplicate no kill explains."""
    return bool(run.lost_questions or run.lost() or run.unexplained())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The bench's flags."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="rounds with a kill (default 20)")
    parser.add_argument("--seed", type=int, default=22, help="seed of the kill moments")
    parser.add_argument("--kill-at", choices=("random", "sending"), default="random")
    parser.add_argument(
        "--send-delay", type=float, default=0.15, help="seconds Telegram takes per sendMessage"
    )
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (bot.log)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench, print its table; 1 on a loss."""
    args = parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run = run_kills(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="follow-kills-") as folder:
            run = run_kills(args, Path(folder))
    print(report(args, run))
    return 1 if failed(run) else 0


if __name__ == "__main__":
    sys.exit(main())
