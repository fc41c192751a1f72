"""Fault injection: floods (429), failures (5xx, 401), delays and blocked users."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tests.fake_telegram.state import Call, TelegramState
from tests.fake_telegram_html import (
    ApiError,
)


@dataclass
class Fault:
    """One knob: which calls it hits, how often, and what it does to them."""

    kind: str  # "flood", "fail" or "delay"
    method: str | None  # lower-case name, None for every method
    times: int | None  # how many more calls it hits; None: until `until` or clear_faults()
    until: float | None = None  # time.monotonic() deadline
    share: float = 1.0  # chance that a call is hit (seeded RNG)
    status: int = 0
    retry_after: float = 0
    seconds: float = 0.0
    execute_first: bool = False


class FaultInjection(TelegramState):
    """The knobs a test turns, and how they act on each call."""

    def flood(
        self,
        method: str | None,
        *,
        times: int | None = 1,
        share: float = 1.0,
        retry_after: float = 1,
    ) -> None:
        """Answer 429 "retry after `retry_after`" to the next `times` calls of `method`.

        With `share` < 1 each call is hit with that chance (seeded RNG); `times=None` keeps the
        knob on until `clear_faults()`. `method=None` hits every method. Telegram sends whole
        seconds; a fraction such as 0.05 keeps tests of PTB's AIORateLimiter fast.
        """
        self._add(Fault("flood", method, times, share=share, retry_after=retry_after))

    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 502,
        times: int | None = None,
        seconds: float | None = None,
        share: float = 1.0,
    ) -> None:
        """Answer HTTP `status` to the next `times` calls, or to every call for `seconds`."""
        until = time.monotonic() + seconds if seconds is not None else None
        self._add(Fault("fail", method, times, until=until, share=share, status=status))

    def delay(
        self,
        seconds: float,
        method: str | None = None,
        *,
        times: int | None = None,
        execute_first: bool = False,
    ) -> None:
        """Hold answers for `seconds`, to make the bot time out.

        With `execute_first` the call takes effect before the wait, so a bot that times out and
        retries sends twice, as it would against the real API.
        """
        self._add(Fault("delay", method, times, seconds=seconds, execute_first=execute_first))

    def clear_faults(self) -> None:
        """Remove every flood, fail and delay knob."""
        self._faults.clear()

    def reject_token(self) -> None:
        """Answer 401 Unauthorized to every call, as Telegram does once the token is revoked.

        python-telegram-bot raises `InvalidToken` for it, with the token in the message.
        """
        self._add(Fault("fail", None, None, status=401))

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """Make the user of private chat `chat_id` block (or unblock) the bot: 403 on sends."""
        self.add_chat(chat_id).blocked = blocked

    async def _run(self, call: Call) -> Any:
        """Run the method's handler (sendMessage: `_send_message`) and the faults that hit it."""
        handler = getattr(self, "_" + re.sub(r"[A-Z]", lambda c: "_" + c[0].lower(), call.method))
        faults = self._hits(call.method.lower())
        late = [f for f in faults if f.kind == "delay" and f.execute_first]
        for fault in faults:
            if fault.kind == "delay" and not fault.execute_first:
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "flood":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            elif fault.kind == "fail":
                raise ApiError(fault.status, HTTPStatus(fault.status).phrase)
        result = await handler(call.params)
        for fault in late:
            await asyncio.sleep(fault.seconds)
        return result

    def _add(self, fault: Fault) -> None:
        fault.method = fault.method.lower() if fault.method else None
        self._faults.append(fault)

    def _hits(self, method: str) -> list[Fault]:
        now = time.monotonic()
        self._faults = [
            f for f in self._faults if f.times != 0 and (f.until is None or f.until > now)
        ]
        hits = []
        for fault in self._faults:
            if fault.method not in (None, method):
                continue
            if fault.share < 1.0 and self._rng.random() >= fault.share:
                continue
            if fault.times is not None:
                fault.times -= 1
            hits.append(fault)
        return hits
