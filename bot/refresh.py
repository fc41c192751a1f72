"""Scheduled refresh: every source re-checked every `NEWSBOT_REFRESH`, a rebuild when one changed.

One asyncio task, started in `post_init` and stopped in `post_stop` (PTB's JobQueue needs the
`job-queue` extra, APScheduler, which newsbot does not install; one loop with one sleep is all a
schedule per feed needs). Each check:

- polls the feeds that are due (`index.sources.feedpoll`: conditional requests, a schedule per feed,
  backoff capped at a day, at most `FEED_LIMIT` at once), each new body and every feed's state
  kept in the index folder's spool (`index.sources.spool`), which the build reads instead of
  fetching again, and from which a restarted bot takes up the schedule, validators and failures. A
  304 is nothing new; a 200 is new only when its bytes differ from those the serving index was built
  from (its manifest's SHA-256), so a server that ignores validators costs a download, not a
  rebuild; the build compares the items, and a body whose items did not change commits nothing;
- rescans the files and folders, when their interval is up (`index.sources.watch`: size and mtime
  first, a hash only for files whose size or mtime moved, compared by content);
- asks `Newsroom.request` for an update (in a child process) when anything changed; when a
  build is already running, one more is queued after it;
- tells the admins, through `notify`, when a feed has failed for `alert_after` and when it
  recovers (once each; `index.sources.feedschedule` decides), and when an update failed.

A file or folder source that has vanished (or come up empty where it held files) is failing,
like a feed that does not answer: its files are left out of the comparison, so it starts no
build (the index keeps its articles), and `/feeds` shows it. A failed update is not started
again until its inputs change (a file, a feed's body, the sources) or an admin asks: the same
inputs would fail the same way, every interval.

Whenever the serving generation changes, the baseline becomes what it was built from (its
manifest), so a change that arrived during a rebuild is seen at the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from bot.newsroom import BuildJob, Newsroom, RebuildResult
from index.config import canonical_source, is_url
from index.sources.feedpoll import feed_client, poll_all
from index.sources.feedschedule import FeedEvent, FeedState, RefreshPolicy
from index.sources.fetch import Validators
from index.sources.spool import Spool
from index.sources.watch import Snapshot, changes, rebase, rescan

log = logging.getLogger(__name__)

FEED_LIMIT = 8  # feed requests in flight at once
_SHORTEST_SLEEP = 0.05  # seconds: a due time already past is not a busy loop

# Why a file or folder source counts as failing (shown by /feeds).
SOURCE_MISSING = "not found (moved, deleted or unmounted?)"
SOURCE_EMPTY = "no readable files left in it (unmounted?)"


@dataclass(frozen=True, slots=True)
class UpdateFailed:
    """A scheduled update that failed: told to the admins, and not retried on the same inputs.

    Attributes:
        result: How it ended.
    """

    result: RebuildResult


AdminEvent = FeedEvent | UpdateFailed
Notify = Callable[[AdminEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source as `/feeds` shows it.

    Attributes:
        source: The feed URL, folder or file, as configured.
        kind: "feed" or "files".
        last_success: When it was last read (polled or rescanned) without error.
        last_error: Why the last failed poll failed (feeds), if the last poll failed.
        last_error_at: When that was.
        failing_since: The first failure of the current run of failures.
        next_check: When it will be read next; None when not scheduled.
    """

    source: str
    kind: Literal["feed", "files"]
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failing_since: datetime | None
    next_check: datetime | None


@dataclass(slots=True)
class LocalHealth:
    """A file or folder source between rescans: when it was last read, and since when it fails.

    Attributes:
        last_success: The last rescan that found it.
        last_error: Why it fails now (`SOURCE_MISSING`, `SOURCE_EMPTY`); None when it does not.
        last_error_at: The last rescan that found it failing.
        failing_since: The first rescan of the current run of failures.
    """

    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Indexed:
    """What the serving generation was built from: its files, and its feeds' SHA-256."""

    generation: str
    files: Snapshot
    feeds: dict[str, str]


