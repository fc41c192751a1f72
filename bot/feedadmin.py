"""Admins manage the sources from a private chat: /addfeed, /removefeed, an OPML file, buttons.

Adding a feed runs an update in the build child (`newsbot index`, the new feed named with the
others), which also makes the index remember it; removing one runs `newsbot index --remove
SOURCE` once the admin has confirmed. What changed is kept in the `SourceLedger` (the index
folder's `bot-sources.json`), read by the next build and by the scheduled refresh at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot import errors, opml, render, texts
from bot.callbacks import SourceChoice, encode, source_key
from bot.context import NewsContext
from bot.ledger import SourceLedger, is_among
from bot.newsroom import BuildJob
from bot.reindex import admin_request, is_admin, report_rebuild
from bot.state import BotState
from index.model import counted
from index.sources.watch import articles_per_source
from index.store.archiving import remembered_sources

log = logging.getLogger(__name__)

LABEL_LIMIT = 60  # characters of a source shown on a button
REMOVABLE_SHOWN = 50  # buttons of /removefeed (Telegram takes 100 a message)


def adopt(state: BotState, ledger: SourceLedger) -> None:
    """Make `ledger` the bot's sources: saved, read by the next build, checked by the refresh."""
    state.ledger = ledger
    try:
        ledger.save(state.newsroom.index_dir)
    except OSError as exc:  # the change holds until a restart; say so in the log
        log.warning("cannot save the sources' ledger: %s", exc)
    state.newsroom.sources = ledger.active
    if state.refresher is not None:
        state.refresher.follow_sources()


def open_ledger(state: BotState) -> SourceLedger:
    """Read the ledger before the index is opened: a first build reads the active sources.

    Returns:
        The ledger as it was on disk, for `settle_ledger`.
    """
    index_dir = state.newsroom.index_dir
    loaded = SourceLedger.load(index_dir)
    state.ledger = loaded.restarted(configured_sources(state, loaded, index_dir), ())
    state.newsroom.sources = state.ledger.active
    return loaded


def configured_sources(state: BotState, loaded: SourceLedger, index_dir: Path) -> list[str]:
    """Return the configured sources: `NEWSBOT_SOURCES`, else those the index remembers.

    As `newsbot index` chooses (`index.config.sources_to_read`): without `NEWSBOT_SOURCES`, an
    existing index goes on reading what it remembers (less what admins added or retired), and
    the default (`./seeds`) only builds a new one.
    """
    remembered = remembered_sources(index_dir)
    if state.settings.sources_set or not remembered:
        return list(state.settings.sources)
    return [s for s in remembered if not is_among(s, loaded.removable)]


def settle_ledger(state: BotState, loaded: SourceLedger) -> None:
    """Retire the sources the opened index remembers that are neither configured nor added."""
    index_dir = state.newsroom.index_dir
    configured = configured_sources(state, loaded, index_dir)
    ledger = state.ledger.restarted(configured, remembered_sources(index_dir) or [])
    if ledger != loaded:
        adopt(state, ledger)
    for source in ledger.retired:
        log.info("source %s is no longer configured; /feeds offers to remove it", source)


def count_articles(state: BotState, sources: Sequence[str]) -> list[int]:
    """Count the serving index's articles from each of `sources`."""
    index = state.newsroom.index
    if index is None:
        return [0] * len(sources)
    paths = (article.path for article in index.articles_newest_first(0, index.n_articles))
    return articles_per_source(paths, sources)


def choice_button(label: str, action: SourceChoice) -> InlineKeyboardButton:
    """Return a button about a source (`bot.callbacks` writes its data)."""
    return InlineKeyboardButton(label, callback_data=encode(action))


def button_label(source: str) -> str:
    """Return a source as a button shows it: its end, which tells sources apart, when long."""
    return source if len(source) <= LABEL_LIMIT else "…" + source[-(LABEL_LIMIT - 1) :]


def removal_keyboard(sources: Sequence[str]) -> InlineKeyboardMarkup:
    """Return one button a source, each asking to confirm its removal."""
    return InlineKeyboardMarkup(
        [
            [
                choice_button(
                    texts.REMOVE_BUTTON.format(source=button_label(source)),
                    SourceChoice("ask", source_key(source)),
                )
            ]
            for source in sources
        ]
    )


async def addfeed_command(update: Update, context: NewsContext) -> None:
    """Add a feed for an admin and index it; report when it is done."""
    message = await admin_request(update, context, "/addfeed", texts.SOURCES_REFUSED)
    if message is None:
        return
    url = " ".join(context.args or []).strip()
    if not opml.is_web_feed(url):
        await message.reply_text(render.plain(texts.ADDFEED_USAGE))
        return
    state = context.state
    if url in state.ledger.active:
        await message.reply_text(render.fill(texts.ADDFEED_KNOWN, url=url))
        return
    ack = await message.reply_text(render.fill(texts.ADDFEED_STARTED, url=url))
    add_sources(state, [url], ack, context, update)


