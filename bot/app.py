"""Build the python-telegram-bot Application and run it (long polling or webhook)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import re
import socket
import sys

from dotenv import load_dotenv
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import (
    browsing,
    errors,
    feedadmin,
    feeds,
    follow,
    latest,
    logs,
    questions,
    reindex,
    welcome,
)
from bot.context import CONTEXT_TYPES
from bot.delivery import PatientRateLimiter
from bot.heartbeat import BeatingUpdatesRequest, Heartbeat, beat_while_webhook_set
from bot.newsroom import Newsroom
from bot.refresh import Refresher
from bot.settings import (
    API_URL_ENV,
    TOKEN_ENV,
    WEBHOOK_PORT_ENV,
    Settings,
    SettingsError,
    WebhookSettings,
)
from bot.state import BotState

log = logging.getLogger(__name__)

PUBLIC_COMMANDS = [
    BotCommand("start", "Greeting and example questions"),
    BotCommand("help", "What I do and how to ask"),
    BotCommand("sources", "What news I have indexed"),
    BotCommand("latest", "The newest headlines, on a topic if you name one"),
    BotCommand("ask", "Ask a question (in groups)"),
    BotCommand("follow", "Be told when the news answers a question"),
    BotCommand("following", "The questions you follow"),
    BotCommand("digest", "A daily digest at HH:MM, or off"),
    BotCommand("forget", "Delete everything kept about you"),
]
ADMIN_COMMANDS = [
    *PUBLIC_COMMANDS,
    BotCommand("reindex", "Rebuild the index from the sources"),
    BotCommand("feeds", "Each source's health and next check"),
    BotCommand("addfeed", "Add a feed: /addfeed URL (or send an OPML file)"),
    BotCommand("removefeed", "Remove a source and its articles"),
]


def build_application(settings: Settings, newsroom: Newsroom | None = None) -> Application:  # type: ignore[type-arg]
    """Return the bot's Application with every handler registered; it is not started."""
    logs.protect(settings.token)
    builder = Application.builder()
    if settings.heartbeat is not None:
        # Every getUpdates answered touches the heartbeat file: the bot is in touch with Telegram.
        builder.get_updates_request(BeatingUpdatesRequest(Heartbeat(settings.heartbeat)))
    application = (
        builder.token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Telegram's flood control (429 retry_after) is waited out and the call retried, and so
        # are 5xx answers and dropped connections: a reply is delayed, never lost.
        .rate_limiter(PatientRateLimiter(max_retries=20))
        # Chats are served concurrently; `ChatTurns` keeps each chat's replies in order.
        .concurrent_updates(True)
        # Handlers get a `NewsContext`: `context.state` is the typed `BotState`.
        .context_types(CONTEXT_TYPES)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .build()
    )
    application.bot_data["state"] = BotState(
        settings=settings,
        newsroom=newsroom
        or Newsroom(
            settings.sources,
            settings.index_dir,
            timezone=settings.timezone,
            build_timeout=settings.build_timeout,
            polled_feeds=settings.refresh is not None,
        ),
    )
    _register(application)
    return application


