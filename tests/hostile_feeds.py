"""A loopback feed server that misbehaves on purpose: bombs, trickles, pages that are not feeds.

Used by `tests/test_fetch.py` and `bench/hostile_feeds.py`. It runs in threads (so a synchronous
build and an asyncio poller can both be pointed at it), listens on 127.0.0.1 only, and counts
every request by path, so a test can prove that something was *not* asked.

Routes:
    /feed              RSS with an ETag (304 when If-None-Match matches); `feed_answer`
                       "unavailable" makes it a 503, "bomb" the gzip bomb
    /gzip-bomb         `Content-Encoding: gzip`, `bomb_bytes` zeros compressed once
    /stacked-bomb      `Content-Encoding: gzip, gzip`, compressed twice
    /entity-bomb       RSS whose description is `entity_bytes` of references to a
                       100-character entity declared in its DOCTYPE
    /big-feed          a plain RSS feed of about `entity_bytes` (what the entity bomb weighs)
    /slow-headers      the status line, then a header byte every `trickle` s for `hold` s
    /checking-browser  200, an HTML "checking your browser" page
    /unavailable       503 with Retry-After
    /redirect?to=URL   302 to URL
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
import urllib.parse
import zlib
from collections import Counter
from functools import cache
from typing import Self

ETAG = '"hostile-1"'
ENTITY = "x" * 100
CHECKING_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<h1>Checking your browser before accessing the site.</h1></body></html>"
)


def rss(items: int = 3) -> bytes:
    """Return a small RSS feed of `items` items."""
    entries = "".join(
        f"<item><title>Story {n}</title><guid>story-{n}</guid>"
        f"<description>The council met on day {n} to discuss the harbour.</description></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile Wire</title>'
        f"{entries}</channel></rss>"
    ).encode()


def entity_bomb(size: int, length: int = len(ENTITY)) -> bytes:
    """Return an RSS feed of about `size` bytes of references to one `length`-character entity."""
    refs = "&a;" * (size // 3)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{"x" * length}">\n]>\n'
        f'<rss version="2.0"><channel><title>Bomb</title><item><title>Boom</title>'
        f"<description>{refs}</description></item></channel></rss>"
    ).encode()


def big_feed(size: int) -> bytes:
    """Return a plain RSS feed of about `size` bytes: one item of many words."""
    words = "harbour " * (size // 8)
    return (
        f'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Big</title><item>'
        f"<title>Long</title><description>{words}</description></item></channel></rss>"
    ).encode()


@cache
def gzip_bomb(size: int) -> bytes:
    """Return `size` zero bytes gzipped (compressed a MiB at a time, never held whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros, parts, left = bytes(1 << 20), [], size
    while left > 0:
        parts.append(packer.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    parts.append(packer.flush())
    return b"".join(parts)


@cache
def stacked_bomb(size: int) -> bytes:
    """Return `size` zero bytes gzipped twice (what `Content-Encoding: gzip, gzip` unpacks)."""
    return gzip.compress(gzip_bomb(size), 9)


class QuietServer(http.server.ThreadingHTTPServer):
    """A threading server that says nothing when a client hangs up (the benches' too)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up on a bomb or a trickle is the point


class LoopbackServer:
    """A `QuietServer` on 127.0.0.1 served from a thread: `with` starts it, leaving stops it.

    `stop` is set first on leaving, so that routes which trickle or hold can end at once.
    """

    def __init__(
        self,
        handler: type[http.server.BaseHTTPRequestHandler],
        stop: threading.Event | None = None,
    ) -> None:
        self.stop = stop or threading.Event()
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


class HostileServer(LoopbackServer):
    """The server; a context manager. `url(path)` names a route, `asked[path]` counts requests."""

    def __init__(
        self,
        *,
        bomb_bytes: int = 200_000_000,
        entity_bytes: int = 2_000_000,
        trickle: float = 0.2,
        hold: float = 10.0,
    ) -> None:
        self.asked: Counter[str] = Counter()
        self.not_modified = 0  # 304s answered
        self.feed_answer = "ok"
        self.bomb_bytes = bomb_bytes
        self.entity_bytes = entity_bytes
        self.trickle = trickle
        self.hold = hold
        super().__init__(_handler(self))

    def url(self, path: str) -> str:
        """Return the URL of `path` on this server."""
        return f"{self.base}{path}"


def _handler(server: HostileServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            server.asked[parts.path] += 1
            if parts.path == "/redirect":
                target = urllib.parse.parse_qs(parts.query)["to"][0]
                self._send(302, b"", {"Location": target})
            elif parts.path == "/feed" and server.feed_answer == "unavailable":
                self._send(503, b"busy", {})
            elif parts.path == "/feed" and server.feed_answer == "bomb":
                self._send(200, gzip_bomb(server.bomb_bytes), {"Content-Encoding": "gzip"})
            elif parts.path == "/feed":
                if self.headers.get("If-None-Match") == ETAG:
                    server.not_modified += 1
                    self._send(304, b"", {"ETag": ETAG})
                else:
                    self._send(200, rss(), {"ETag": ETAG, "Content-Type": "application/rss+xml"})
            elif parts.path == "/gzip-bomb":
                self._send(200, gzip_bomb(server.bomb_bytes), {"Content-Encoding": "gzip"})
            elif parts.path == "/stacked-bomb":
                self._send(200, stacked_bomb(server.bomb_bytes), {"Content-Encoding": "gzip, gzip"})
            elif parts.path == "/big-feed":
                self._send(200, big_feed(server.entity_bytes), {})
            elif parts.path == "/entity-bomb":
                self._send(200, entity_bomb(server.entity_bytes), {})
            elif parts.path == "/slow-headers":
                self._slow_headers()
            elif parts.path == "/checking-browser":
                self._send(200, CHECKING_PAGE, {"Content-Type": "text/html"})
            elif parts.path == "/unavailable":
                self._send(503, b"busy", {"Retry-After": "120"})
            else:
                self._send(404, b"", {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _slow_headers(self) -> None:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            ends = time.monotonic() + server.hold
            while time.monotonic() < ends and not server.stop.wait(server.trickle):
                self.wfile.write(b"X")  # one byte of a header line that never ends
                self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler
