"""Bot settings from the environment: one clear line when something is wrong, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import TELEGRAM_API_URL, Settings, SettingsError

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN is not set"):
        Settings.from_env({})


def test_malformed_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "not-a-token-secretpart"})
    assert "secretpart" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_defaults_and_parsing(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "NEWSBOT_ADMIN_IDS": " 42, 7 ,",
            "NEWSBOT_SOURCES": "a, b",
            "NEWSBOT_INDEX_DIR": str(tmp_path),
        }
    )
    assert settings.admin_ids == frozenset({42, 7})
    assert settings.sources == ("a", "b")
    assert settings.index_dir == tmp_path
    assert settings.api_url == TELEGRAM_API_URL
    assert settings.webhook is None
    assert TOKEN not in repr(settings)


def test_admin_ids_must_be_numeric() -> None:
    with pytest.raises(SettingsError, match="numeric"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_ADMIN_IDS": "@alice"})


def test_webhook_needs_https_url_and_secret() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_WEBHOOK_URL": "http://x"}
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env(env, webhook=True)
    env["NEWSBOT_WEBHOOK_URL"] = "https://bot.example.org/hook"
    with pytest.raises(SettingsError, match="secret token"):
        Settings.from_env(env, webhook=True)
    hook = Settings.from_env(env, webhook=True, webhook_overrides={"secret_token": "s3cr-t"})
    assert hook.webhook is not None
    assert (hook.webhook.url, hook.webhook.port, hook.webhook.listen) == (
        "https://bot.example.org/hook",
        8443,
        "127.0.0.1",
    )
    assert "s3cr-t" not in repr(hook)
