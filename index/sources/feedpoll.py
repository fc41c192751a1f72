"""Polite feed polling: conditional requests, a schedule per feed, backoff and alerts.

One poll of one feed is a GET carrying the validators of the last answer (`If-None-Match` from
its ETag, `If-Modified-Since` from its Last-Modified), so an unchanged feed costs a 304 with no
body. What happens next is decided by pure functions over a frozen `FeedState`:

- `after_success`: the next check comes after the refresh interval (`NEWSBOT_REFRESH`, default
  10 min), lengthened (never shortened) by the feed's RSS `<ttl>` or its `Cache-Control: max-age`
  (up to a day), and never sooner than a floor (60 s).
- `after_failure`: the wait doubles with each failure in a row, with jitter, capped at a day; a
  `Retry-After` on a 429 or 503 lengthens it. A feed failing for 24 h yields one "failing" event
  for the admins, and its next success one "recovered" event. Nothing is sent from here. Until
  the feed has been told failing, no wait goes past the 24 h mark, so the alert comes within
  24 h plus the floor of the first failure (plain doubling put it at 42.5 h).

`poll_all` polls many feeds over one `httpx.AsyncClient`, at most `limit` at a time.

Why plain httpx and not hishel (the RFC 9111 cache for httpx): hishel answers a revalidated
request with the stored response, as a 200 with the old body, and keeps a copy of every feed's
body in its storage. A feed reader wants the opposite: to see the 304 as "nothing new" (no
parse, no index work), to keep no bodies, and to keep the validators in the same per-feed record
that `/feeds` shows and the scheduler persists. The conditional part is two request headers and
the 304 branch below; a cache library would add a dependency, a storage and a second notion of
freshness beside our schedule.

Fetching is `index.sources.fetch`'s, the one home of a fetch's limits (one deadline, caps on the bytes
received and decompressed, one content encoding, http(s) only, redirects to public addresses
only); inflating and hashing run in worker threads, so a poll never stalls the bot's event loop.
With a spool (`index.sources.spool`), each new body is written there as it arrives and the feed's state
is saved after every poll: the build reads the spool instead of fetching again, and a restart
keeps the schedule, the validators and the dead-feed clock.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx

from index.sources.fetch import (
    FETCH_TIMEOUT,
    HEAD_BYTES,
    MAX_BYTES,
    NO_VALIDATORS,
    Fetched,
    FetchError,
    Validators,
    fetch,
    limits_from_env,
    new_client,
)
from index.sources.formats.feeds import not_a_feed

if TYPE_CHECKING:
    from index.sources.spool import Spool

__all__ = ["FeedError", "Validators"]  # re-exported: the poller's callers name them from here

REFRESH_ENV = "NEWSBOT_REFRESH"
FEED_TIMEOUT = FETCH_TIMEOUT  # seconds for a whole fetch
FEED_MAX_BYTES = MAX_BYTES
FeedError = FetchError  # a poll that failed: one short reason, and Retry-After when given

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_TTL = re.compile(rb"<(?:\w+:)?ttl>\s*(\d+)\s*</(?:\w+:)?ttl>", re.IGNORECASE)
_FIRST_ENTRY = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """How often feeds are polled, in seconds.

    Attributes:
        refresh: The interval between polls of a healthy feed (`NEWSBOT_REFRESH`).
        floor: The shortest wait ever, whatever the settings or the feed say.
        max_wait: The longest wait a feed's `<ttl>`/max-age or a backoff can cause.
        alert_after: How long a feed fails before the admins are told.
        jitter: Backoff waits are spread by this fraction either way, so that feeds that
            failed together do not come back together.
    """

    refresh: float = 600.0
    floor: float = 60.0
    max_wait: float = 86_400.0
    alert_after: float = 86_400.0
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class FeedResponse:
    """A successful poll: a new version of the feed (200) or "not modified" (304).

    Attributes:
        status: 200 or 304.
        body: The feed's bytes; None for a 304, and for a 200 written to the spool.
        validators: The validators to send next time.
        content_type: The Content-Type header, for parsing.
        max_age: Seconds the response may be reused (`Cache-Control: max-age` less `Age`).
        ttl: Seconds the feed asks to be left alone (RSS `<ttl>`, minutes in the feed).
        sha256: A 200's body's SHA-256, hex (what tells a new version from the indexed one).
        size: A 200's body's length in bytes.
    """

    status: int
    body: bytes | None
    validators: Validators
    content_type: str | None = None
    max_age: float | None = None
    ttl: float | None = None
    sha256: str | None = None
    size: int = 0


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """Something the admins should hear about a feed, once.

    Attributes:
        kind: "failing" (failed for `alert_after` and counting) or "recovered".
        url: The feed.
        since: When the feed started failing.
        error: The last error, for "failing".
    """

    kind: Literal["failing", "recovered"]
    url: str
    since: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What is known of one feed between polls; what `/feeds` shows.

    Attributes:
        url: The feed.
        validators: Validators of the last version fetched.
        ttl: The feed's last `<ttl>` in seconds (kept across 304s, which carry no body).
        last_success: When a poll last succeeded.
        last_error: Why the last failed poll failed.
        last_error_at: When it failed.
        failures: Failed polls in a row.
        failing_since: The first failure of the current run of failures.
        alerted: Whether the admins were told it is failing (reset by a success).
        articles: Articles in the feed at its last fetch.
        next_check: When to poll it next; None means now.
    """

    url: str
    validators: Validators = NO_VALIDATORS
    ttl: float | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    failing_since: datetime | None = None
    alerted: bool = False
    articles: int = 0
    next_check: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Return whether the feed should be polled at `now`."""
        return self.next_check is None or self.next_check <= now


@dataclass(frozen=True, slots=True)
class Poll:
    """The outcome of polling one feed.

    Attributes:
        state: The feed's state after the poll.
        response: The response when the poll succeeded, else None.
        event: What to tell the admins, if anything.
        delay: Seconds until the next poll.
    """

    state: FeedState
    response: FeedResponse | None
    event: FeedEvent | None
    delay: float


def refresh_from_env(env: Mapping[str, str] | None = None) -> RefreshPolicy:
    """Return the refresh policy with `$NEWSBOT_REFRESH` as its interval.

    Args:
        env: The environment to read; `os.environ` when None. The value is seconds ("600",
            "90s"), minutes ("10m", "10min") or hours ("1h"); unset or empty: 10 minutes.

    Raises:
        ValueError: The value is not a duration, or it is shorter than the floor.
    """
    env = os.environ if env is None else env
    policy = RefreshPolicy()
    raw = env.get(REFRESH_ENV, "").strip()
    if not raw:
        return policy
    match = _DURATION.fullmatch(raw)
    if match is None:
        raise ValueError(f"{REFRESH_ENV}: not a duration: {raw!r} (try 600, 10m or 1h)")
    seconds = float(match[1]) * _UNIT_SECONDS[match[2] and match[2].lower()]
    if seconds < policy.floor:
        raise ValueError(f"{REFRESH_ENV}: at least {policy.floor:g} s, got {raw!r}")
    return replace(policy, refresh=seconds)


# -- schedule: pure functions ---------------------------------------------------------------------


def success_delay(policy: RefreshPolicy, ttl: float | None, max_age: float | None) -> float:
    """Return seconds until the next poll of a healthy feed.

    The refresh interval, lengthened by the feed's `<ttl>` or max-age up to `max_wait`, and
    never below the floor: `max(floor, refresh, min(max_wait, max(ttl, max_age)))`.
    """
    asked = max(ttl or 0.0, max_age or 0.0)
    return max(policy.floor, policy.refresh, min(policy.max_wait, asked))


def failure_delay(
    policy: RefreshPolicy, failures: int, jitter: float, retry_after: float | None = None
) -> float:
    """Return seconds until the next poll after `failures` failures in a row.

    `refresh * 2 ** (failures - 1)`, spread by `policy.jitter` either way, at least the floor
    and the server's Retry-After, at most `max_wait`.

    Args:
        policy: The refresh policy.
        failures: Failures in a row, this one included (1 or more).
        jitter: A draw from [0, 1); 0.5 gives the wait without spread.
        retry_after: Seconds the server asked to wait, if it did.
    """
    base = max(policy.floor, policy.refresh) * 2.0 ** min(failures - 1, 64)
    spread = 1.0 + policy.jitter * (2.0 * jitter - 1.0)
    return min(policy.max_wait, max(policy.floor, base * spread, retry_after or 0.0))


def after_success(
    state: FeedState,
    response: FeedResponse,
    now: datetime,
    policy: RefreshPolicy,
    articles: int | None = None,
) -> tuple[FeedState, FeedEvent | None, float]:
    """Return the feed's state after a successful poll, the event to report, and the delay.

    Args:
        state: The state before the poll.
        response: The 200 or 304 received.
        now: When the poll ended.
        policy: The refresh policy.
        articles: Articles parsed from a 200's body, when the caller counted them.
    """
    ttl = response.ttl if response.status == 200 else state.ttl
    delay = success_delay(policy, ttl, response.max_age)
    event = None
    if state.alerted and state.failing_since is not None:
        event = FeedEvent("recovered", state.url, state.failing_since)
    new = replace(
        state,
        validators=response.validators,
        ttl=ttl,
        last_success=now,
        failures=0,
        failing_since=None,
        alerted=False,
        articles=state.articles if articles is None else articles,
        next_check=now + timedelta(seconds=delay),
    )
    return new, event, delay


def after_failure(
    state: FeedState,
    error: FeedError,
    now: datetime,
    policy: RefreshPolicy,
    jitter: float | None = None,
) -> tuple[FeedState, FeedEvent | None, float]:
    """Return the feed's state after a failed poll, the event to report, and the delay.

    Args:
        state: The state before the poll.
        error: Why it failed.
        now: When the poll ended.
        policy: The refresh policy.
        jitter: A draw from [0, 1) for the backoff's spread; random when None.
    """
    failures = state.failures + 1
    since = state.failing_since or now
    draw = random.random() if jitter is None else jitter
    delay = failure_delay(policy, failures, draw, error.retry_after)
    alert = not state.alerted and now - since >= timedelta(seconds=policy.alert_after)
    if not (state.alerted or alert):
        # Doubling waits would step over the alert's time (the 9th check came after 42.5 h):
        # check once more when the feed has failed for `alert_after`, whatever the backoff.
        until_alert = (since + timedelta(seconds=policy.alert_after) - now).total_seconds()
        delay = min(delay, max(policy.floor, until_alert))
    new = replace(
        state,
        last_error=error.reason,
        last_error_at=now,
        failures=failures,
        failing_since=since,
        alerted=state.alerted or alert,
        next_check=now + timedelta(seconds=delay),
    )
    return new, FeedEvent("failing", state.url, since, error.reason) if alert else None, delay


# -- fetching -------------------------------------------------------------------------------------


def feed_client(limit: int = 8, timeout: float = FEED_TIMEOUT) -> httpx.AsyncClient:
    """Return a client for polling: our User-Agent, redirects left to us, `limit` sockets."""
    return new_client(limit, timeout)


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators = NO_VALIDATORS,
    *,
    timeout: float = FEED_TIMEOUT,
    max_bytes: int = FEED_MAX_BYTES,
    into: Path | None = None,
) -> FeedResponse:
    """GET a feed, conditionally when there are validators, within `index.sources.fetch`'s limits.

    Args:
        client: The client to use (see `feed_client`).
        url: The feed's http(s) URL.
        validators: The validators of the version we have.
        timeout: Seconds for the whole fetch, redirects and body included.
        max_bytes: Most bytes received.
        into: A file to write a 200's body to instead of keeping it in memory.

    Raises:
        FeedError: The feed could not be fetched, with the reason.
    """
    limits = replace(limits_from_env(), timeout=timeout, max_bytes=max_bytes)
    return feed_response(await fetch(client, url, validators, limits, into=into))


def feed_response(fetched: Fetched) -> FeedResponse:
    """Return a fetch's outcome as the poller sees it (the `<ttl>` read from the body's head).

    Raises:
        FeedError: The body is no feed (a "checking your browser" page): the feed is failing.
    """
    if fetched.status != 200:
        return FeedResponse(304, None, fetched.validators, None, fetched.max_age)
    if reason := not_a_feed(fetched.head):
        raise FeedError(reason)
    return FeedResponse(
        200,
        fetched.body,
        fetched.validators,
        fetched.content_type,
        fetched.max_age,
        feed_ttl(fetched.head[:HEAD_BYTES]),
        fetched.sha256,
        fetched.size,
    )


def feed_ttl(body: bytes) -> float | None:
    """Return an RSS channel's `<ttl>` in seconds, or None.

    Only the channel's head (before the first item or entry) is searched: `<ttl>` is a channel
    element, and text inside items must not set the schedule.
    """
    first = _FIRST_ENTRY.search(body)
    match = _TTL.search(body, 0, first.start() if first else len(body))
    return float(match[1]) * 60.0 if match else None


# -- polling --------------------------------------------------------------------------------------


async def poll_feed(
    client: httpx.AsyncClient,
    state: FeedState,
    policy: RefreshPolicy = RefreshPolicy(),
    *,
    now: datetime | None = None,
    timeout: float = FEED_TIMEOUT,
    max_bytes: int = FEED_MAX_BYTES,
    spool: Spool | None = None,
) -> Poll:
    """Poll one feed and return its new state, the response and any event for the admins.

    Args:
        client: The client to use (see `feed_client`).
        state: The feed's state before the poll.
        policy: The refresh policy.
        now: The time to record (aware); the current UTC time when None.
        timeout: Seconds for the whole fetch.
        max_bytes: Most bytes received.
        spool: Where a new body is written as it arrives, and the new state saved; None keeps
            the body in memory (`FeedResponse.body`) and saves nothing.
    """
    into = await asyncio.to_thread(spool.temporary, state.url) if spool else None
    try:
        response = await fetch_feed(
            client, state.url, state.validators, timeout=timeout, max_bytes=max_bytes, into=into
        )
    except FeedError as error:
        new, event, delay = after_failure(state, error, now or _utcnow(), policy)
        poll = Poll(new, None, event, delay)
    else:
        new, event, delay = after_success(state, response, now or _utcnow(), policy)
        poll = Poll(new, response, event, delay)
    if spool is not None and into is not None:
        await asyncio.to_thread(spool.record, poll.state, poll.response, into)
    return poll


async def poll_all(
    feeds: Sequence[FeedState],
    client: httpx.AsyncClient,
    limit: int = 8,
    policy: RefreshPolicy = RefreshPolicy(),
    *,
    now: datetime | None = None,
    spool: Spool | None = None,
) -> list[Poll]:
    """Poll every feed, at most `limit` at a time, and return the polls in the feeds' order.

    Args:
        feeds: The feeds' states (the caller picks the due ones, see `FeedState.due`).
        client: The client to use (see `feed_client`).
        limit: Most requests in flight at once.
        policy: The refresh policy.
        now: The time to record (aware); the current UTC time at each poll's end when None.
        spool: Where new bodies and states are kept (see `poll_feed`).
    """
    gate = asyncio.Semaphore(limit)

    async def one(state: FeedState) -> Poll:
        async with gate:
            return await poll_feed(client, state, policy, now=now, spool=spool)

    return list(await asyncio.gather(*(one(state) for state in feeds)))


def _utcnow() -> datetime:
    """Return the current time in UTC (aware)."""
    return datetime.now(UTC)
