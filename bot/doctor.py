"""`newsbot doctor`: check what a deployment needs, one line each, before the bot runs for good.

Each check prints `ok` or `FAIL`, what it checked and what it found; the exit status is 0 when
every check passed and 1 when any failed. The checks read the same settings as `newsbot run`
(the environment and a `.env` file), each on its own, so that one bad setting does not hide the
others: the token (one getMe against `NEWSBOT_API_URL`), the index folder (a file created and
removed in it), the current generation (loaded and verified as the bot loads it), every source (a
file or folder readable, a feed answering within the feed poller's time and size limits), the
sentence encoder, the time zone, and the free disk space against the index's size. The token is
never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from bot import logs
from bot.settings import API_URL_ENV, TELEGRAM_API_URL, TOKEN_ENV, Settings
from index.config import default_index_dir, default_sources, is_url, semantic_enabled
from index.store.generations import StoreError, current_generation

EXIT_HEALTHY = 0
EXIT_FAILED = 1


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's outcome: passed or not, what was checked, and what was found."""

    ok: bool
    check: str
    detail: str

    def line(self) -> str:
        """Render as `ok    token: ...` or `FAIL  token: ...`."""
        return f"{'ok' if self.ok else 'FAIL':<4}  {self.check}: {self.detail}"


def add_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `doctor` subcommand."""
    doctor = commands.add_parser(
        "doctor",
        help="check what running the bot needs",
        description="Check what running the bot needs, one line each (ok/FAIL): the token "
        "(getMe), the index folder writable, the current index loadable, every source "
        "readable, the sentence encoder, NEWSBOT_TIMEZONE, and the free disk space. Settings "
        "come from the environment and a .env file, as for `newsbot run`. Exit status 0 when "
        "every check passed, 1 when one failed.",
    )
    doctor.add_argument("--index-dir", default=None, metavar="DIR", help="index folder")
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    """Run every check, print one line each; return 0 when all passed, else 1."""
    from dotenv import load_dotenv

    load_dotenv(override=False)
    env = os.environ
    index_dir = Path(args.index_dir).expanduser() if args.index_dir else default_index_dir(env)
    logs.protect(env.get(TOKEN_ENV, "").strip())
    failed = False
    for finding in examine(env, index_dir):
        print(logs.redact(finding.line()), flush=True)
        failed |= not finding.ok
    return EXIT_FAILED if failed else EXIT_HEALTHY


def examine(env: Mapping[str, str], index_dir: Path) -> Iterator[Finding]:
    """Yield each check's finding as it is made, in the order they are printed."""
    yield check_token(env)
    yield check_folder(index_dir)
    yield check_index(index_dir, semantic=semantic_enabled(env))
    yield from check_sources(default_sources(env))
    yield check_model(semantic=semantic_enabled(env))
    yield check_timezone(env)
    yield check_disk(index_dir)


def check_token(env: Mapping[str, str]) -> Finding:
    """Ask the Bot API who the bot is (one getMe), as `newsbot run` does before it starts."""
    from bot.app import _startup_error

    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        return Finding(False, "token", f"{TOKEN_ENV} is not set; get a token from @BotFather")
    settings = Settings(token=token, api_url=env.get(API_URL_ENV, "").strip() or TELEGRAM_API_URL)

    async def get_me() -> str:
        async with Bot(settings.token, base_url=settings.api_url) as bot:  # entering calls getMe
            return bot.username

    try:
        username = asyncio.run(get_me())
    except TelegramError as exc:
        return Finding(False, "token", str(_startup_error(exc, settings)))
    return Finding(True, "token", f"accepted by the Bot API at {settings.api_url} as @{username}")


def check_folder(index_dir: Path) -> Finding:
    """Create and remove a file in the index folder (or, before the first build, its parent).

    A file is made rather than permissions read: root passes every permission check, and a
    read-only or immutable file system fails only the write.
    """
    folder = _nearest_existing(index_dir)
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(False, "index folder", f"cannot write in {folder} ({exc.strerror})")
    where = "" if folder == index_dir else f"; it will be created in {folder}"
    return Finding(True, "index folder", f"{index_dir} is writable{where}")


