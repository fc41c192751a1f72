"""The bot's settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from bot.heartbeat import heartbeat_path
from bot.newsroom import DEFAULT_BUILD_TIMEOUT
from index.config import DEFAULT_SOURCES, SOURCES_ENV, default_index_dir, default_sources
from index.sources.feedschedule import REFRESH_ENV, RefreshPolicy, refresh_from_env
from index.text.timeframe import timezone_from_env

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
API_URL_ENV = "NEWSBOT_API_URL"
ADMIN_IDS_ENV = "NEWSBOT_ADMIN_IDS"
WEBHOOK_URL_ENV = "NEWSBOT_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "NEWSBOT_WEBHOOK_SECRET"
WEBHOOK_LISTEN_ENV = "NEWSBOT_WEBHOOK_LISTEN"
WEBHOOK_PORT_ENV = "NEWSBOT_WEBHOOK_PORT"
STATE_DB_ENV = "NEWSBOT_STATE_DB"
ALERTS_PER_HOUR_ENV = "NEWSBOT_ALERTS_PER_HOUR"
# Alerts a user gets in one clock hour; the rest come as one summary when the hour ends.
ALERTS_PER_HOUR = 6
BUILD_TIMEOUT_ENV = "NEWSBOT_BUILD_TIMEOUT"

TELEGRAM_API_URL = "https://api.telegram.org/bot"
TELEGRAM_FILE_URL = "https://api.telegram.org/file/bot"
# What BotFather issues: the bot's numeric id, a colon, and a 35-character secret.
_TOKEN_SHAPE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")
# A duration: seconds ("7200", "90s"), minutes ("30m", "30min") or hours ("2h").
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
# Telegram's rule for webhook secret tokens.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Senders Telegram puts on messages no one person wrote; an admin id among them would give
# /reindex to whoever posts that way (any anonymous group admin, any channel).
SERVICE_ACCOUNTS = {
    777000: "Telegram's service notifications and linked-channel posts",
    1087968824: "GroupAnonymousBot, the sender of every anonymous group admin",
    136817688: "Channel_Bot, the sender of messages posted on behalf of a channel",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line, without secrets."""


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Where Telegram posts updates in webhook mode."""

    url: str
    secret_token: str = field(repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443

    @property
    def path(self) -> str:
        """The path of `url` ("/tg" for https://bot.example.org/tg): what the bot serves.

        A reverse proxy forwards the request with its path, so the bot listens on that path
        rather than on "/".
        """
        return urlsplit(self.url).path


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot needs to start. The token is never part of `repr`."""

    token: str = field(repr=False)
    api_url: str = TELEGRAM_API_URL
    admin_ids: frozenset[int] = frozenset()
    sources: tuple[str, ...] = DEFAULT_SOURCES
    # Whether `sources` were configured (NEWSBOT_SOURCES); if not, the bot reads the sources
    # the index remembers, as `newsbot index` does, and `sources` only build a new index.
    sources_set: bool = True
    index_dir: Path = field(default_factory=default_index_dir)
    webhook: WebhookSettings | None = None
    # None: sources are read only by /reindex. `from_env` gives the 10-minute default.
    refresh: RefreshPolicy | None = None
    # Questions about time ("yesterday") are read in this zone (`index.text.timeframe`).
    timezone: tzinfo = UTC
    # Standing questions, digests and alerts (`bot.subscriptions`); None: nothing is kept and
    # /follow says so. `from_env` gives `state.sqlite3` in the per-user data folder.
    state_db: Path | None = None
    alerts_per_hour: int = ALERTS_PER_HOUR
    # Seconds a build child may run before it is killed and the admins told.
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    # Touched after each poll of Telegram and each refresh (`bot.heartbeat`); None: no file.
    heartbeat: Path | None = None

    @property
    def file_url(self) -> str:
        """The Bot API's file URL (where files sent to the bot are downloaded), by `api_url`."""
        if self.api_url.endswith("/bot"):
            return self.api_url.removesuffix("/bot") + "/file/bot"
        return TELEGRAM_FILE_URL

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        index_dir: str | None = None,
        webhook: bool = False,
        webhook_overrides: Mapping[str, str | int | None] | None = None,
    ) -> Settings:
        """Read settings from `env` (default: `os.environ`); flags given here take precedence.

        Raises:
            SettingsError: With one line naming the variable at fault.
        """
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            raise SettingsError(f"{TOKEN_ENV} is not set; get a token from @BotFather")
        if not _TOKEN_SHAPE.match(token):
            raise SettingsError(
                f"{TOKEN_ENV} does not look like a bot token (expected 123456:ABC-..., "
                f"{len(token)} characters given)"
            )
        folder = Path(index_dir).expanduser() if index_dir else default_index_dir(env)
        return cls(
            token=token,
            api_url=env.get(API_URL_ENV, "").strip() or TELEGRAM_API_URL,
            admin_ids=_parse_admin_ids(env.get(ADMIN_IDS_ENV, "")),
            sources=tuple(default_sources(env)),
            sources_set=bool(env.get(SOURCES_ENV, "").strip()),
            index_dir=folder,
            webhook=_webhook(env, webhook_overrides or {}) if webhook else None,
            refresh=_refresh(env),
            timezone=_timezone(env),
            state_db=_state_db(env),
            alerts_per_hour=_alerts_per_hour(env),
            build_timeout=_build_timeout(env),
            heartbeat=heartbeat_path(env, folder),
        )


