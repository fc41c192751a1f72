"""Build the python-telegram-bot Application and run it (long polling or webhook)."""

from __future__ import annotations

import argparse
import logging
import sys

from dotenv import load_dotenv
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import handlers, logs
from bot.delivery import PatientRateLimiter
from bot.newsroom import Newsroom
from bot.settings import Settings, SettingsError
from bot.state import BotState

log = logging.getLogger(__name__)

PUBLIC_COMMANDS = [
    BotCommand("start", "Greeting and example questions"),
    BotCommand("help", "What I do and how to ask"),
    BotCommand("sources", "What news I have indexed"),
    BotCommand("ask", "Ask a question (in groups)"),
]
ADMIN_COMMANDS = [*PUBLIC_COMMANDS, BotCommand("reindex", "Rebuild the index from the sources")]


def build_application(settings: Settings, newsroom: Newsroom | None = None) -> Application:  # type: ignore[type-arg]
    """Return the bot's Application with every handler registered; it is not started."""
    logs.protect(settings.token)
    application = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.api_url)
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
        .post_init(_post_init)
        .build()
    )
    application.bot_data["state"] = BotState(
        settings=settings,
        newsroom=newsroom or Newsroom(settings.sources, settings.index_dir),
    )
    _register(application)
    return application


def _register(application: Application) -> None:  # type: ignore[type-arg]
    """Register the handlers, most specific first."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("sources", handlers.sources))
    application.add_handler(CommandHandler("reindex", handlers.reindex))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new_message))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & private & new_message, handlers.question)
    )
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & groups & new_message, handlers.group_message
        )
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & private & new_message, handlers.unknown_command)
    )
    application.add_handler(
        MessageHandler(~filters.TEXT & private & new_message, handlers.non_text)
    )
    application.add_handler(CallbackQueryHandler(handlers.more, pattern=r"^more:"))
    application.add_handler(CallbackQueryHandler(handlers.sources_page, pattern=r"^src:"))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(handlers.on_error)


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    """Load (or build) the index and set the command menus."""
    state: BotState = application.bot_data["state"]
    await state.newsroom.open()
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


def run(args: argparse.Namespace) -> int:
    """Run the bot from `newsbot run` arguments until interrupted; return the exit status."""
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
    except SettingsError as exc:
        print(f"newsbot: error: {exc}", file=sys.stderr)
        return 2
    logs.configure()
    application = build_application(settings)
    if settings.webhook is None:
        application.run_polling(
            allowed_updates=["message", "edited_message", "callback_query", "inline_query"]
        )
    else:
        hook = settings.webhook
        application.run_webhook(
            listen=hook.listen,
            port=hook.port,
            webhook_url=hook.url,
            secret_token=hook.secret_token,
            allowed_updates=["message", "edited_message", "callback_query", "inline_query"],
        )
    return 0
