"""One bounded HTTP fetch: the build's reading of feeds and the bot's poller both go through it.

Every limit of a fetch has its home here (`FetchLimits`), and each holds whatever the server does:

- one deadline for the whole request: name resolution, connect, response headers (however slowly
  they come), redirects and body, under one `asyncio.timeout` (per-read timeouts alone let a
  server that trickles a byte a second hold a fetch, and the build's lock, for ever);
- a cap on the bytes received, and another on the bytes decompressed, counted as they are
  inflated: the raw stream is read (`aiter_raw`) and inflated here by `zlib.decompressobj` with
  `max_length`, 64 KiB at a time, so a gzip bomb stops at the cap instead of at the memory's end;
- at most one content encoding (gzip or deflate); `gzip, gzip` multiplies a bomb and is refused;
- http(s) only, at most `MAX_REDIRECTS` redirects, and a redirect that leaves the configured
  URL's origin is followed only to a public address (its host resolved and every address checked
  before any connection is made) unless `NEWSBOT_ALLOW_PRIVATE_FEEDS` is set. The configured URL
  itself is fetched wherever it points: the operator chose it.

Inflating, hashing and writing the body run in a worker thread, chunk by chunk, so a poll in the
bot's event loop never stalls it; with `into`, the body goes to a file as it comes (the spool's
temporary file), so memory does not grow with the body either.

Known limit: a name is resolved for the check and again by the connection, so a DNS server that
answers differently the second time (rebinding) is not stopped by the check.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import re
import socket
import threading
import urllib.parse
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

FETCH_TIMEOUT = 10.0  # seconds for a whole fetch
MAX_BYTES = 20_000_000  # bytes received
MAX_DECODED = 20_000_000  # bytes once decompressed
MAX_REDIRECTS = 5
USER_AGENT = "newsbot/0.1 (feed reader)"
ALLOW_PRIVATE_ENV = "NEWSBOT_ALLOW_PRIVATE_FEEDS"
ACCEPT_ENCODING = "gzip, deflate"
HEAD_BYTES = 1 << 16  # the start of a body kept for the channel's <ttl>

_STEP = 1 << 16  # bytes inflated per call, so that one call's work is bounded
_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib detects either header
_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """The bounds of one fetch.

    Attributes:
        timeout: Seconds for the whole fetch: resolution, connect, headers, redirects, body.
        max_bytes: Most bytes received (the body as sent, compressed or not).
        max_decoded: Most bytes once decompressed.
        max_redirects: Most redirects followed.
        allow_private: Follow redirects to loopback, private, link-local and reserved
            addresses too (`NEWSBOT_ALLOW_PRIVATE_FEEDS`).
    """

    timeout: float = FETCH_TIMEOUT
    max_bytes: int = MAX_BYTES
    max_decoded: int = MAX_DECODED
    max_redirects: int = MAX_REDIRECTS
    allow_private: bool = False


def limits_from_env(env: Mapping[str, str] | None = None) -> FetchLimits:
    """Return the default limits, private redirects allowed when `$NEWSBOT_ALLOW_PRIVATE_FEEDS`."""
    env = os.environ if env is None else env
    return FetchLimits(allow_private=env.get(ALLOW_PRIVATE_ENV, "").strip().lower() in _TRUE)


class FetchError(Exception):
    """A fetch that failed, with one short reason and, when the server gave one, Retry-After."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies the version we have."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """Return the conditional request headers these validators allow."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


NO_VALIDATORS = Validators()  # a first fetch's


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch: a new body (200) or "not modified" (304).

    Attributes:
        status: 200 or 304.
        validators: The validators to send next time.
        body: The decompressed body, when it was kept in memory (not written `into` a file).
        size: Its length in bytes.
        sha256: Its SHA-256, hex (None for a 304).
        head: Its first `HEAD_BYTES`.
        content_type: The Content-Type header.
        max_age: Seconds the response may be reused (`Cache-Control: max-age` less `Age`).
    """

    status: int
    validators: Validators
    body: bytes | None = None
    size: int = 0
    sha256: str | None = None
    head: bytes = b""
    content_type: str | None = None
    max_age: float | None = None


