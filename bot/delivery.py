"""Delivery that survives Telegram's bad moments: flood control and transient failures.

python-telegram-bot's `AIORateLimiter` keeps under Telegram's sending limits and waits out a 429
`retry_after`. It does not retry a call that meets a 5xx, a dropped connection or a timeout, so
such a reply would be lost. `PatientRateLimiter` retries those too, with exponential backoff.
A timed-out call may have reached Telegram, so a retry can rarely send a message twice: a
duplicate reply is a lesser harm than a lost one. Requests Telegram refused on their merits
(400 Bad Request, 403 Forbidden) are not retried, and long polls are left to the updater, which
has its own retry loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


class PatientRateLimiter(AIORateLimiter):
    """`AIORateLimiter` that also retries 5xx answers, dropped connections and timeouts."""

    def __init__(
        self, *, network_retries: int = 5, first_backoff: float = 0.5, **options: Any
    ) -> None:
        super().__init__(**options)
        self._network_retries = network_retries
        self._first_backoff = first_backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Send through the rate limiter; retry network failures with backoff."""
        backoff = self._first_backoff
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if endpoint == "getUpdates" or attempt == self._network_retries:
                    raise
                log.warning(
                    "%s failed (%s); retry %d of %d in %.1f s",
                    endpoint,
                    exc.message,
                    attempt + 1,
                    self._network_retries,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)
        raise AssertionError("unreachable")  # pragma: no cover
