"""Bot settings from the environment: one clear line when something is wrong, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import TELEGRAM_API_URL, Settings, SettingsError
from index.config import default_sources, is_url, split_sources

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


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("42, 0", "NEWSBOT_ADMIN_IDS must list user ids, which are positive; got 0 "),
        ("-1001234567890", "NEWSBOT_ADMIN_IDS must list user ids, which are positive; got -100"),
        ("777000", "NEWSBOT_ADMIN_IDS lists 777000, which is not a person: Telegram's service"),
        ("42,1087968824", "NEWSBOT_ADMIN_IDS lists 1087968824, which is not a person: GroupAnon"),
        ("136817688", "NEWSBOT_ADMIN_IDS lists 136817688, which is not a person: Channel_Bot"),
    ],
)
def test_admin_ids_refuse_groups_and_service_accounts(raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_ADMIN_IDS": raw})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_sources_and_index_dir_come_from_the_given_env_not_the_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_SOURCES", "process-feed")
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(tmp_path / "process"))
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSBOT_SOURCES": " ,, "})
    assert settings.sources == ("./seeds",)
    assert settings.index_dir != tmp_path / "process"
    flagged = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, index_dir=str(tmp_path / "flag"))
    assert flagged.index_dir == tmp_path / "flag"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://example.org/feed.xml", True),
        ("HTTP://example.org/rss", True),
        ("ftp://example.org/feed", True),
        ("./seeds", False),
        ("archive/2024://odd-folder", False),
        ("C:\\news", False),
    ],
)
def test_is_url_is_a_scheme_at_the_start(source: str, expected: bool) -> None:
    assert is_url(source) is expected


def test_split_sources_strips_and_drops_empty_parts() -> None:
    assert split_sources(" a.xml ,, https://x.org/rss , ") == ("a.xml", "https://x.org/rss")
    assert default_sources({}) == ["./seeds"]
    assert default_sources({"NEWSBOT_SOURCES": "b, c"}) == ["b", "c"]