def check_index(index_dir: Path, *, semantic: bool) -> Finding:
    """Load the current generation as the bot does: every file's size and checksum verified."""
    from index.answers.search import NewsIndex

    try:
        index = NewsIndex.load(index_dir, semantic=semantic)
    except StoreError as exc:
        return Finding(False, "index", str(exc))
    return Finding(
        True,
        "index",
        f"{index.folder.name} loads ({index.n_articles:,} articles, "
        f"{index.n_sentences:,} sentences)",
    )


def check_sources(sources: list[str]) -> list[Finding]:
    """Check each source: a path readable (a folder listable too), a feed answering 200."""
    feeds = [source for source in sources if is_url(source)]
    answers = dict(zip(feeds, asyncio.run(_fetch_feeds(feeds)), strict=True)) if feeds else {}
    findings = []
    for source in sources:
        if source not in answers:
            findings.append(_check_path(source))
        elif (reason := answers[source]) is not None:
            findings.append(Finding(False, "source", f"{source}: {reason}"))
        else:
            findings.append(Finding(True, "source", f"{source}: the feed answers"))
    return findings


async def _fetch_feeds(urls: list[str]) -> list[str | None]:
    """Fetch each feed once, within the poller's limits; None for a feed that answered."""
    from index.sources.feedpoll import feed_client, fetch_feed
    from index.sources.feedschedule import FeedError

    async def fetch(client: Any, url: str) -> str | None:
        try:
            await fetch_feed(client, url)
        except FeedError as exc:
            return exc.reason
        return None

    async with feed_client(len(urls)) as client:
        return list(await asyncio.gather(*(fetch(client, url) for url in urls)))


def _check_path(source: str) -> Finding:
    """A file must be readable, a folder readable and listable."""
    path = Path(source).expanduser()
    if not path.exists():
        return Finding(False, "source", f"{source}: not found")
    try:
        if path.is_dir():
            next(path.iterdir(), None)
        else:
            with path.open("rb") as file:
                file.read(1)
    except OSError as exc:
        return Finding(False, "source", f"{source}: cannot read ({exc.strerror})")
    kind = "folder" if path.is_dir() else "file"
    return Finding(True, "source", f"{source}: a readable {kind}")


def check_model(*, semantic: bool) -> Finding:
    """Open the sentence encoder (its files checked against their pinned hashes)."""
    from index.config import SEMANTIC_ENV

    if not semantic:
        return Finding(True, "model", f"not needed: {SEMANTIC_ENV} turns the semantic layer off")
    from index.semantic.embedding import MINILM_INT8, SentenceEncoder

    try:
        SentenceEncoder.open(MINILM_INT8)
    # Whatever onnxruntime raises on a file it cannot read: its native errors share no type.
    except Exception as exc:
        return Finding(False, "model", f"the sentence encoder does not load ({exc})")
    return Finding(True, "model", f"the sentence encoder loads ({MINILM_INT8.weights.package})")


def check_timezone(env: Mapping[str, str]) -> Finding:
    """Read `NEWSBOT_TIMEZONE` as the bot does."""
    from index.text.timeframe import timezone_from_env

    try:
        zone = timezone_from_env(env)
    except ValueError as exc:
        return Finding(False, "time zone", f"{exc}; use an IANA name such as Europe/Berlin")
    return Finding(True, "time zone", str(zone))


def check_disk(index_dir: Path) -> Finding:
    """Free space must hold one more generation: a rebuild writes it before the old one goes."""
    free = shutil.disk_usage(_nearest_existing(index_dir)).free
    try:
        generation = current_generation(index_dir)
    except StoreError:
        return Finding(True, "disk space", f"{_size(free)} free (no index yet)")
    size = sum(p.stat().st_size for p in generation.rglob("*") if p.is_file())
    found = f"{_size(free)} free, the current generation takes {_size(size)}"
    if free < size:
        return Finding(False, "disk space", f"{found}: a rebuild needs as much again")
    return Finding(True, "disk space", found)


def _nearest_existing(folder: Path) -> Path:
    """Return `folder`, or the nearest folder above it that exists (where it would be made)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _size(n_bytes: int) -> str:
    """Bytes in MB (or GB above 10 GB), as people read disk space."""
    return f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 10e9 else f"{n_bytes / 1e6:,.1f} MB"
