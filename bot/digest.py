"""/digest HH:MM, /digest off, /timezone Zone: a daily digest of what the user follows.

Digests are due by the clock, not by a timer per user: PTB's JobQueue runs `bot.follow`'s sweep
every minute, and the sweep sends each digest whose time (in the user's zone, default
`NEWSBOT_TIMEZONE`) has come since the last one was sent (`digest_due`). So a digest missed
while the bot was down goes out at the first sweep after the restart, a change of time zone or
of daylight saving time needs no rescheduling, and a test can hand the sweep its own clock.

A digest lists the stories matched for the user's standing questions since the last digest
(alerts sent and held; held ones are then summarized), or, for a user who follows nothing, the
newest stories overall.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot import render, texts
from bot.alerts import Alerts, alerts_or_off
from bot.context import NewsContext
from bot.questions import answering_turn
from bot.state_records import Reader
from index.answers.search import NewsIndex

log = logging.getLogger(__name__)

# Headlines a digest lists.
DIGEST_STORIES = 10
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def zone_of(name: str | None, default: tzinfo) -> tzinfo:
    """Return the zone named `name` (an IANA name), else `default`."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def digest_due(reader: Reader, now: datetime, default: tzinfo) -> bool:
    """Whether the reader's digest time has come since their last digest (or since set)."""
    if reader.digest_at is None:
        return False
    hour, minute = (int(x) for x in reader.digest_at.split(":"))
    local = now.astimezone(zone_of(reader.timezone, default))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return reader.last_digest is None or reader.last_digest < slot


async def send_due(alerts: Alerts, index: NewsIndex | None, default: tzinfo) -> int:
    """Send every digest that is due at `alerts.clock()`; return how many were sent."""
    now = alerts.clock()
    sent = 0
    for reader in alerts.store.readers_with_digest():
        if not digest_due(reader, now, default):
            continue
        since = reader.last_digest or now - timedelta(days=1)
        matched = [
            a
            for a in alerts.store.alerts("sent", reader.user_id)
            + alerts.store.alerts("held", reader.user_id)
            if a.created >= since
        ]
        if matched or alerts.store.following(reader.user_id):
            body = render.digest_html([(a.title, a.url) for a in matched][:DIGEST_STORIES], True)
        else:
            newest = index.articles_newest_first(0, DIGEST_STORIES) if index is not None else []
            body = render.digest_html([(a.title, a.url) for a in newest], False)
        try:
            await alerts.bot.send_message(reader.chat_id, body)
        except Forbidden:
            alerts.unsubscribe(reader.user_id)
            continue
        except TelegramError as exc:  # tried again at the next sweep
            log.warning("digest for user %s not sent (%s)", reader.user_id, exc)
            continue
        alerts.store.mark([a.id for a in matched if a.state == "held"], "summarized")
        alerts.store.digest_sent(reader.user_id, now)
        sent += 1
    return sent


async def digest_command(update: Update, context: NewsContext) -> None:
    """Set the daily digest's time (HH:MM, in the user's zone), or turn it off."""
    async with answering_turn(update, context) as message:
        user, chat = update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if (alerts := await alerts_or_off(message, context.state.alerts)) is None:
            return
        raw = " ".join(context.args or []).strip().lower()
        reader = alerts.store.reader(user.id)
        zone = zone_of(reader.timezone if reader else None, context.state.settings.timezone)
        if raw == "off":
            alerts.store.set_digest(user.id, chat.id, None, alerts.clock())
            await message.reply_text(render.plain(texts.DIGEST_OFF))
            return
        time = _TIME.fullmatch(raw)
        if time is None:
            await message.reply_text(render.plain(texts.DIGEST_USAGE))
            return
        at = f"{int(time[1]):02d}:{time[2]}"
        alerts.store.set_digest(user.id, chat.id, at, alerts.clock())
        await message.reply_text(render.fill(texts.DIGEST_SET, at=at, zone=str(zone)))


async def timezone_command(update: Update, context: NewsContext) -> None:
    """Set the user's time zone (an IANA name such as Europe/Berlin)."""
    async with answering_turn(update, context) as message:
        user, chat = update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if (alerts := await alerts_or_off(message, context.state.alerts)) is None:
            return
        name = " ".join(context.args or []).strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            await message.reply_text(render.fill(texts.TIMEZONE_USAGE, name=name[:60]))
            return
        alerts.store.set_timezone(user.id, chat.id, name)
        await message.reply_text(render.fill(texts.TIMEZONE_SET, zone=name))
