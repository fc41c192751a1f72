"""The feed spool: each feed's last fetched body and its state, kept in `<index_dir>/spool/`.

What the poller fetched is what the build reads: the bot's poller writes each new body here with
its validators, and the build child (`newsbot index`, through
`index.sources.ingest.read_sources`) reads it instead of fetching the feed a second time. The
feed's state (`index.sources.feedschedule.FeedState`: validators, failures in a row, first
failure, next check, last success and error) is kept beside it, so a restart neither resets the
dead-feed clock nor drops conditional requests.

Per feed, named by the SHA-256 of its URL (a URL is no file name):

- `<key>.body`: the body as fetched (decompressed), replaced whole;
- `<key>.json`: the state, the URL, and the body's SHA-256, size and Content-Type.

Every write goes to a temporary file in the same folder, fsynced, then renamed over the old one,
so a kill at any moment leaves the old file or the new one, never a torn one. A state file that
does not parse is treated as absent (the feed is fetched whole again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from index.sources.feedschedule import FeedResponse, FeedState, RefreshPolicy
from index.sources.fetch import MAX_DECODED, Validators

SPOOL_DIR = "spool"  # inside the index folder
_TMP_SUFFIX = ".tmp"
_FORMAT = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpooledFeed:
    """One feed as the spool keeps it.

    Attributes:
        state: The poll state (schedule, failures, validators of the spooled body).
        sha256: SHA-256 of the spooled body, hex; None when no body was ever spooled.
        size: Its length in bytes.
        content_type: The Content-Type it came with (its charset matters to the parser).
    """

    state: FeedState
    sha256: str | None = None
    size: int = 0
    content_type: str | None = None


class Spool:
    """The spool folder of one index folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of(cls, index_dir: Path) -> Spool:
        """Return the spool of the index folder `index_dir`."""
        return cls(index_dir / SPOOL_DIR)

    # -- reading --------------------------------------------------------------------------------

    def feed(self, url: str) -> SpooledFeed | None:
        """Return what is spooled for `url`, or None (nothing, or a state that does not parse)."""
        try:
            raw = json.loads(self._path(url, ".json").read_text(encoding="utf-8"))
            if raw.get("format") != _FORMAT or raw.get("url") != url:
                return None
            return _from_json(raw)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def body(self, url: str) -> bytes | None:
        """Return the spooled body of `url`, or None when there is none (or it is too large)."""
        try:
            with self._path(url, ".body").open("rb") as file:
                data = file.read(MAX_DECODED + 1)
        except OSError:
            return None
        return data if len(data) <= MAX_DECODED else None

    def resume(
        self, urls: list[str], policy: RefreshPolicy, now: datetime
    ) -> tuple[dict[str, FeedState], dict[str, str]]:
        """Return the feeds' states as a restarted poller takes them up, and their bodies' SHA-256.

        A feed never spooled starts afresh. A next check further away than this policy's longest
        wait (it was set under another policy) is brought forward to it.
        """
        states, digests = {}, {}
        latest = now + timedelta(seconds=policy.max_wait)
        for url in urls:
            spooled = self.feed(url)
            if spooled is None:
                states[url] = FeedState(url)
                continue
            state = spooled.state
            if state.next_check is not None and state.next_check > latest:
                state = replace(state, next_check=latest)
            states[url] = state
            if spooled.sha256:
                digests[url] = spooled.sha256
        return states, digests

    # -- writing --------------------------------------------------------------------------------

    def temporary(self, url: str) -> Path:
        """Return a fresh temporary path for a body of `url` (the folder created if needed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._path(url, f".{uuid.uuid4().hex[:12]}{_TMP_SUFFIX}")

    def keep_body(self, url: str, temporary: Path) -> None:
        """Make a fetched temporary file (already fsynced) the spooled body of `url`."""
        os.replace(temporary, self._path(url, ".body"))
        _fsync_folder(self.folder)

    def discard(self, temporary: Path) -> None:
        """Remove a temporary file that will not be kept (a 304, a failure)."""
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()

    def save(self, url: str, spooled: SpooledFeed) -> None:
        """Write `url`'s state atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(_to_json(url, spooled), ensure_ascii=False, indent=1).encode("utf-8")
        temporary = self.temporary(url)
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._path(url, ".json"))
        _fsync_folder(self.folder)

    def record(self, state: FeedState, response: FeedResponse | None, temporary: Path) -> None:
        """Keep a poll's outcome: a 200's body (fetched into `temporary`) and the new state.

        A 304 or a failure keeps the spooled body, and its description, as they are.
        """
        url = state.url
        if response is not None and response.status == 200:
            self.keep_body(url, temporary)
            spooled = SpooledFeed(state, response.sha256, response.size, response.content_type)
        else:
            self.discard(temporary)
            previous = self.feed(url)
            spooled = SpooledFeed(state) if previous is None else replace(previous, state=state)
        self.save(url, spooled)

    def _path(self, url: str, suffix: str) -> Path:
        return self.folder / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()[:32]}{suffix}"


def _to_json(url: str, spooled: SpooledFeed) -> dict[str, Any]:
    state = spooled.state
    out: dict[str, Any] = {"format": _FORMAT, "url": url}
    for item in fields(FeedState):
        value = getattr(state, item.name)
        if isinstance(value, Validators):
            out["etag"], out["last_modified"] = value.etag, value.last_modified
        elif isinstance(value, datetime):
            out[item.name] = value.isoformat()
        elif item.name != "url":
            out[item.name] = value
    out.update(sha256=spooled.sha256, size=spooled.size, content_type=spooled.content_type)
    return out


def _from_json(raw: dict[str, Any]) -> SpooledFeed:
    def when(key: str) -> datetime | None:
        value = raw.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    ttl = raw.get("ttl")
    state = FeedState(
        url=str(raw["url"]),
        validators=Validators(_text(raw.get("etag")), _text(raw.get("last_modified"))),
        ttl=float(ttl) if isinstance(ttl, int | float) else None,
        last_success=when("last_success"),
        last_error=_text(raw.get("last_error")),
        last_error_at=when("last_error_at"),
        failures=int(raw.get("failures") or 0),
        failing_since=when("failing_since"),
        alerted=bool(raw.get("alerted")),
        articles=int(raw.get("articles") or 0),
        next_check=when("next_check"),
    )
    return SpooledFeed(
        state, _text(raw.get("sha256")), int(raw.get("size") or 0), _text(raw.get("content_type"))
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("cannot fsync %s", folder, exc_info=True)
    finally:
        os.close(fd)