def add_sources(
    state: BotState, sources: Sequence[str], ack: Message, context: NewsContext, update: Update
) -> None:
    """Add `sources`, ask for an update that reads them, and edit `ack` into its report."""
    log.info("an admin added %s", counted(len(sources), "source"))
    adopt(state, state.ledger.add(sources))
    rebuild, _ = state.newsroom.request(BuildJob(), join=False)
    context.application.create_task(report_rebuild(state, rebuild, ack), update=update)


async def removefeed_command(update: Update, context: NewsContext) -> None:
    """List the sources an admin can remove, as buttons; each asks to confirm."""
    message = await admin_request(update, context, "/removefeed", texts.SOURCES_REFUSED)
    if message is None:
        return
    ledger = context.state.ledger
    lines = []
    if ledger.removable:
        lines.append(render.plain(texts.REMOVEFEED_HEADER))
    if ledger.configured:
        configured = ", ".join(ledger.configured)
        lines.append(render.fill(texts.REMOVEFEED_CONFIGURED, sources=configured))
    if not ledger.removable:
        lines.insert(0, render.plain(texts.REMOVEFEED_NONE))
        await message.reply_text(render.fit("\n\n".join(lines)))
        return
    markup = removal_keyboard(ledger.removable[:REMOVABLE_SHOWN])
    await message.reply_text(render.fit("\n\n".join(lines)), reply_markup=markup)


async def opml_document(update: Update, context: NewsContext) -> None:
    """Import the feeds of an OPML file an admin sent; others are told only text is read."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    state = context.state
    if not is_admin(state, update):
        await errors.non_text(update, context)
        return
    document = message.document
    if (document.file_size or 0) > opml.MAX_BYTES:
        reason = f"it is larger than {opml.MAX_BYTES // 1024} KB"
        await message.reply_text(render.fill(texts.OPML_UNREADABLE, reason=reason))
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        urls = await asyncio.to_thread(opml.feed_urls, data)
    except opml.OpmlError as exc:
        await message.reply_text(render.fill(texts.OPML_UNREADABLE, reason=str(exc)))
        return
    new = [url for url in urls if url not in state.ledger.active]
    if not new:
        feeds = counted(len(urls), "feed")
        await message.reply_text(render.fill(texts.OPML_NOTHING_NEW, feeds=feeds))
        return
    ack = await message.reply_text(
        render.fill(
            texts.OPML_STARTED,
            feeds=counted(len(new), "new feed"),
            known=f"{len(urls) - len(new):,}",
        )
    )
    add_sources(state, new, ack, context, update)


async def source_button(query: CallbackQuery, context: NewsContext, choice: SourceChoice) -> None:
    """Answer an admin's button about a source: confirm its removal, remove it, or keep it."""
    state = context.state
    message = query.message
    private = message is not None and message.chat.type == ChatType.PRIVATE
    if query.from_user.id not in state.settings.admin_ids or not private:
        await query.answer(texts.ADMIN_BUTTON_REFUSED, show_alert=True)
        return
    source = next((s for s in state.ledger.removable if source_key(s) == choice.key), None)
    if source is None or not isinstance(message, Message):
        await query.answer(texts.SOURCE_GONE, show_alert=True)
        return
    await query.answer()
    if choice.action == "ask":
        (articles,) = await asyncio.to_thread(count_articles, state, [source])
        keyboard = InlineKeyboardMarkup(
            [
                [
                    choice_button(texts.REMOVE_YES, SourceChoice("yes", choice.key)),
                    choice_button(texts.REMOVE_NO, SourceChoice("no", choice.key)),
                ]
            ]
        )
        text = render.fill(
            texts.REMOVE_CONFIRM, source=source, articles=counted(articles, "article")
        )
        await message.reply_text(text, reply_markup=keyboard)
    elif choice.action == "no":
        await message.edit_text(render.fill(texts.REMOVE_KEPT, source=source))
    else:
        await message.edit_text(render.fill(texts.REMOVE_STARTED, source=source))
        log.info("admin %s removes a source", query.from_user.id)
        context.application.create_task(remove_source(state, source, message))


async def remove_source(state: BotState, source: str, ack: Message) -> None:
    """Remove `source` and its articles (`newsbot index --remove`); edit `ack` into the report.

    It leaves the ledger first, so that no update reads it meanwhile; when the removal fails,
    it is back among the retired sources, its articles still indexed, to be removed again.
    """
    adopt(state, state.ledger.remove(source))
    rebuild, _ = state.newsroom.request(BuildJob(remove=(source,)))
    await report_rebuild(state, rebuild, ack)
    if rebuild.done() and not rebuild.cancelled() and not rebuild.result().ok:
        ledger = state.ledger
        adopt(state, replace(ledger, retired=(*ledger.retired, source)))
