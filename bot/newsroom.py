"""The index the bot serves: searched off the event loop, rebuilt in a child process, swapped in.

Rebuilding runs `newsbot index --json` as a separate process: it uses both cores without holding
this process's GIL (answers keep flowing), a crash in it cannot take the bot down, and the index
folder's atomic generations (see `index.store.generations`) mean the old index serves until the new
one is complete. The new index is then loaded (memory-mapped, milliseconds) and swapped in with one
assignment; searches already running finish on the old one, which then closes its files (memory
maps, descriptors): it holds no reference cycle (`index.caches`), so reference counting frees it
when its last question lets go of it. No explicit close: a thread still reading the old generation
would race it (docs/reliability.md, "Leaks and bounds").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from index.answers.policy import MIN_COVERAGE
from index.answers.search import NewsIndex
from index.config import semantic_enabled
from index.model import Findings
from index.scale.cluster import load_index
from index.scale.ray_connect import ClusterError
from index.scale.sharded import ShardsUnavailable
from index.store.build_report import BuildReport
from index.store.generations import IndexMissingError, StoreError

# Seconds a stopped bot gives a running rebuild to exit on SIGTERM before killing it.
STOP_GRACE = 5.0
# The build child's niceness: on a machine of few cores, questions come first (docs/live.md).
BUILD_NICENESS = 10
# Seconds a build child may run before it is killed (`NEWSBOT_BUILD_TIMEOUT`): an update of
# 1,000 articles takes seconds (docs/live.md), and the embedding alone of a full build of 1M
# sentences is estimated at 1.6 h (docs/semantic.md), so 2 h stops a build that hangs.
DEFAULT_BUILD_TIMEOUT = 7200.0
BUILD_TIMED_OUT = "the build ran past its limit of {limit} and was stopped"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """How a rebuild ended.

    Attributes:
        ok: Whether the build succeeded (its index, or the unchanged one, is now serving).
        summary: One line: counts and seconds, or why it failed.
        skipped: "file:line: reason" for each item that could not be read.
        seconds: Wall time.
        committed: Whether the build committed a new generation (false: nothing changed, and
            the serving index, its "More" and /sources buttons stay as they were).
        failed_sources: The sources the build could not read (their articles were kept).
        timed_out: Whether the build ran past its limit and was killed.
    """

    ok: bool
    summary: str
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0
    committed: bool = True
    failed_sources: tuple[str, ...] = ()
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class BuildJob:
    """What a build child is asked to do; equal jobs waiting in the queue are done once.

    Attributes:
        full: Index everything again (`--full`: /reindex, a damaged index); else an update.
        remove: Sources to remove with their articles (`--remove`); the others are read as
            by an update.
    """

    full: bool = False
    remove: tuple[str, ...] = ()


# How a requested build was taken: started now, joined the same job running now, or queued
# to start when the running one ends.
Taken = Literal["now", "joined", "queued"]


class RebuildRunningError(Exception):
    """A rebuild is already running."""


class Newsroom:
    """Holds the current `NewsIndex` and rebuilds it on demand."""

    def __init__(
        self,
        sources: Sequence[str],
        index_dir: Path,
        *,
        semantic: bool | None = None,
        timezone: tzinfo = UTC,
        build_timeout: float = DEFAULT_BUILD_TIMEOUT,
        polled_feeds: bool = True,
    ) -> None:
        """Serve `index_dir`, built from `sources`.

        Args:
            sources: What a rebuild reads.
            index_dir: The index folder.
            semantic: Whether to load sentence vectors and the model; None: `NEWSBOT_SEMANTIC`
                (`index.config.semantic_enabled`).
            timezone: The zone questions about time are read in ("yesterday").
            build_timeout: Seconds a build child may run before it is killed.
            polled_feeds: Whether a poller (`bot.refresh`) fetches the feeds into the spool, so
                a build reads them there; False (no scheduled refresh): a build fetches them.
        """
        self.sources = tuple(sources)
        self.index_dir = index_dir
        self.timezone = timezone
        self.build_timeout = build_timeout
        self.polled_feeds = polled_feeds
        self.semantic = semantic_enabled() if semantic is None else semantic
        self.index: NewsIndex | None = None
        # The last refresh: when the sources were last found to match the index (a build's
        # end, or a scheduled check that found nothing new). None when nothing is loaded.
        self.refreshed_at: datetime | None = None
        self._task: asyncio.Task[RebuildResult] | None = None
        self._job = BuildJob()  # the job of `_task`
        # Builds asked for while one ran, in order; each starts when the one before it ends.
        self._queue: list[tuple[BuildJob, asyncio.Future[RebuildResult]]] = []
        self._stopped = False
        # The child process of the rebuild running now, if any.
        self.build_process: asyncio.subprocess.Process | None = None
        # Called with each generation swapped in by a rebuild (`bot.alerts` matches its news).
        self.swap_listeners: list[Callable[[NewsIndex], None]] = []

    @property
    def generation(self) -> str:
        """Name of the serving generation ('' when nothing is loaded)."""
        return self.index.folder.name if self.index else ""

    @property
    def rebuilding(self) -> bool:
        """Whether a rebuild is running."""
        return self._task is not None and not self._task.done()

    @property
    def running_rebuild(self) -> asyncio.Task[RebuildResult] | None:
        """The rebuild running now, if any (whoever started it)."""
        return self._task if self.rebuilding else None

    async def open(self) -> None:
        """Load the index; build it first when there is none. Failures are logged, not raised."""
        try:
            self.index = await asyncio.to_thread(
                _load_warm, self.index_dir, self.semantic, self.timezone
            )
            self.refreshed_at = _created(self.index)
            return
        except IndexMissingError:
            log.info("no index in %s yet; building it from %s", self.index_dir, self.sources)
        except StoreError as exc:
            log.warning("cannot load the index (%s); rebuilding it", exc)
        result = await self.rebuild()
        if not result.ok:
            log.error("could not build the index: %s", result.summary)

    async def ask(
        self, question: str, k: int, offset: int = 0, *, min_coverage: float = MIN_COVERAGE
    ) -> Findings:
        """Answer from the current index in a worker thread; nothing when no index is loaded.

        `min_coverage` is `NewsIndex.ask`'s floor: below the product's, weak matches too.
        """
        index = self.index
        if index is None:
            return Findings((), min_coverage)
        now = datetime.now(self.timezone)
        return await asyncio.to_thread(
            index.ask, question, k, offset=offset, min_coverage=min_coverage, now=now
        )

    def matcher(self, question: str) -> Callable[[str], bool]:
        """Return a predicate: does a word of a passage match one of `question`'s terms?"""
        index = self.index
        if index is None:
            return lambda word: False
        wanted = set(index.analyze(question).known)
        analyzer = index.analyzer
        return lambda word: any(term in wanted for term in analyzer.terms(word))

    async def stop_rebuild(self, grace: float = STOP_GRACE) -> None:
        """Stop a running rebuild's child processes (SIGTERM, then SIGKILL after `grace` s).

        A stopped bot leaves no build behind holding the index's lock, and starts none of the
        queued ones; the last committed generation stays current (builds are crash-safe), and
        the next start sees the change.
        """
        self._stopped = True
        for _, queued in self._queue:
            queued.cancel()
        self._queue.clear()
        process = self.build_process
        if process is None or process.returncode is not None:
            return
        log.info("stopping the running rebuild (pid %d)", process.pid)
        _signal_group(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            _signal_group(process, signal.SIGKILL)
            await process.wait()

    async def rebuild(self, *, full: bool = True) -> RebuildResult:
        """Build a new index in a child process, swap it in, and return how it went.

        Raises:
            RebuildRunningError: Another rebuild has not finished.
        """
        return await self.start_rebuild(full=full)

    def start_rebuild(self, *, full: bool = True) -> asyncio.Task[RebuildResult]:
        """Start a rebuild now and return its task; claims the rebuild before any await.

        With `full` false, only what changed since the serving generation is indexed (the
        scheduled refresh); `/reindex` and a damaged index rebuild everything.

        Raises:
            RebuildRunningError: Another rebuild has not finished.
        """
        if self.rebuilding:
            raise RebuildRunningError
        return self._start(BuildJob(full=full))

    def request(
        self, job: BuildJob, *, join: bool = True
    ) -> tuple[asyncio.Future[RebuildResult], Taken]:
        """Start `job` now, or when the builds before it have ended; return its outcome.

        Args:
            job: What to build.
            join: Whether an equal job running now does (an admin's second /reindex); false
                when the running one started too early to see what asks for this one (a
                change found by the refresh during an update).

        Returns:
            The build's result to come, and how it was taken. An equal job already waiting
            in the queue is the same build.
        """
        if not self.rebuilding and not self._queue:
            return self._start(job), "now"
        if join and self.rebuilding and self._job == job:
            assert self._task is not None
            return self._task, "joined"
        for queued_job, queued in self._queue:
            if queued_job == job:
                return queued, "queued"
        waiting: asyncio.Future[RebuildResult] = asyncio.get_running_loop().create_future()
        self._queue.append((job, waiting))
        return waiting, "queued"

    def _start(self, job: BuildJob) -> asyncio.Task[RebuildResult]:
        """Run `job` now; when it ends, start the next queued job."""
        self._job = job
        self._task = asyncio.get_running_loop().create_task(self._run_build(job))
        self._task.add_done_callback(self._next)
        return self._task

    def _next(self, _: asyncio.Task[RebuildResult]) -> None:
        """Start the first queued job, its outcome passed on to those waiting for it."""
        while self._queue and not self._stopped:
            job, waiting = self._queue.pop(0)
            if waiting.cancelled():
                continue
            self._start(job).add_done_callback(functools.partial(_pass_on, out=waiting))
            return

    async def _run_build(self, job: BuildJob) -> RebuildResult:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *self.build_command(job),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            # Its own process group: a build that runs past its limit is killed with the
            # analysis and embedding workers it started.
            start_new_session=True,
        )
        self.build_process = process
        _lower_priority(process.pid)
        try:
            out, err = await asyncio.wait_for(process.communicate(), self.build_timeout)
        except TimeoutError:
            return await self._timed_out(process, time.perf_counter() - started)
        finally:
            self.build_process = None
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {process.returncode}"
            reason = reason.removeprefix("newsbot: error: ")
            log.error("rebuild failed after %.1f s: %s", seconds, reason)
            failed = _report_json(out).get("failed_sources", [])
            return RebuildResult(
                False, reason, seconds=seconds, failed_sources=tuple(map(str, failed or ()))
            )
        return await self._swap(_report_json(out), seconds)

    def build_command(self, job: BuildJob) -> list[str]:
        """Return the build child's command line: `newsbot index --json` for `job`."""
        # --spooled: the poller has fetched the feeds into the spool; the child reads them there.
        # Without a poller (NEWSBOT_REFRESH=off) nothing else fetches them: the child does.
        command = [sys.executable, "-m", "bot.cli", "index", "--json"]
        command += ["--spooled"] * self.polled_feeds + ["--index-dir", str(self.index_dir)]
        # The sources read are named (the index remembers those it is not told of, and keeps
        # their articles: sources no longer configured wait for an admin's removal).
        removals = [f"--remove={source}" for source in job.remove]
        return command + removals + ["--full"] * job.full + ["--", *self.sources]

    async def _swap(self, data: dict[str, Any], seconds: float) -> RebuildResult:
        """Load the generation a build committed and serve it; keep serving when none was."""
        report = BuildReport.from_json(data)
        if report.committed:
            try:
                self.index = await asyncio.to_thread(
                    _load_warm, self.index_dir, self.semantic, self.timezone
                )
            except StoreError as exc:
                return RebuildResult(False, f"the new index does not load: {exc}", seconds=seconds)
            for listener in list(self.swap_listeners):
                listener(self.index)
        self.refreshed_at = datetime.now(UTC)
        summary = report.summary()
        # "rebuilt the index: " is what bench/live_at_scale.py finds in the log.
        log.info("%s: %s", "rebuilt the index" if report.committed else "unchanged", summary)
        skipped = tuple(map(str, report.skipped))
        return RebuildResult(
            True, summary, skipped, seconds, report.committed, report.failed_sources
        )

    async def _timed_out(
        self, process: asyncio.subprocess.Process, seconds: float
    ) -> RebuildResult:
        """Kill a build past its limit, with its process group, and say so."""
        _signal_group(process, signal.SIGKILL)
        await process.wait()
        reason = BUILD_TIMED_OUT.format(limit=duration_text(self.build_timeout))
        log.error("rebuild stopped after %.1f s: %s", seconds, reason)
        return RebuildResult(False, reason, seconds=seconds, timed_out=True)