class Refresher:
    """Re-checks the newsroom's sources on a schedule and rebuilds the index when they change."""

    def __init__(
        self,
        newsroom: Newsroom,
        policy: RefreshPolicy,
        notify: Notify,
        *,
        feed_limit: int = FEED_LIMIT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_checked: Callable[[], None] = lambda: None,
    ) -> None:
        self.newsroom = newsroom
        self.policy = policy
        self.spool = Spool.of(newsroom.index_dir)
        urls = [s for s in newsroom.sources if is_url(s)]
        self.feeds, spooled = self.spool.resume(urls, policy, clock())
        self.local_sources = tuple(s for s in newsroom.sources if not is_url(s))
        self.local = {s: LocalHealth() for s in self.local_sources}  # what /feeds shows of them
        self.files_checked: datetime | None = None
        self.files_next: datetime | None = None
        self.rebuilds = 0  # rebuilds this refresher started
        self._notify = notify
        self._feed_limit = feed_limit
        self._clock = clock
        self._on_checked = on_checked  # after each check that completed (the heartbeat)
        self._indexed: _Indexed | None = None
        self._scanned = Snapshot()  # the last scan: what the next one compares against
        self._polled = spooled  # feed -> SHA-256 of the version its validators name
        self._waiting: asyncio.Future[RebuildResult] | None = None  # the update asked for last
        self._failed_on: tuple[object, ...] | None = None  # the inputs of the last failed update
        self._telling: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def follow_sources(self) -> None:
        """Check the newsroom's sources as they are now (an admin added or removed one)."""
        sources = self.newsroom.sources
        self.feeds = {s: self.feeds.get(s) or FeedState(s) for s in sources if is_url(s)}
        self.local_sources = tuple(s for s in sources if not is_url(s))
        self.local = {s: self.local.get(s) or LocalHealth() for s in self.local_sources}
        # A removed folder's files are no change to index: its articles went with it.
        kept = {p: st for p, st in self._scanned.files.items() if _source_of(p, self.local_sources)}
        self._scanned = Snapshot(kept)

    # -- running ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start checking in the background (the first check now)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="refresh")

    async def stop(self) -> None:
        """Stop checking; a rebuild already started goes on (it is the newsroom's)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        async with feed_client(self._feed_limit) as client:
            while True:
                try:
                    await self.check(client)
                except Exception:  # one bad check must not end the schedule
                    log.exception("scheduled refresh failed; trying again at the next check")
                else:
                    self._on_checked()
                await asyncio.sleep(self._seconds_to_next_check())

    def _seconds_to_next_check(self) -> float:
        now = self._clock()
        due = [s.next_check for s in self.feeds.values() if s.next_check is not None]
        if self.files_next is not None and self.local_sources:
            due.append(self.files_next)
        wait = min((d - now).total_seconds() for d in due) if due else self.policy.refresh
        return min(self.policy.refresh, max(_SHORTEST_SLEEP, wait))

    # -- one check ------------------------------------------------------------------------------

    async def check(self, client: httpx.AsyncClient) -> list[str]:
        """Poll the due feeds and rescan the files if due; rebuild if anything changed.

        Returns:
            What changed (feed URLs, and 'files: n added, ...'), empty when nothing did.
        """
        self._follow_generation()
        now = self._clock()
        changed = await self._check_feeds(client, now)
        if self.local_sources and (self.files_next is None or self.files_next <= now):
            changed += await self._check_files(now)
        if changed and self._failed_on == self._inputs():
            log.debug("sources as when the last update failed; not starting it again")
        elif changed:
            log.info("sources changed (%s); rebuilding the index", "; ".join(changed))
            self.request_rebuild()
        elif not self.newsroom.rebuilding and self.newsroom.index is not None:
            self.newsroom.refreshed_at = now
        return changed

    async def _check_feeds(self, client: httpx.AsyncClient, now: datetime) -> list[str]:
        due = [state for state in self.feeds.values() if state.due(now)]
        if not due:
            return []
        indexed = self._indexed.feeds if self._indexed else {}
        changed = []
        polls = await poll_all(due, client, self._feed_limit, self.policy, spool=self.spool)
        for poll in polls:
            url = poll.state.url
            self.feeds[url] = poll.state
            if poll.event is not None:
                await self._tell(poll.event)
            if poll.response is None or poll.response.sha256 is None:
                continue  # failed, or 304: nothing new
            digest = poll.response.sha256  # hashed as it was spooled, off the event loop
            self._polled[url] = digest
            if indexed.get(url) != digest:
                indexed[url] = digest  # asked for: not again while the rebuild runs
                changed.append(url)
        return changed

    async def _check_files(self, now: datetime) -> list[str]:
        baseline = self._scanned
        # Scanned by their absolute paths, as the index reads them and its manifest spells them
        # (`index.config.canonical_source`): a source named relative is the same files.
        absolute = [canonical_source(s) for s in self.local_sources]
        scanned = await asyncio.to_thread(rescan, absolute, baseline)
        failing = self._judge_local(baseline, scanned, now)
        # A failing source's files are compared as they were: its vanishing is no change to
        # index (the index keeps its articles), and its coming back unchanged is none either.
        kept = {p: st for p, st in baseline.files.items() if _source_of(p, failing)}
        scanned = Snapshot({**scanned.files, **kept})
        self._scanned = scanned
        self.files_checked = now
        self.files_next = now + timedelta(seconds=max(self.policy.floor, self.policy.refresh))
        diff = changes(baseline, scanned)
        return [f"files: {diff.summary()}"] if diff else []

    def _judge_local(self, baseline: Snapshot, scanned: Snapshot, now: datetime) -> list[str]:
        """Mark each file or folder source healthy or failing; return the failing ones."""
        failing = []
        for source in self.local_sources:
            health = self.local.setdefault(source, LocalHealth())
            had = any(_source_of(p, [source]) for p in baseline.files)
            has = any(_source_of(p, [source]) for p in scanned.files)
            error = (
                SOURCE_MISSING
                if not os.path.exists(source)
                else SOURCE_EMPTY
                if had and not has
                else None
            )
            if error is None:
                self.local[source] = LocalHealth(last_success=now)
                continue
            if health.last_error is None:
                log.warning("source %s: %s", source, error)
            self.local[source] = LocalHealth(
                health.last_success, error, now, health.failing_since or now
            )
            failing.append(source)
        return failing

    def _inputs(self) -> tuple[object, ...]:
        """What an update reads: the sources, their files' content and the feeds' bodies."""
        files = tuple(sorted((p, st.sha256) for p, st in self._scanned.files.items()))
        return self.newsroom.sources, files, tuple(sorted(self._polled.items()))

    async def _tell(self, event: AdminEvent) -> None:
        if isinstance(event, FeedEvent):
            log.warning("feed %s: %s since %s", event.url, event.kind, event.since.isoformat())
        try:
            await self._notify(event)
        except Exception:  # an admin who blocked the bot must not stop the refresh
            log.exception("could not tell the admins about %s", event)

    # -- the baseline: what the serving index was built from ------------------------------------

    def _follow_generation(self) -> None:
        """When a new generation serves, make its manifest the baseline of the next check."""
        index = self.newsroom.index
        generation = self.newsroom.generation
        if self._indexed is not None and self._indexed.generation == generation:
            return
        if self._indexed is not None:
            self._failed_on = None  # a new index serves (an admin's /reindex): try again
        manifest = index.header.get("manifest", []) if index is not None else []
        files = Snapshot.from_manifest(manifest)
        feeds = {str(e["path"]): str(e["sha256"]) for e in manifest if is_url(str(e["path"]))}
        self._indexed = _Indexed(generation, files, feeds)
        self._scanned = rebase(self._scanned, files)
        for url, state in self.feeds.items():
            if self._polled.get(url) != feeds.get(url):
                # The index holds another version than the one our validators name: fetch it
                # whole next time, and compare.
                self.feeds[url] = replace(state, validators=Validators())
                self._polled.pop(url, None)

    # -- rebuilding -----------------------------------------------------------------------------

    def request_rebuild(self) -> None:
        """Ask for an update: now, or after the build running now (it started before the change)."""
        waiting, _ = self.newsroom.request(BuildJob(), join=False)
        if waiting is self._waiting:
            return  # already queued: it will read this change too
        self._waiting = waiting
        self.rebuilds += 1
        inputs = self._inputs()
        waiting.add_done_callback(lambda done: self._after_rebuild(done, inputs))

    def _after_rebuild(
        self, done: asyncio.Future[RebuildResult], inputs: tuple[object, ...]
    ) -> None:
        if done.cancelled():
            return
        result = done.result() if done.exception() is None else None
        if result is not None and result.ok:
            self._failed_on = None
            return
        self._indexed = None  # compare with the serving index again: the change stands
        self._failed_on = inputs
        if result is not None and self._task is not None:
            told = asyncio.get_running_loop().create_task(self._tell(UpdateFailed(result)))
            self._telling.add(told)
            told.add_done_callback(self._telling.discard)

    # -- what /feeds shows ----------------------------------------------------------------------

    def statuses(self) -> list[SourceStatus]:
        """Return each source's status, in the order of the sources."""
        out = []
        for source in self.newsroom.sources:
            feed = self.feeds.get(source)
            if feed is not None:
                out.append(
                    SourceStatus(
                        source,
                        "feed",
                        feed.last_success,
                        feed.last_error if feed.failures else None,
                        feed.last_error_at if feed.failures else None,
                        feed.failing_since,
                        feed.next_check,
                    )
                )
            else:
                health = self.local.get(source) or LocalHealth()
                out.append(
                    SourceStatus(
                        source,
                        "files",
                        health.last_success,
                        health.last_error,
                        health.last_error_at,
                        health.failing_since,
                        self.files_next,
                    )
                )
        return out


def _source_of(path: str, sources: Sequence[str]) -> bool:
    """Return whether a file's path lies in one of `sources` (both compared absolute)."""
    path = os.path.abspath(path)
    for source in sources:
        root = canonical_source(source)
        if path == root or path.startswith(os.path.join(root, "")):
            return True
    return False
