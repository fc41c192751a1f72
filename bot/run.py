"""`newsbot run`: start the Telegram bot (long polling, or a webhook with --webhook)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from index.cli_flags import add_ray_option
from index.scale.ray_connect import RAY_ADDRESS_ENV


def add_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `run` subcommand."""
    run = commands.add_parser(
        "run",
        help="start the Telegram bot",
        description="Start the Telegram bot. Settings come from the environment (and a .env file): "
        "TELEGRAM_BOT_TOKEN (required), NEWSBOT_API_URL, NEWSBOT_ADMIN_IDS, NEWSBOT_SOURCES, "
        "NEWSBOT_INDEX_DIR, NEWSBOT_REFRESH, NEWSBOT_BUILD_TIMEOUT, and for --webhook "
        "NEWSBOT_WEBHOOK_URL, NEWSBOT_WEBHOOK_SECRET, "
        "NEWSBOT_WEBHOOK_LISTEN, NEWSBOT_WEBHOOK_PORT. A bot that cannot start says why in one "
        "line: exit status 2 for a setting (missing or malformed, a token Telegram rejects, a "
        "webhook port that cannot be bound), 1 when the Bot API cannot be reached.",
    )
    run.add_argument("--webhook", action="store_true", help="receive updates by webhook")
    run.add_argument("--listen", default=None, help="webhook listen address (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="webhook port (default 8443)")
    run.add_argument("--url", default=None, help="public HTTPS URL Telegram posts updates to")
    run.add_argument("--secret-token", default=None, help="webhook secret token")
    run.add_argument("--index-dir", default=None, metavar="DIR", help="index folder")
    add_ray_option(run)
    run.set_defaults(handler=run_bot)


def run_bot(args: argparse.Namespace) -> int:
    """Load settings and run the bot until interrupted."""
    from bot.app import run

    if args.ray:  # the bot's Newsroom reads it where it loads each generation
        os.environ[RAY_ADDRESS_ENV] = args.ray
    return run(args)