def duration_text(seconds: float) -> str:
    """Return '2 h', '10 min', '45 s'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _pass_on(task: asyncio.Task[RebuildResult], out: asyncio.Future[RebuildResult]) -> None:
    """Give a queued build's waiters the outcome of the task that ran it."""
    if out.done():
        return
    if task.cancelled():
        out.cancel()
    elif (error := task.exception()) is not None:
        out.set_exception(error)
    else:
        out.set_result(task.result())


def _report_json(out: bytes) -> dict[str, Any]:
    """Return the JSON object a build child printed last on stdout ({} when there is none)."""
    lines = out.decode("utf-8", "replace").strip().splitlines()
    with contextlib.suppress(ValueError):
        data = json.loads(lines[-1]) if lines else {}
        return data if isinstance(data, dict) else {}
    return {}


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    """Send `signum` to a build child's process group (the child and its workers)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # already gone
        pass
    except PermissionError:  # not our group after all: the child alone
        process.send_signal(signum)


def _lower_priority(pid: int) -> None:
    """Make the build child `BUILD_NICENESS` nicer than the bot (its workers inherit it)."""
    try:
        niceness = min(os.getpriority(os.PRIO_PROCESS, 0) + BUILD_NICENESS, 19)
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except (OSError, AttributeError):  # gone already, or a platform without priorities
        log.debug("cannot lower the build's priority", exc_info=True)


def _load_warm(index_dir: Path, semantic: bool, zone: tzinfo) -> NewsIndex:
    """Load an index and warm it (`NewsIndex.warm`), so the first user never waits.

    With `NEWSBOT_RAY_ADDRESS`, its shards on the cluster: every replica loads the generation
    before it is returned to be swapped in (`index.scale.cluster`'s two-phase switch).
    """
    try:
        index: NewsIndex = load_index(index_dir, semantic=semantic)
    except (ClusterError, ShardsUnavailable) as exc:
        raise StoreError(f"the cluster cannot serve the index: {exc}") from None
    index.warm(zone)
    return index


def _created(index: NewsIndex) -> datetime | None:
    """Return when a generation was built (its header's `created`), or None if unreadable."""
    try:
        created = datetime.strptime(str(index.header.get("created")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return created.replace(tzinfo=UTC)
