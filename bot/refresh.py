"""Scheduled refresh: every source re-checked every `NEWSBOT_REFRESH`, a rebuild when one changed.

One asyncio task, started in `post_init` and stopped in `post_stop` (PTB's JobQueue needs the
`job-queue` extra, APScheduler, which newsbot does not install; one loop with one sleep is all a
schedule per feed needs). Each check:

- polls the feeds that are due (`index.feedpoll`: conditional requests, a schedule per feed,
  backoff capped at a day, at most `FEED_LIMIT` at once), each new body and every feed's state
  kept in the index folder's spool (`index.spool`), which the build reads instead of fetching
  again, and from which a restarted bot takes up the schedule, validators and failures. A 304
  is nothing new; a 200 is new only when its bytes differ from those the serving index was
  built from (its manifest's SHA-256), so a server that ignores validators costs a download,
  not a rebuild; the build compares the items, and a body whose items did not change commits
  nothing;
- rescans the files and folders, when their interval is up (`index.watch`: size and mtime
  first, a hash only for files whose size or mtime moved, compared by content);
- starts `Newsroom.rebuild` (the full rebuild in a child process) when anything changed, or,
  when a rebuild is already running, starts one more after it;
- tells the admins, through `notify`, when a feed has failed for `alert_after` and when it
  recovers (once each; `index.feedpoll` decides).

Whenever the serving generation changes, the baseline becomes what it was built from (its
manifest), so a change that arrived during a rebuild is seen at the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from bot.newsroom import Newsroom, RebuildResult
from index.config import is_url
from index.feedpoll import (
    FeedEvent,
    RefreshPolicy,
    Validators,
    feed_client,
    poll_all,
)
from index.spool import Spool
from index.watch import Snapshot, changes, rebase, rescan

log = logging.getLogger(__name__)

FEED_LIMIT = 8  # feed requests in flight at once
_SHORTEST_SLEEP = 0.05  # seconds: a due time already past is not a busy loop

Notify = Callable[[FeedEvent], Awaitable[None]]


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
        self._again = False  # a change arrived during a rebuild: rebuild once more after it
        self._task: asyncio.Task[None] | None = None

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
        if changed:
            log.info("sources changed (%s); rebuilding the index", "; ".join(changed))
            self.request_rebuild()
        elif self._again and not self.newsroom.rebuilding:
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
        scanned = await asyncio.to_thread(rescan, self.local_sources, baseline)
        self._scanned = scanned
        self.files_checked = now
        self.files_next = now + timedelta(seconds=max(self.policy.floor, self.policy.refresh))
        diff = changes(baseline, scanned)
        return [f"files: {diff.summary()}"] if diff else []

    async def _tell(self, event: FeedEvent) -> None:
        log.warning("feed %s: %s since %s", event.url, event.kind, event.since.isoformat())
        try:
            await self._notify(event)
        except Exception:  # an admin who blocked the bot must not stop the refresh
            log.exception("could not tell the admins about feed %s", event.url)

    # -- the baseline: what the serving index was built from ------------------------------------

    def _follow_generation(self) -> None:
        """When a new generation serves, make its manifest the baseline of the next check."""
        index = self.newsroom.index
        generation = self.newsroom.generation
        if self._indexed is not None and self._indexed.generation == generation:
            return
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
        """Start a rebuild, or, when one is running, one more after it."""
        running = self.newsroom.running_rebuild
        if running is not None:
            if not self._again:
                self._again = True
                running.add_done_callback(self._after_rebuild)
            return
        self._again = False
        self.rebuilds += 1
        self.newsroom.start_rebuild(full=False).add_done_callback(self._after_rebuild)

    def _after_rebuild(self, task: asyncio.Task[RebuildResult]) -> None:
        failed = task.cancelled() or task.exception() is not None or not task.result().ok
        if failed:
            self._indexed = None  # compare with the serving index again: the change stands
        if self._again and self._task is not None:
            self.request_rebuild()

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
                out.append(
                    SourceStatus(
                        source, "files", self.files_checked, None, None, None, self.files_next
                    )
                )
        return out