def _register(application: Application) -> None:  # type: ignore[type-arg]
    """Register the handlers, most specific first.

    Questions (messages, /ask, inline queries) and buttons share one per-user pace; each module
    holds one kind of update: `welcome`, `questions`, `browsing`, `reindex`, `errors`.
    """
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(CommandHandler("start", welcome.start_command))
    application.add_handler(CommandHandler("help", welcome.help_command))
    application.add_handler(CommandHandler("sources", browsing.sources_command))
    # Edits too: a non-admin's edit into /reindex is refused like a new one.
    application.add_handler(CommandHandler("reindex", reindex.reindex_command))
    application.add_handler(CommandHandler("feeds", feeds.feeds_command))
    application.add_handler(CommandHandler("addfeed", feedadmin.addfeed_command))
    application.add_handler(CommandHandler("removefeed", feedadmin.removefeed_command))
    application.add_handler(CommandHandler("latest", latest.latest_command, filters=new_message))
    application.add_handler(CommandHandler("ask", questions.ask_command, filters=new_message))
    # Standing questions, alerts, digests (bot.follow): commands and their "stop" button.
    follow.register(application)
    application.add_handler(
        MessageHandler(text & private & new_message, questions.private_question)
    )
    # In groups only mentions of the bot and replies to it are questions; the handler decides.
    application.add_handler(MessageHandler(text & groups & new_message, questions.group_message))
    application.add_handler(
        MessageHandler(filters.COMMAND & private & new_message, errors.unknown_command)
    )
    # An admin's OPML file imports its feeds; anyone else's file is "text only", as below.
    application.add_handler(
        MessageHandler(filters.Document.ALL & private & new_message, feedadmin.opml_document)
    )
    application.add_handler(MessageHandler(~filters.TEXT & private & new_message, errors.non_text))
    # Every button, whatever its data: `bot.callbacks` decides what it is, or that it expired.
    application.add_handler(CallbackQueryHandler(browsing.button))
    application.add_handler(InlineQueryHandler(questions.inline_query))
    application.add_error_handler(errors.on_error)


_WEBHOOK_BEAT = "webhook heartbeat"  # the bot_data key of the getWebhookInfo task


def _quiet() -> None:
    """Do nothing: a refresh without a heartbeat file."""


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Load (or build) the index, set the command menus and start the scheduled refresh."""
    state: BotState = application.bot_data["state"]
    loaded = feedadmin.open_ledger(state)
    await state.newsroom.open()
    feedadmin.settle_ledger(state, loaded)
    # After open(): what the loaded generation holds that no follower has seen is matched now.
    await follow.start(application)
    policy = state.settings.refresh
    if policy is not None:
        # After open(): the first check compares the sources with the index just loaded.
        notify = feeds.admin_notifier(application.bot, state.settings.admin_ids)
        beat = Heartbeat(state.settings.heartbeat).beat if state.settings.heartbeat else _quiet
        state.refresher = Refresher(state.newsroom, policy, notify, on_checked=beat)
        state.refresher.start()
    if state.settings.heartbeat is not None and state.settings.webhook is not None:
        # No getUpdates in webhook mode: a getWebhookInfo a minute shows Telegram is reachable.
        application.bot_data[_WEBHOOK_BEAT] = asyncio.create_task(
            beat_while_webhook_set(application.bot, Heartbeat(state.settings.heartbeat))
        )
    bot = application.bot
    await bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeDefault())
    for admin in sorted(state.settings.admin_ids):
        try:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
        except (BadRequest, Forbidden) as exc:  # the admin never opened a chat with the bot
            log.warning("could not set the admin menu for user %s: %s", admin, exc.message)
    index = state.newsroom.index
    if index is None:
        log.warning("serving no index as @%s; an admin can /reindex", bot.username)
    else:
        log.info(
            "serving %s (articles: %d, sentences: %d) as @%s",
            index.folder.name,
            index.n_articles,
            index.n_sentences,
            bot.username,
        )


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Stop the scheduled refresh, then any rebuild still running in its child process."""
    state: BotState = application.bot_data["state"]
    beating: asyncio.Task[None] | None = application.bot_data.pop(_WEBHOOK_BEAT, None)
    if beating is not None:
        beating.cancel()
    if state.refresher is not None:
        await state.refresher.stop()
    await follow.stop(application)
    await state.newsroom.stop_rebuild()


EXIT_SETTINGS = 2  # a setting missing or malformed, a token Telegram rejects, a busy port
EXIT_UNREACHABLE = 1  # the Bot API cannot be reached or fails: worth trying again later
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]
# What binding a port can fail with: taken, privileged, or an address this host does not have.
_BIND_ERRORS = {errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL}


