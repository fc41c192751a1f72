"""The feed spool: fetched once (by the poller), read by the build, kept across restarts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.newsroom import Newsroom
from bot.refresh import Refresher
from index.sources.feedpoll import feed_client, poll_all, poll_feed
from index.sources.feedschedule import FeedEvent, FeedState, RefreshPolicy
from index.sources.ingest import read_sources
from index.sources.spool import Spool, SpooledFeed
from index.store.build import build_index
from tests.hostile_feeds import ETAG, HostileServer, rss


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileServer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with HostileServer(bomb_bytes=100_000_000) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with feed_client() as polling:
        yield polling


def leftovers(spool: Spool) -> list[str]:
    return sorted(p.name for p in spool.folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.process
async def test_the_build_reads_what_the_poller_fetched_without_fetching_again(
    hostile: HostileServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    spool, url = Spool(tmp_path / "spool"), hostile.url("/feed")
    poll = await poll_feed(client, FeedState(url), spool=spool)
    assert poll.response is not None and poll.response.status == 200
    assert poll.response.body is None  # written to the spool as it came, not held
    assert poll.response.sha256 == hashlib.sha256(rss()).hexdigest()
    assert hostile.asked["/feed"] == 1

    result = read_sources([url], spool=spool)
    assert [a.title for a in result.articles] == ["Story 0", "Story 1", "Story 2"]
    assert hostile.asked["/feed"] == 1  # fetched once
    assert [(f.path, f.sha256) for f in result.files] == [(url, poll.response.sha256)]
    spooled = spool.feed(url)
    assert spooled is not None and spooled.state.validators.etag == ETAG
    assert leftovers(spool) == []


@pytest.mark.process
def test_newsbot_index_url_fetches_into_the_spool_then_conditionally(
    hostile: HostileServer, tmp_path: Path
) -> None:
    index_dir, url = tmp_path / "index", hostile.url("/feed")
    assert build_index([url], index_dir).articles == 3
    spool = Spool.of(index_dir)
    spooled = spool.feed(url)
    assert spooled is not None and spool.body(url) == rss()
    # The bot's build child (--spooled) reads what the poller spooled: not due, not fetched.
    assert build_index([url], index_dir, full=False, fetch_feeds=False).articles == 3
    assert hostile.asked["/feed"] == 1

    # Nor when its next check has come meanwhile: the poller owns it (a fetch inside the build
    # waited out a failing feed's timeout in bench/soak_feeds.py).
    due = replace(spooled.state, next_check=datetime.now(UTC) - timedelta(seconds=1))
    spool.save(url, replace(spooled, state=due))
    assert build_index([url], index_dir, full=False, fetch_feeds=False).articles == 3
    assert hostile.asked["/feed"] == 1
    # A person's `newsbot index` fetches every feed now, conditionally: a 304 costs nothing.
    assert build_index([url], index_dir, full=False).articles == 3
    assert (hostile.asked["/feed"], hostile.not_modified) == (2, 1)  # asked with the ETag


@pytest.mark.process
@pytest.mark.parametrize("answer", ["unavailable", "bomb"])
async def test_a_failed_poll_keeps_the_spooled_body_whole(
    hostile: HostileServer, client: httpx.AsyncClient, tmp_path: Path, answer: str
) -> None:
    spool, url = Spool(tmp_path / "spool"), hostile.url("/feed")
    first = await poll_feed(client, FeedState(url), spool=spool)
    hostile.feed_answer = answer  # the bomb fills a temporary file up to the cap, then fails
    again = await poll_feed(client, first.state, spool=spool)
    assert again.response is None and again.state.failures == 1
    assert spool.body(url) == rss()
    spooled = spool.feed(url)
    assert spooled is not None and spooled.sha256 == hashlib.sha256(rss()).hexdigest()
    assert spooled.state.failures == 1 and spooled.state.last_error == again.state.last_error
    assert leftovers(spool) == []


@pytest.mark.process
async def test_feed_state_survives_a_restart(
    hostile: HostileServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # Issue #18: a restart reset the dead-feed clock and dropped conditional requests.
    index_dir, url = tmp_path / "index", hostile.url("/feed")
    policy = RefreshPolicy()

    async def told(event: FeedEvent) -> None:
        raise AssertionError(f"nothing to tell yet: {event}")

    await poll_all([FeedState(url)], client, spool=Spool.of(index_dir))
    hostile.feed_answer = "unavailable"
    first = Refresher(Newsroom([url], index_dir, semantic=False), policy, told)
    assert first.feeds[url].validators.etag == ETAG  # taken up from the spool
    first.feeds[url] = replace(first.feeds[url], next_check=None)  # due now
    assert await first.check(client) == []
    failed = first.feeds[url]
    assert (failed.failures, failed.last_error) == (1, "HTTP status 503")

    restarted = Refresher(Newsroom([url], index_dir, semantic=False), policy, told)
    state = restarted.feeds[url]
    assert state == failed  # failures, first failure, next check, validators, last success
    assert state.failing_since is not None and state.last_success is not None


def test_a_next_check_set_under_a_longer_policy_is_brought_forward(tmp_path: Path) -> None:
    spool, now = Spool(tmp_path), datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
    url = "https://example.org/feed"
    far = FeedState(url, failures=3, next_check=now + timedelta(days=1))
    spool.save(url, SpooledFeed(far))
    states, digests = spool.resume(
        [url, "https://example.org/new"], RefreshPolicy(max_wait=60.0), now
    )
    assert states[url] == replace(far, next_check=now + timedelta(seconds=60))
    assert states["https://example.org/new"] == FeedState("https://example.org/new")
    assert digests == {}


def test_a_state_that_does_not_parse_is_absent(tmp_path: Path) -> None:
    spool, url = Spool(tmp_path), "https://example.org/feed"
    spool.save(url, SpooledFeed(FeedState(url, failures=2)))
    [state_file] = tmp_path.glob("*.json")
    state_file.write_text("{torn")
    assert spool.feed(url) is None