def new_client(connections: int = 8, timeout: float = FETCH_TIMEOUT) -> httpx.AsyncClient:
    """Return a client for `fetch`: our User-Agent, redirects left to us, `connections` sockets."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators = Validators(),
    limits: FetchLimits = FetchLimits(),
    *,
    into: Path | None = None,
) -> Fetched:
    """GET `url` within `limits`, conditionally when there are validators.

    Args:
        client: The client to use (see `new_client`).
        url: The configured http(s) URL.
        validators: The validators of the version we have.
        limits: The bounds of the fetch.
        into: A file to write the body to (created or truncated; left for the caller to
            rename or remove); None keeps the body in memory (`Fetched.body`).

    Raises:
        FetchError: The URL could not be fetched within the limits, with the reason.
    """
    try:
        async with asyncio.timeout(limits.timeout):
            return await _follow(client, url, validators, limits, into)
    except (TimeoutError, httpx.TimeoutException):
        raise FetchError(f"timed out after {limits.timeout:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError, zlib.error) as exc:
        raise FetchError(f"fetch failed ({type(exc).__name__}: {str(exc)[:200]})") from None


def fetch_blocking(
    url: str,
    validators: Validators = Validators(),
    limits: FetchLimits = FetchLimits(),
    *,
    into: Path | None = None,
) -> Fetched:
    """Run `fetch` to its end from synchronous code (the build), on a loop of its own.

    The loop runs in a worker thread, so this works from any thread, one running an event loop
    included, and the one deadline of `fetch` holds here too.

    Raises:
        FetchError: As `fetch`.
    """

    async def run() -> Fetched:
        async with new_client(1, limits.timeout) as client:
            return await fetch(client, url, validators, limits, into=into)

    with ThreadPoolExecutor(1, thread_name_prefix="fetch") as pool:
        return pool.submit(asyncio.run, run()).result()


async def _follow(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators,
    limits: FetchLimits,
    into: Path | None,
) -> Fetched:
    """Follow redirects by hand within the rules, and read the final response."""
    headers = validators.headers()
    origin = _origin(url)
    for hop in range(limits.max_redirects + 1):
        if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
            raise FetchError(
                "redirected to a non-http(s) URL" if hop else "only http(s) feed URLs are read"
            )
        if hop and not limits.allow_private and _origin(url) != origin:
            await _refuse_private(url)
        async with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if response.status_code == 304:  # before redirects: a 304 is a 3xx too
                return Fetched(304, _validators(response, validators), max_age=_max_age(response))
            if response.has_redirect_location:  # not is_redirect: a 3xx may lack Location
                url = urllib.parse.urljoin(str(response.url), response.headers["location"])
                continue
            if response.status_code != 200:
                raise FetchError(
                    f"HTTP status {response.status_code}", _retry_after(response.headers)
                )
            return await _read(response, limits, into)
    raise FetchError(f"more than {limits.max_redirects} redirects")


async def _read(response: httpx.Response, limits: FetchLimits, into: Path | None) -> Fetched:
    """Read the body raw, inflate it in a worker thread within the caps, and describe it."""
    encoding = _encoding(response.headers)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise FetchError(f"larger than {limits.max_bytes:,} bytes")
    body = _Body(encoding, limits, into)
    try:
        async for chunk in response.aiter_raw():
            await asyncio.to_thread(body.feed, chunk)
        await asyncio.to_thread(body.finish)
    finally:
        body.close()
    return Fetched(
        200,
        _validators(response, Validators()),
        None if into else bytes(body.memory),
        body.size,
        body.digest.hexdigest(),
        bytes(body.head),
        response.headers.get("content-type"),
        _max_age(response),
    )


@dataclass
class _Body:
    """A body as it arrives: counted raw, inflated (one encoding at most), hashed and kept.

    `feed` and `finish` run in worker threads; `close` in the loop, under the same lock, so a
    fetch cut by its deadline never closes the file under a write.
    """

    encoding: str | None
    limits: FetchLimits
    into: Path | None
    received: int = 0
    size: int = 0
    memory: bytearray = field(default_factory=bytearray)
    head: bytearray = field(default_factory=bytearray)
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    _inflater: zlib._Decompress | None = None
    _file: BinaryIO | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False  # a thread the deadline left behind must not reopen the file

    def __post_init__(self) -> None:
        if self.encoding is not None:
            self._inflater = zlib.decompressobj(_GZIP_OR_ZLIB)

    def feed(self, raw: bytes) -> None:
        """Take one raw chunk: count it, inflate it step by step, keep what comes out."""
        with self._lock:
            if self._closed:
                return
            self.received += len(raw)
            if self.received > self.limits.max_bytes:
                raise FetchError(f"larger than {self.limits.max_bytes:,} bytes")
            if self._inflater is None:
                self._keep(raw)
                return
            data = raw
            while True:
                piece = self._inflater.decompress(data, _STEP)
                self._keep(piece)
                data = self._inflater.unconsumed_tail
                if self._inflater.eof and self._inflater.unused_data.strip(b"\0"):
                    # Another gzip member follows (concatenated gzip is one valid body).
                    data = self._inflater.unused_data + data
                    self._inflater = zlib.decompressobj(_GZIP_OR_ZLIB)
                if not data and len(piece) < _STEP:  # a full step may leave output pending
                    return

    def finish(self) -> None:
        """Flush what zlib holds back and make the file durable."""
        with self._lock:
            if self._closed:
                return
            if self._inflater is not None:
                self._keep(self._inflater.flush(_STEP))
            if self.into is not None and self._file is None:  # an empty body is a body too
                self._file = self.into.open("wb")
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file, if one was opened."""
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limits.max_decoded:
            raise FetchError(f"larger than {self.limits.max_decoded:,} bytes once decompressed")
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.digest.update(data)
        if self.into is None:
            self.memory += data
            return
        if self._file is None:
            self._file = self.into.open("wb")
        self._file.write(data)