def default_state_db() -> Path:
    """Return `state.sqlite3` in the per-user data folder, beside the default index folder."""
    return Path(platformdirs.user_data_dir("newsbot", appauthor=False)) / "state.sqlite3"


def _state_db(env: Mapping[str, str]) -> Path:
    """Read `NEWSBOT_STATE_DB`: where standing questions and alerts are kept."""
    raw = env.get(STATE_DB_ENV, "").strip()
    return Path(raw).expanduser() if raw else default_state_db()


def _alerts_per_hour(env: Mapping[str, str]) -> int:
    """Read `NEWSBOT_ALERTS_PER_HOUR`: alerts a user gets in an hour (default 6)."""
    raw = env.get(ALERTS_PER_HOUR_ENV, "").strip()
    if not raw:
        return ALERTS_PER_HOUR
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise SettingsError(
            f"{ALERTS_PER_HOUR_ENV} must be a number from 1 to 1000, got {raw[:20]!r}"
        )
    return int(raw)


def _build_timeout(env: Mapping[str, str]) -> float:
    """Read `NEWSBOT_BUILD_TIMEOUT`: a duration of at least a minute (default 2 hours)."""
    raw = env.get(BUILD_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_BUILD_TIMEOUT
    match = _DURATION.fullmatch(raw)
    seconds = float(match[1]) * _UNIT_SECONDS[match[2] and match[2].lower()] if match else 0.0
    if seconds < 60:
        raise SettingsError(
            f"{BUILD_TIMEOUT_ENV} must be a duration of at least 60 s (7200, 90m or 2h), "
            f"got {raw[:40]!r}"
        )
    return seconds


def _timezone(env: Mapping[str, str]) -> tzinfo:
    """Read `NEWSBOT_TIMEZONE`: an IANA name such as Europe/Berlin (default UTC)."""
    try:
        return timezone_from_env(env)
    except ValueError as exc:
        raise SettingsError(f"{exc}; use an IANA name such as Europe/Berlin") from None


def _refresh(env: Mapping[str, str]) -> RefreshPolicy | None:
    """Read `NEWSBOT_REFRESH`: a duration (default 10 minutes), or "0"/"off" for no refresh."""
    if env.get(REFRESH_ENV, "").strip().lower() in ("0", "off"):
        return None
    try:
        return refresh_from_env(env)
    except ValueError as exc:
        raise SettingsError(f"{exc}, or 0/off for no scheduled refresh") from None


def _parse_admin_ids(raw: str) -> frozenset[int]:
    """Parse comma-separated Telegram user ids: positive numbers, no service accounts."""
    ids = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not re.fullmatch(r"-?\d{1,20}", part):
            raise SettingsError(
                f"{ADMIN_IDS_ENV} must list numeric Telegram user ids, got {part[:40]!r}"
            )
        user_id = int(part)
        if user_id <= 0:
            raise SettingsError(
                f"{ADMIN_IDS_ENV} must list user ids, which are positive; got {part} "
                "(negative ids are groups and channels)"
            )
        if user_id in SERVICE_ACCOUNTS:
            raise SettingsError(
                f"{ADMIN_IDS_ENV} lists {user_id}, which is not a person: "
                f"{SERVICE_ACCOUNTS[user_id]}"
            )
        ids.add(user_id)
    return frozenset(ids)


def _webhook(env: Mapping[str, str], overrides: Mapping[str, str | int | None]) -> WebhookSettings:
    """Read webhook settings; flags in `overrides` win over the environment."""

    def pick(key: str, var: str) -> str:
        value = overrides.get(key)
        return str(value) if value is not None else env.get(var, "").strip()

    url = pick("url", WEBHOOK_URL_ENV)
    if not url.startswith("https://"):
        raise SettingsError(f"--webhook needs a public https:// URL ({WEBHOOK_URL_ENV} or --url)")
    secret = pick("secret_token", WEBHOOK_SECRET_ENV)
    if not _SECRET_SHAPE.match(secret):
        raise SettingsError(
            f"--webhook needs a secret token of 1-256 characters A-Z a-z 0-9 _ - "
            f"({WEBHOOK_SECRET_ENV} or --secret-token)"
        )
    port = pick("port", WEBHOOK_PORT_ENV) or "8443"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"webhook port must be 1-65535, got {port[:10]!r}")
    return WebhookSettings(
        url=url,
        secret_token=secret,
        listen=pick("listen", WEBHOOK_LISTEN_ENV) or "127.0.0.1",
        port=int(port),
    )
