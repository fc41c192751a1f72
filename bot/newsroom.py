"""The index the bot serves: searched off the event loop, rebuilt in a child process, swapped in.

Rebuilding runs `newsbot index --json` as a separate process: it uses both cores without holding
this process's GIL (answers keep flowing), a crash in it cannot take the bot down, and the index
folder's atomic generations (see `index.store`) mean the old index serves until the new one is
complete. The new index is then loaded (memory-mapped, milliseconds) and swapped in with one
assignment; searches already running finish on the old one, which then closes its files (memory
maps, descriptors): it holds no reference cycle (`index.caches`), so reference counting frees it
when its last question lets go of it. No explicit close: a thread still reading the old
generation would race it (docs/reliability.md, "Leaks and bounds").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from index.build import BuildReport
from index.cluster import ClusterError, load_index
from index.config import semantic_enabled
from index.model import Findings
from index.search import MIN_COVERAGE, NewsIndex
from index.sharded import ShardsUnavailable
from index.store import IndexMissingError, StoreError

# Seconds a stopped bot gives a running rebuild to exit on SIGTERM before killing it.
STOP_GRACE = 5.0
# The build child's niceness: on a machine of few cores, questions come first (docs/live.md).
BUILD_NICENESS = 10
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """How a rebuild ended.

    Attributes:
        ok: Whether the new index is now serving.
        summary: One line: counts and seconds, or why it failed.
        skipped: "file:line: reason" for each item that could not be read.
        seconds: Wall time.
    """

    ok: bool
    summary: str
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0


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
    ) -> None:
        """Serve `index_dir`, built from `sources`.

        Args:
            sources: What a rebuild reads.
            index_dir: The index folder.
            semantic: Whether to load sentence vectors and the model; None: `NEWSBOT_SEMANTIC`
                (`index.config.semantic_enabled`).
            timezone: The zone questions about time are read in ("yesterday").
        """
        self.sources = tuple(sources)
        self.index_dir = index_dir
        self.timezone = timezone
        self.semantic = semantic_enabled() if semantic is None else semantic
        self.index: NewsIndex | None = None
        # The last refresh: when the sources were last found to match the index (a build's
        # end, or a scheduled check that found nothing new). None when nothing is loaded.
        self.refreshed_at: datetime | None = None
        self._task: asyncio.Task[RebuildResult] | None = None
        # The child process of the rebuild running now, if any.
        self.build_process: asyncio.subprocess.Process | None = None

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
        """Stop a running rebuild's child process (SIGTERM, then SIGKILL after `grace` s).

        A stopped bot leaves no build behind holding the index's lock; the last committed
        generation stays current (builds are crash-safe), and the next start sees the change.
        """
        process = self.build_process
        if process is None or process.returncode is not None:
            return
        log.info("stopping the running rebuild (pid %d)", process.pid)
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            process.kill()
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
        if self._task is not None and not self._task.done():
            raise RebuildRunningError
        self._task = asyncio.get_running_loop().create_task(self._run_build(full))
        return self._task

    async def _run_build(self, full: bool) -> RebuildResult:
        started = time.perf_counter()
        # --spooled: the poller has fetched the feeds into the spool; the child reads them there.
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "index",
            "--json",
            "--spooled",
            *(["--full"] * full),
        ]
        command += ["--index-dir", str(self.index_dir), "--", *self.sources]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        self.build_process = process
        _lower_priority(process.pid)
        try:
            out, err = await process.communicate()
        finally:
            self.build_process = None
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {process.returncode}"
            reason = reason.removeprefix("newsbot: error: ")
            log.error("rebuild failed after %.1f s: %s", seconds, reason)
            return RebuildResult(False, reason, seconds=seconds)
        report = BuildReport.from_json(json.loads(out.decode("utf-8").strip().splitlines()[-1]))
        try:
            self.index = await asyncio.to_thread(
                _load_warm, self.index_dir, self.semantic, self.timezone
            )
        except StoreError as exc:
            return RebuildResult(False, f"the new index does not load: {exc}", seconds=seconds)
        self.refreshed_at = datetime.now(UTC)
        summary = report.summary()
        log.info("rebuilt the index: %s", summary)
        return RebuildResult(True, summary, tuple(map(str, report.skipped)), seconds)


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
    before it is returned to be swapped in (`index.cluster`'s two-phase switch).
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