def _encoding(headers: httpx.Headers) -> str | None:
    """Return the body's one content encoding (None: identity), or refuse the response."""
    names = [
        name.strip().lower()
        for value in headers.get_list("content-encoding")
        for name in value.split(",")
        if name.strip() and name.strip().lower() != "identity"
    ]
    if len(names) > 1:
        raise FetchError(f"more than one content encoding ({', '.join(names)})")
    if names and names[0] not in _ENCODINGS:
        raise FetchError(f"unsupported content encoding ({names[0][:40]})")
    return names[0] if names else None


def _origin(url: str) -> tuple[str, str, int | None]:
    """Return a URL's scheme, host and port (the default port for its scheme when absent)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return (
        scheme,
        (parts.hostname or "").lower(),
        parts.port or {"http": 80, "https": 443}.get(scheme),
    )


async def _refuse_private(url: str) -> None:
    """Refuse a redirect whose host is, or resolves to, a non-public address."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host:
        raise FetchError("redirected to a URL without a host")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 80, type=socket.SOCK_STREAM
        )
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not is_public(address):
            raise FetchError(f"redirected to a non-public address ({address})")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Return whether `address` is a public unicast one (not loopback, private, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _validators(response: httpx.Response, previous: Validators) -> Validators:
    """Return the response's validators; a 304 without them keeps the previous ones."""
    return Validators(
        response.headers.get("etag") or previous.etag,
        response.headers.get("last-modified") or previous.last_modified,
    )


def _max_age(response: httpx.Response) -> float | None:
    """Return `Cache-Control: max-age` less `Age`, in seconds, or None."""
    match = _MAX_AGE.search(response.headers.get("cache-control", ""))
    if match is None:
        return None
    age = response.headers.get("age", "").strip()
    return max(0.0, float(match[1]) - (float(age) if age.isdigit() else 0.0))


def _retry_after(headers: httpx.Headers) -> float | None:
    """Return a Retry-After given in seconds, or None (HTTP dates are not worth the parse)."""
    value = headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None
