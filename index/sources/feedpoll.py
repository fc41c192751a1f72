"""Polite feed polling: conditional requests, each feed's schedule kept, bodies into the spool.

One poll of one feed is a GET carrying the validators of the last answer (`If-None-Match` from
its ETag, `If-Modified-Since` from its Last-Modified), so an unchanged feed costs a 304 with no
body. When to poll it next, the backoff and the admins' alerts are decided by the pure functions
of `index.sources.feedschedule` (`after_success`, `after_failure`) over its frozen `FeedState`.

`poll_all` polls many feeds over one `httpx.AsyncClient`, at most `limit` at a time.

Why plain httpx and not hishel (the RFC 9111 cache for httpx): hishel answers a revalidated
request with the stored response, as a 200 with the old body, and keeps a copy of every feed's
body in its storage. A feed reader wants the opposite: to see the 304 as "nothing new" (no
parse, no index work), to keep no bodies, and to keep the validators in the same per-feed record
that `/feeds` shows and the scheduler persists. The conditional part is two request headers and
the 304 branch below; a cache library would add a dependency, a storage and a second notion of
freshness beside our schedule.

Fetching is `index.sources.fetch`'s, the one home of a fetch's limits (one deadline, caps on the
bytes received and decompressed, one content encoding, http(s) only, redirects to public
addresses only); inflating and hashing run in worker threads, so a poll never stalls the bot's
event loop. With a spool (`index.sources.spool`), each new body is written there as it arrives
and the feed's state is saved after every poll: the build reads the spool instead of fetching
again, and a restart keeps the schedule, the validators and the dead-feed clock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from index.sources.feedschedule import (
    FeedError,
    FeedEvent,
    FeedResponse,
    FeedState,
    RefreshPolicy,
    after_failure,
    after_success,
)
from index.sources.fetch import (
    FETCH_TIMEOUT,
    HEAD_BYTES,
    MAX_BYTES,
    NO_VALIDATORS,
    Fetched,
    Validators,
    fetch,
    limits_from_env,
    new_client,
)
from index.sources.formats.feeds import not_a_feed
from index.sources.spool import Spool

FEED_TIMEOUT = FETCH_TIMEOUT  # seconds for a whole fetch
FEED_MAX_BYTES = MAX_BYTES
_DEFAULTS = RefreshPolicy()  # the policy when none is given (frozen: one shared value is safe)

_TTL = re.compile(rb"<(?:\w+:)?ttl>\s*(\d+)\s*</(?:\w+:)?ttl>", re.IGNORECASE)
_FIRST_ENTRY = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]", re.IGNORECASE)


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
    policy: RefreshPolicy = _DEFAULTS,
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
    policy: RefreshPolicy = _DEFAULTS,
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