class StartupError(Exception):
    """The bot cannot start: a one-line reason without secrets, and the exit status."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


def run(args: argparse.Namespace) -> int:
    """Run the bot from `newsbot run` arguments until interrupted; return the exit status.

    A failed start is one line on stderr, never a traceback (it would show the token): exit 2
    for a setting (missing or malformed, a token Telegram rejects, a webhook port that cannot be
    bound), 1 when the Bot API cannot be reached (network, `NEWSBOT_API_URL`, Telegram's 5xx).
    """
    load_dotenv(override=False)
    try:
        settings = Settings.from_env(
            index_dir=args.index_dir,
            webhook=args.webhook,
            webhook_overrides={
                "url": args.url,
                "secret_token": args.secret_token,
                "listen": args.listen,
                "port": args.port,
            },
        )
        logs.protect(settings.token)
        check_start(settings)
        logs.configure()
        _serve(build_application(settings), settings)
    except SettingsError as exc:
        status, reason = EXIT_SETTINGS, str(exc)
    except StartupError as exc:
        status, reason = exc.status, str(exc)
    else:
        return 0
    print(f"newsbot: error: {logs.redact(reason)}", file=sys.stderr)
    return status


def check_start(settings: Settings) -> None:
    """Check that the webhook port is free and that Telegram accepts the token (one getMe).

    Done before the Application starts, whose own start sets the webhook before binding its port
    and retries and logs a traceback for each failure.

    Raises:
        StartupError: Naming what stopped the start.
    """
    if settings.webhook is not None:
        _check_port(settings.webhook)
    try:
        asyncio.run(_ask_who_the_bot_is(settings))
    except TelegramError as exc:
        raise _startup_error(exc, settings) from None


async def _ask_who_the_bot_is(settings: Settings) -> None:
    """Call getMe once, without the Application's retries."""
    async with Bot(settings.token, base_url=settings.api_url):  # entering calls getMe
        pass


def _check_port(hook: WebhookSettings) -> None:
    """Bind the webhook's address and port for a moment, as the webhook server will."""
    family = socket.AF_INET6 if ":" in hook.listen else socket.AF_INET
    try:
        with socket.create_server((hook.listen, hook.port), family=family):
            pass
    except OSError as exc:
        raise _port_error(exc, hook) from None


def _serve(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Poll or serve the webhook until interrupted; a failed start becomes a `StartupError`."""
    hook = settings.webhook
    try:
        if hook is None:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            application.run_webhook(
                listen=hook.listen,
                port=hook.port,
                # PTB (tornado) takes the path as a regular expression: "+" or "(" are literal.
                url_path=re.escape(hook.path),
                webhook_url=hook.url,
                secret_token=hook.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
    except TelegramError as exc:  # the API changed its mind since `check_start`
        raise _startup_error(exc, settings) from None
    except OSError as exc:  # the port was taken since `check_start`
        if hook is None or not (isinstance(exc, socket.gaierror) or exc.errno in _BIND_ERRORS):
            raise
        raise _port_error(exc, hook) from None


def _startup_error(exc: TelegramError, settings: Settings) -> StartupError:
    """Say in one line, without the token, why the Bot API did not let the bot start."""
    if isinstance(exc, InvalidToken):
        return StartupError(
            f"the Bot API at {settings.api_url} rejected {TOKEN_ENV}: it was revoked or "
            "mistyped; get the current token from @BotFather",
            EXIT_SETTINGS,
        )
    if isinstance(exc, NetworkError):
        return StartupError(
            f"cannot reach the Bot API at {settings.api_url} ({exc.message}); check the network "
            f"and {API_URL_ENV}, then try again",
            EXIT_UNREACHABLE,
        )
    return StartupError(f"the Bot API refused to start the bot: {exc.message}", EXIT_UNREACHABLE)


def _port_error(exc: OSError, hook: WebhookSettings) -> StartupError:
    """Say in one line why the webhook cannot listen on its address and port."""
    return StartupError(
        f"cannot listen for the webhook on {hook.listen}:{hook.port} ({_why(exc)}); "
        f"choose another --port or {WEBHOOK_PORT_ENV}, or stop what holds it",
        EXIT_SETTINGS,
    )


def _why(exc: OSError) -> str:
    """The system's words for `exc`, without the address `socket.create_server` appends."""
    return os.strerror(exc.errno) if exc.errno and exc.errno > 0 else str(exc)
