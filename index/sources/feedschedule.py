"""A feed's schedule: what is known of it between polls, and when to poll it next.

The state of one feed is a frozen `FeedState` (validators, failures in a row, the dead-feed
clock, the next check); what a poll brings is a `FeedResponse` (a 200 or a 304) or a
`FeedError`. What happens next is decided by pure functions over them:

- `after_success`: the next check comes after the refresh interval (`NEWSBOT_REFRESH`, default
  10 min), lengthened (never shortened) by the feed's RSS `<ttl>` or its `Cache-Control: max-age`
  (up to a day), and never sooner than a floor (60 s).
- `after_failure`: the wait doubles with each failure in a row, with jitter, capped at a day; a
  `Retry-After` on a 429 or 503 lengthens it. A feed failing for 24 h yields one "failing" event
  for the admins, and its next success one "recovered" event. Nothing is sent from here. Until
  the feed has been told failing, no wait goes past the 24 h mark, so the alert comes within
  24 h plus the floor of the first failure (plain doubling put it at 42.5 h).

The poller (`index.sources.feedpoll`) applies them after each poll; the spool
(`index.sources.spool`) keeps each feed's state across restarts.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from index.sources.fetch import NO_VALIDATORS, FetchError, Validators

REFRESH_ENV = "NEWSBOT_REFRESH"
FeedError = FetchError  # a poll that failed: one short reason, and Retry-After when given

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


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
