"""Logging that never shows the bot token.

Every log record is redacted when it is created (a log record factory), so no handler, whoever
adds it, can see the token: not in messages, arguments, nor formatted tracebacks. httpx is turned
down to WARNING as well, since it logs each request URL and Telegram's URLs contain the token.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

REDACTED = "<redacted-token>"

_secrets: set[str] = set()
_factory_installed: list[bool] = []


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def protect(secret: str) -> None:
    """Register a secret (the bot token) to be redacted from every log record from now on."""
    if secret:
        _secrets.add(secret)
        # The part after the colon is the secret half; redact it alone too (it can be quoted).
        if ":" in secret:
            _secrets.add(secret.split(":", 1)[1])
    if not _factory_installed:
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
        _factory_installed.append(True)


def _redacting_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    return factory


def configure(level: int = logging.INFO) -> None:
    """Log to stderr at `level`, with httpx (which logs URLs) at WARNING."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
