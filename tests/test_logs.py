"""The bot token never appears in a log record, whoever handles it."""

from __future__ import annotations

import logging

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
