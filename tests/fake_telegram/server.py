"""The fake Bot API server: lifecycle and HTTP, and a thread wrapper for synchronous callers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from tests.fake_telegram.faults import FaultInjection
from tests.fake_telegram.methods import METHODS, BotApiMethods
from tests.fake_telegram.state import Call, T
from tests.fake_telegram.users import SimulatedUsers
from tests.fake_telegram_html import (
    ApiError,
    Params,
    bad_request,
    decode_param,
)


class FakeTelegram(SimulatedUsers, BotApiMethods, FaultInjection):
    """The fake Bot API for one bot. Start with `async with` or `start()`/`stop()`."""

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What PTB takes as `base_url`: it requests f"{base_url}{token}/{method}"."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1, on an ephemeral port the first time, on the same port after."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, and close every connection."""
        self._closing = True
        self._notify()
        if self._delivery:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        await self.pause()
        self._closing = False

    async def pause(self) -> None:
        """Drop every connection and refuse new ones (state is kept) until `resume()`."""
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def resume(self) -> None:
        """Accept connections again, on the same port."""
        await self.start()

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        call = Call(METHODS.get(name.lower(), name), {}, time.monotonic())
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            call.params = await _read_params(request)
            if name.lower() not in METHODS:
                raise ApiError(404, "Not Found")
            result = await self._run(call)
            body: Params = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            body, status = error.body(), error.code
        except Exception as exc:  # a bug here must reach the test, not hang it
            body, status = ApiError(500, f"fake Telegram crashed: {exc!r}").body(), 500
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status)

    async def _download(self, request: web.Request) -> web.Response:
        """Serve a file a user sent, by the path `getFile` gave, as Telegram's file server."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        content = next((c for p, c in self.files.values() if p == path), None)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content)


async def _read_params(request: web.Request) -> Params:
    """Query string and body (JSON, urlencoded or multipart) as one dict of decoded values."""
    raw: Params = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        raw |= body
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            # An upload is kept as its file name, not its bytes.
            raw[name] = {"file_name": value.filename} if isinstance(value, web.FileField) else value
    return {name: decode_param(name, value) for name, value in raw.items()}


class FakeTelegramThread:
    """A `FakeTelegram` on its own event loop in a daemon thread, for synchronous callers.

    Knobs (`flood`, `fail`, `block`, ...) are plain methods and may be called from any thread;
    coroutines (`send_*`, `wait_*`, `pause`) go through `run`.

    with FakeTelegramThread() as fake:
        bot_process(base_url=fake.base_url, token=fake.token)
        fake.run(fake.server.send_text(42, "hello"))
        fake.run(fake.server.wait_for_messages(42))
    """

    def __init__(self, **options: Any) -> None:
        """Take the `FakeTelegram` constructor's keyword arguments."""
        self._options = options
        self._loop: asyncio.AbstractEventLoop
        self._thread: threading.Thread
        self.server: FakeTelegram

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def token(self) -> str:
        return self.server.token

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run `coroutine` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __enter__(self) -> FakeTelegramThread:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-telegram")
        self._thread.daemon = True
        self._thread.start()

        async def started() -> FakeTelegram:
            server = FakeTelegram(**self._options)
            await server.start()
            return server

        self.server = self.run(started())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.run(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
