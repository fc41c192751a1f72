"""Logging that never shows the bot token.

Every log record is redacted as a logger makes it (`Logger.makeRecord`, so after `extra=` fields
are attached), before any filter, handler or formatter sees it: the message and its arguments,
the `extra=` fields, the stack, and the exception itself (its `args`, its string attributes and
notes, and those of its causes), so that a formatter that reads `record.exc_info` (a JSON
formatter, an error tracker) is as safe as the standard one. An uncaught exception's traceback is
redacted too (`sys.excepthook`). httpx is turned down to WARNING as well, since it logs each
request URL and Telegram's URLs contain the token.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

REDACTED = "<redacted-token>"

# What every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_secrets: set[str] = set()
_installed: list[bool] = []


def redact(text: str) -> str:
    """Return `text` with every registered secret replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):  # the whole token before its half
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
    if not _installed:
        logging.Logger.makeRecord = _redacting(logging.Logger.makeRecord)  # type: ignore[method-assign]
        sys.excepthook = _print_redacted
        _installed.append(True)


def redact_record(record: logging.LogRecord) -> None:
    """Remove every registered secret from `record`, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the raw parts
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), None
    for name, value in list(vars(record).items()):
        if name not in _RECORD_FIELDS:
            setattr(record, name, _redacted_value(value))
    error = record.exc_info[1] if record.exc_info else None
    if record.exc_info and error is not None and not redact_exception(error):
        # Its text is computed from parts we cannot reach: keep only the redacted text.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        record.exc_text = record.exc_text.rstrip("\n")
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def redact_exception(error: BaseException) -> bool:
    """Redact `error` and its causes in place; return whether their text is now free of secrets.

    Their `args`, string attributes (python-telegram-bot keeps its `message` in a slot) and notes
    are redacted; a secret that `str(error)` computes from other parts cannot be, hence the answer.
    """
    clean = True
    seen: set[int] = set()
    pending = [error]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        link.args = tuple(_redacted_strings(arg) for arg in link.args)
        slots = (name for kind in type(link).__mro__ for name in _slots(kind))
        for name in {*vars(link), *slots}:
            value = getattr(link, name, None)
            redacted = _redacted_strings(value)
            if redacted != value:
                setattr(link, name, redacted)
        clean = clean and not _has_secret(_text_of(link))
        pending.extend(e for e in (link.__cause__, link.__context__) if e is not None)
    return clean


def _slots(kind: type) -> tuple[str, ...]:
    slots = vars(kind).get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _redacted_strings(value: Any) -> Any:
    """Return `value` with secrets redacted if it is a string, or a list or tuple of strings."""
    if isinstance(value, str):
        return redact(value)
    if type(value) in (list, tuple) and all(isinstance(item, str) for item in value):
        return type(value)(redact(item) for item in value)
    return value


def _redacted_value(value: Any) -> Any:
    """Return `value` (an `extra=` field) without secrets.

    Strings, alone or in a list or tuple, are redacted; an exception is redacted in place; any
    other value whose text shows a secret is replaced by its redacted text.
    """
    value = _redacted_strings(value)
    if isinstance(value, BaseException) and redact_exception(value):
        return value
    return redact(_text_of(value)) if _has_secret(_text_of(value)) else value


def _text_of(value: object) -> str:
    try:
        return f"{value} {value!r}"
    except Exception:  # a broken __str__ shows nothing
        return ""


def _has_secret(text: str) -> bool:
    return any(secret in text for secret in _secrets)


def _redacting(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if _secrets:
            redact_record(record)
        return record

    return make_record


def _print_redacted(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """Print an uncaught exception's traceback to stderr without secrets."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))


def configure(level: int = logging.INFO) -> None:
    """Log to stderr at `level`, with httpx (which logs URLs) at WARNING."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
