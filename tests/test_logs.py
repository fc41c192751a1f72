"""The bot token never appears in a log record, whoever handles it."""

from __future__ import annotations

import logging
import sys
import traceback

import pytest

from bot import logs

TOKEN = "987654321:AAE-SecretSecretSecretSecretSecret12"


def test_token_is_redacted_from_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logs.protect(TOKEN)
    logger = logging.getLogger("newsbot.test")
    with caplog.at_level(logging.DEBUG):
        logger.debug("POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logger.info(f"url with token inline {TOKEN}")
        logger.warning("secret half %s", TOKEN.split(":")[1])
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            logger.exception("failed")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert text.count(logs.REDACTED) >= 4
    assert "rejected by the server" in text


def test_configure_quiets_httpx() -> None:
    logs.configure(logging.DEBUG)
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING


class _TokenInUrl(Exception):
    """An exception whose text is computed from an attribute, like httpx's request errors."""

    def __init__(self, url_parts: dict[str, str]) -> None:
        super().__init__()
        self.url_parts = url_parts

    def __str__(self) -> str:
        return "GET {base}{token}/getMe failed".format_map(self.url_parts)


def _json_formatted(record: logging.LogRecord) -> str:
    """What a JSON formatter or error tracker sees: every field, the raw exception included."""
    fields = {name: repr(value) for name, value in vars(record).items()}
    if record.exc_info and record.exc_info[1] is not None:
        fields["exception"] = "".join(traceback.format_exception(record.exc_info[1]))
        fields["exception_args"] = repr(record.exc_info[1].args)
    return repr(fields)


def _logged_with_everything(logger: logging.Logger, error: BaseException) -> None:
    try:
        raise error
    except BaseException:
        logger.error(
            "getMe failed for %s",
            TOKEN,
            exc_info=True,
            stack_info=True,
            extra={"url": f"https://api.telegram.org/bot{TOKEN}/getMe", "attempt": [TOKEN]},
        )


@pytest.mark.parametrize(
    "error",
    [
        # What python-telegram-bot raises (bot.initialize), chained from the 401's own error.
        "invalid_token",
        "computed_str",
    ],
)
def test_exception_args_and_extra_fields_are_redacted_for_every_formatter(error: str) -> None:
    from telegram.error import InvalidToken

    logs.protect(TOKEN)
    if error == "invalid_token":
        try:
            try:
                raise InvalidToken(f"Unauthorized for {TOKEN}")
            except InvalidToken as cause:
                raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.") from cause
        except InvalidToken as rejected:
            raised: BaseException = rejected
    else:
        raised = _TokenInUrl({"base": "https://api.telegram.org/bot", "token": TOKEN})
    records: list[logging.LogRecord] = []
    collector = logging.Handler()
    collector.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("newsbot.test.formatters")
    logger.addHandler(collector)
    try:
        _logged_with_everything(logger, raised)
    finally:
        logger.removeHandler(collector)
    (record,) = records
    outputs = [
        logging.Formatter().format(record),
        logging.Formatter("%(message)s %(url)s %(attempt)s %(args)s").format(record),
        _json_formatted(record),
    ]
    for output in outputs:
        assert TOKEN not in output
        assert TOKEN.split(":")[1] not in output
        assert logs.REDACTED in output
    assert record.url == f"https://api.telegram.org/bot{logs.REDACTED}/getMe"  # type: ignore[attr-defined]
    assert record.attempt == [logs.REDACTED]  # type: ignore[attr-defined]
    assert record.getMessage() == f"getMe failed for {logs.REDACTED}"
    if error == "invalid_token":
        assert str(raised) == f"The token `{logs.REDACTED}` was rejected by the server."
        assert str(raised.__cause__) == f"Unauthorized for {logs.REDACTED}"
    else:  # its text cannot be redacted in place: only the redacted traceback text is kept
        assert record.exc_info is None
        assert f"GET https://api.telegram.org/bot{logs.REDACTED}/getMe failed" in outputs[0]


def test_uncaught_exception_traceback_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logs.protect(TOKEN)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert f"RuntimeError: The token `{logs.REDACTED}` was rejected by the server." in err
    assert TOKEN.split(":")[1] not in err
