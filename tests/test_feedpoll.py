"""Feed polling: conditional requests against a real loopback server, the schedule, alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web

from index.sources.feedpoll import feed_client, feed_ttl, fetch_feed, poll_all, poll_feed
from index.sources.feedschedule import (
    FeedError,
    FeedEvent,
    FeedResponse,
    FeedState,
    RefreshPolicy,
    after_failure,
    after_success,
    failure_delay,
    refresh_from_env,
    success_delay,
)
from index.sources.fetch import Validators

ETAG = '"v1"'
LAST_MODIFIED = "Wed, 11 Feb 2026 10:00:00 GMT"
START = datetime(2026, 2, 11, 12, 0, tzinfo=UTC)


def rss(ttl: int | None = None, items: int = 2) -> bytes:
    """Return a small RSS feed, with a channel `<ttl>` in minutes when given."""
    head = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    entries = "".join(
        f"<item><title>Story {n}</title><description>Text {n}.</description></item>"
        for n in range(items)
    )
    channel = f"<channel><title>Wire</title>{head}{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@dataclass
class FeedServer:
    """A loopback feed server that records what it was asked and how many at once."""

    base: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    broken: bool = False

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def feed(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.headers))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(float(request.query.get("delay", "0")))
        finally:
            self.in_flight -= 1
        headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers=headers)
        return web.Response(body=rss(), headers=headers, content_type="application/rss+xml")

    async def ttl(self, request: web.Request) -> web.Response:
        return web.Response(body=rss(ttl=30), content_type="application/rss+xml")

    async def max_age(self, request: web.Request) -> web.Response:
        headers = {"Cache-Control": f"public, max-age={request.query['s']}", "Age": "600"}
        return web.Response(body=rss(), headers=headers, content_type="application/rss+xml")

    async def to_ftp(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("ftp://127.0.0.1/feed.xml")

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # no Content-Length: chunked, counted while read
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"x" * 1000)
        return response

    async def slow(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"<")
            await asyncio.sleep(0.05)
        return response

    async def unavailable(self, request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "7200"})

    async def flaky(self, request: web.Request) -> web.Response:
        if self.broken:
            return web.Response(status=500)
        return web.Response(body=rss(), content_type="application/rss+xml")


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feeds = FeedServer()
    app = web.Application()
    app.router.add_get("/feed/{n}", feeds.feed)
    app.router.add_get("/ttl", feeds.ttl)
    app.router.add_get("/max-age", feeds.max_age)
    app.router.add_get("/to-ftp", feeds.to_ftp)
    app.router.add_get("/loop", feeds.loop)
    app.router.add_get("/big", feeds.big)
    app.router.add_get("/slow", feeds.slow)
    app.router.add_get("/unavailable", feeds.unavailable)
    app.router.add_get("/flaky", feeds.flaky)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    feeds.base = f"http://127.0.0.1:{port}"
    try:
        yield feeds
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with feed_client() as polling:
        yield polling


# -- conditional requests over HTTP ----------------------------------------------------------------


@pytest.mark.process
async def test_second_fetch_sends_the_validators_and_gets_304(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    first = await fetch_feed(client, server.url("/feed/1"))
    assert first.status == 200
    assert first.body == rss()
    assert first.validators == Validators(ETAG, LAST_MODIFIED)
    assert "If-None-Match" not in server.requests[0]

    second = await fetch_feed(client, server.url("/feed/1"), first.validators)
    assert (second.status, second.body) == (304, None)
    assert second.validators == Validators(ETAG, LAST_MODIFIED)
    assert server.requests[1]["If-None-Match"] == ETAG
    assert server.requests[1]["If-Modified-Since"] == LAST_MODIFIED
    assert server.requests[1]["User-Agent"] == "newsbot/0.1 (feed reader)"


@pytest.mark.process
async def test_a_304_keeps_the_ttl_of_the_last_body(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    state = FeedState(server.url("/feed/1"), ttl=1800.0)
    poll = await poll_feed(client, state, RefreshPolicy(), now=START)
    assert poll.response is not None and poll.response.status == 200
    assert poll.delay == 600.0  # the new body has no <ttl>
    state = FeedState(server.url("/feed/1"), Validators(ETAG, LAST_MODIFIED), ttl=1800.0)
    poll = await poll_feed(client, state, RefreshPolicy(), now=START)
    assert poll.response is not None and poll.response.status == 304
    assert poll.delay == 1800.0
    assert poll.state.next_check == START + timedelta(seconds=1800)


@pytest.mark.process
async def test_the_feeds_ttl_lengthens_the_wait(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    poll = await poll_feed(client, FeedState(server.url("/ttl")), RefreshPolicy(), now=START)
    assert poll.response is not None and poll.response.ttl == 1800.0
    assert poll.delay == 1800.0


@pytest.mark.process
@pytest.mark.parametrize(
    ("max_age", "delay"), [("3600", 3000.0), ("5", 600.0), ("999999", 86400.0)]
)
async def test_max_age_lengthens_the_wait_never_shortens_it(
    server: FeedServer, client: httpx.AsyncClient, max_age: str, delay: float
) -> None:
    url = server.url(f"/max-age?s={max_age}")
    poll = await poll_feed(client, FeedState(url), RefreshPolicy(), now=START)
    assert poll.delay == delay  # max-age less Age (600 s), between the refresh and a day


@pytest.mark.process
@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-ftp", "redirected to a non-http(s) URL"),
        ("/loop", "more than 5 redirects"),
        ("/big", "larger than 5,000 bytes"),
        ("/unavailable", "HTTP status 503"),
    ],
)
async def test_the_ingest_safety_rules_hold(
    server: FeedServer, client: httpx.AsyncClient, path: str, reason: str
) -> None:
    with pytest.raises(FeedError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        await fetch_feed(client, server.url(path), max_bytes=5_000)


@pytest.mark.process
async def test_a_trickling_feed_is_cut_at_the_total_time_limit(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(FeedError, match=r"timed out after 0.5 s"):
        await fetch_feed(client, server.url("/slow"), timeout=0.5)
    assert loop.time() - started < 1.5


async def test_only_http_urls_are_fetched(client: httpx.AsyncClient) -> None:
    with pytest.raises(FeedError, match=r"only http\(s\) feed URLs are read"):
        await fetch_feed(client, "file:///etc/passwd")


@pytest.mark.process
async def test_retry_after_lengthens_the_backoff(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    poll = await poll_feed(client, FeedState(server.url("/unavailable")), now=START)
    assert poll.response is None
    assert poll.state.last_error == "HTTP status 503"
    assert poll.delay == 7200.0  # Retry-After beats the first backoff (~600 s)


@pytest.mark.process
async def test_failing_for_a_day_alerts_once_and_recovery_once(
    server: FeedServer, client: httpx.AsyncClient
) -> None:
    server.broken = True
    state, now, events = FeedState(server.url("/flaky")), START, []
    while now < START + timedelta(hours=48):
        poll = await poll_feed(client, state, now=now)
        state, now = poll.state, now + timedelta(seconds=poll.delay)
        events += [poll.event] if poll.event else []
    assert state.failures >= 9
    assert events == [FeedEvent("failing", state.url, START, "HTTP status 500")]
    server.broken = False
    first = await poll_feed(client, state, now=now)
    second = await poll_feed(client, first.state, now=now)
    assert first.event == FeedEvent("recovered", state.url, START)
    assert second.event is None
    assert (first.state.failures, first.state.failing_since) == (0, None)
    assert first.state.last_error == "HTTP status 500"  # kept for /feeds


@pytest.mark.process
async def test_poll_all_keeps_at_most_limit_requests_in_flight(server: FeedServer) -> None:
    feeds = [FeedState(server.url(f"/feed/{n}?delay=0.02")) for n in range(200)]
    wide = httpx.Limits(max_connections=100)  # so that the limit comes from poll_all
    async with httpx.AsyncClient(limits=wide) as client:
        polls = await poll_all(feeds, client, limit=8, now=START)
    assert len(server.requests) == 200
    assert server.most_in_flight == 8
    assert [p.state.url for p in polls] == [f.url for f in feeds]
    assert {p.response.status for p in polls if p.response} == {200}


# -- the schedule, as pure functions ---------------------------------------------------------------


def test_success_delay_is_the_refresh_lengthened_by_the_feed_within_floor_and_a_day() -> None:
    policy = RefreshPolicy()
    assert success_delay(policy, None, None) == 600.0
    assert success_delay(policy, 1800.0, None) == 1800.0
    assert success_delay(policy, 60.0, 3600.0) == 3600.0
    assert success_delay(policy, 1e9, None) == 86400.0
    assert success_delay(RefreshPolicy(refresh=10.0), None, None) == 60.0  # the floor


def test_backoff_doubles_and_caps_at_a_day() -> None:
    policy = RefreshPolicy()
    waits = [failure_delay(policy, n, jitter=0.5) for n in range(1, 11)]
    assert waits == [600, 1200, 2400, 4800, 9600, 19200, 38400, 76800, 86400, 86400]
    assert failure_delay(policy, 1, jitter=0.0) == 540.0
    assert failure_delay(policy, 1, jitter=0.999) == pytest.approx(659.88)
    assert failure_delay(policy, 500, jitter=0.999) == 86400.0
    assert failure_delay(RefreshPolicy(refresh=10.0), 1, jitter=0.0) == 60.0  # the floor


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_the_first_failing_alert_comes_within_a_day_and_one_interval(jitter: float) -> None:
    # Issue #18: doubling waits checked at 21.2 h, then at 42.5 h: the alert came 42.5 h late.
    policy, state, now = RefreshPolicy(), FeedState("https://example.org/feed"), START
    while True:
        state, event, delay = after_failure(
            state, FeedError("HTTP status 503"), now, policy, jitter
        )
        if event is not None:
            break
        now += timedelta(seconds=delay)
        assert now < START + timedelta(days=3)
    assert event == FeedEvent("failing", state.url, START, "HTTP status 503")
    assert START + timedelta(hours=24) <= now <= START + timedelta(hours=24, seconds=policy.refresh)
    _, _, after = after_failure(state, FeedError("HTTP status 503"), now, policy, jitter)
    assert after == 86_400.0  # told: back to the plain backoff, capped at a day


def test_after_failure_and_success_keep_the_record() -> None:
    state = FeedState("https://example.org/feed", articles=12)
    state, event, delay = after_failure(
        state, FeedError("HTTP status 502"), START, RefreshPolicy(), 0.5
    )
    assert (state.failures, state.failing_since, state.last_error_at, event) == (
        1,
        START,
        START,
        None,
    )
    assert state.next_check == START + timedelta(seconds=delay)
    later = START + timedelta(minutes=10)
    response = FeedResponse(200, b"<rss/>", Validators('"v2"', None))
    state, event, delay = after_success(state, response, later, RefreshPolicy(), articles=15)
    assert state == FeedState(
        "https://example.org/feed",
        validators=Validators('"v2"', None),
        last_success=later,
        last_error="HTTP status 502",
        last_error_at=START,
        articles=15,
        next_check=later + timedelta(minutes=10),
    )
    assert event is None  # no one was told it failed, so no one is told it recovered
    assert state.due(later + timedelta(minutes=10)) and not state.due(later)


def test_feed_ttl_reads_the_channel_only() -> None:
    assert feed_ttl(rss(ttl=45)) == 2700.0
    assert feed_ttl(rss()) is None
    item = b"<item><description><![CDATA[<ttl>999</ttl>]]></description></item>"
    in_item = b"<rss><channel>" + item + b"</channel></rss>"
    assert feed_ttl(in_item) is None


def test_refresh_from_the_environment() -> None:
    assert refresh_from_env({}).refresh == 600.0
    assert refresh_from_env({"NEWSBOT_REFRESH": "15m"}).refresh == 900.0
    assert refresh_from_env({"NEWSBOT_REFRESH": " 1h "}).refresh == 3600.0
    assert refresh_from_env({"NEWSBOT_REFRESH": "90"}).refresh == 90.0
    with pytest.raises(ValueError, match="NEWSBOT_REFRESH: at least 60 s, got '30s'"):
        refresh_from_env({"NEWSBOT_REFRESH": "30s"})
    with pytest.raises(ValueError, match="NEWSBOT_REFRESH: not a duration: 'often'"):
        refresh_from_env({"NEWSBOT_REFRESH": "often"})
