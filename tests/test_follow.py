"""Standing questions through the real bot: loopback feeds, the fake Bot API, the state file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.alerts import Alerts
from index.store.build import build_index
from tests.fake_telegram import FakeTelegram, Message
from tests.harness import USER, RunningBot, bot_settings, running_bot
from tests.test_refresh import FAST, until

OTHER = 3003
FERRY = "Why did the Zanzibar ferry operators strike?"
FERRY_TEXT = (
    "Zanzibar ferry operators went on strike over the rising price of fuel. Passengers waited "
    "at the port of Stone Town for hours while the union asked the ministry for talks. The "
    "operators said the fuel price had doubled since January and fares could not cover it."
)
FERRY_COPY = "Ferry operators in Zanzibar strike over fuel. " + FERRY_TEXT
HARBOUR = (
    "The harbour of Dar es Salaam reopened after the storm damaged two cranes.",
    "Harbour reopens",
)


@dataclass
class Outlet:
    """A loopback RSS feed of one outlet; `publish` adds an item."""

    name: str
    path: str
    base: str = ""
    items: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base}/{self.path}"

    def publish(self, title: str, text: str, day: str = "Wed, 11 Feb 2026 09:30:00 GMT") -> None:
        self.items.append((title, text, day))

    async def feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<item><title>{title}</title><description>{text}</description>"
            f"<link>https://{self.path}.example/{n}</link>"
            f"<guid>{self.path}-{n}</guid><pubDate>{day}</pubDate></item>"
            for n, (title, text, day) in enumerate(self.items)
        )
        body = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{self.name}</title>'
            f"{entries}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml")


@pytest.fixture
async def outlets() -> AsyncIterator[tuple[Outlet, Outlet]]:
    wire, daily = Outlet("Wire", "wire"), Outlet("Daily", "daily")
    wire.publish(HARBOUR[1], HARBOUR[0], "Mon, 09 Feb 2026 08:00:00 GMT")
    daily.publish("Council passes the budget", "The council passed the budget for the library.")
    app = web.Application()
    app.router.add_get("/wire", wire.feed)
    app.router.add_get("/daily", daily.feed)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    wire.base = daily.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield wire, daily
    finally:
        await runner.cleanup()


@asynccontextmanager
async def following_bot(
    telegram: FakeTelegram, tmp_path: Path, sources: list[str], *, per_hour: int = 6
) -> AsyncIterator[RunningBot]:
    """The bot refreshing `sources` on the FAST schedule, its state file in `tmp_path`."""
    index_dir = tmp_path / "index"
    await asyncio.to_thread(build_index, sources, index_dir)
    settings = replace(
        bot_settings(telegram, index_dir, sources), refresh=FAST, alerts_per_hour=per_hour
    )
    async with running_bot(telegram, settings) as bot:
        try:
            yield bot
        finally:
            assert bot.app.post_stop is not None
            await bot.app.post_stop(bot.app)


def alerts_of(bot: RunningBot) -> Alerts:
    alerts = bot.state.alerts
    assert alerts is not None
    return alerts


async def ask(telegram: FakeTelegram, chat: int, text: str) -> Message:
    """Send `text` and return the bot's next message in the chat (alerts already there aside)."""
    chat_state = telegram.chats.get(chat)
    count = len(chat_state.bot_messages) if chat_state is not None else 0
    await telegram.send_text(chat, text)
    return (await telegram.wait_for_messages(chat, count + 1, timeout=10))[count]


async def matched(bot: RunningBot, before: int) -> None:
    """Wait until a rebuild was swapped in and its new articles matched and sent."""
    alerts = alerts_of(bot)
    await until(lambda: alerts.percolations > before, timeout=60, what="a matched update")
    await until(lambda: not alerts._tasks, what="alerts sent")


def texts_in(telegram: FakeTelegram, chat: int) -> list[str]:
    return [m.text or "" for m in telegram.chats[chat].bot_messages]


@pytest.mark.process
@pytest.mark.slow
async def test_an_alert_arrives_once_per_story_with_its_copies_and_stops_on_unfollow(
    telegram: FakeTelegram, tmp_path: Path, outlets: tuple[Outlet, Outlet]
) -> None:
    wire, daily = outlets
    async with following_bot(telegram, tmp_path, [wire.url, daily.url]) as bot:
        followed = await ask(telegram, USER, f"/follow {FERRY}")
        assert (followed.text or "").startswith(f"🔔 Following: {FERRY}")
        assert (await ask(telegram, OTHER, "/follow copper prices in Chile")).text
        before = alerts_of(bot).percolations
        published = time.monotonic()
        wire.publish("Ferry strike in Zanzibar", FERRY_TEXT)
        wire.publish("Library opens", "The new library opened its doors to readers on Monday.")
        daily.publish("Zanzibar ferries stop", FERRY_COPY)
        await matched(bot, before)

        *_, alert = telegram.chats[USER].bot_messages
        print(f"published -> alert sent (with vectors): {time.monotonic() - published:.1f} s")
        text = alert.text or ""
        assert text.startswith(f"🔔 New on {FERRY}")
        assert "Zanzibar ferry operators went on strike" in text
        assert "Also reported by: " in text
        assert sum("🔔 New on" in t for t in texts_in(telegram, USER)) == 1
        assert texts_in(telegram, OTHER) == [texts_in(telegram, OTHER)[0]]  # only its reply
        # Answers and /latest show the story once, its copies named.
        answer = (await ask(telegram, OTHER, FERRY)).text or ""
        sources = [line for line in answer.splitlines() if line.startswith("📰")]
        assert len([s for s in sources if "erry" in s or "erries" in s]) == 1, answer
        assert "Also reported by: " in answer
        newest = (await ask(telegram, OTHER, "/latest")).text or ""
        copies = ("Ferry strike in Zanzibar", "Zanzibar ferries stop")
        assert sum(title in newest for title in copies) == 1, newest
        assert "Library opens" in newest

        before = alerts_of(bot).percolations
        daily.publish("Update: Zanzibar ferry strike goes on", "The strike went on. " + FERRY_TEXT)
        await matched(bot, before)
        assert sum("🔔 New on" in t for t in texts_in(telegram, USER)) == 1  # no second alert

        await telegram.send_callback_query(USER, alert.message_id, alert_button(alert))
        await until(lambda: not alerts_of(bot).store.following(USER), what="unfollowed")
        following = await ask(telegram, USER, "/following")
        assert following.text == "You follow nothing yet. Try /follow copper prices in Chile"
        before = alerts_of(bot).percolations
        wire.publish("Ferry strike ends", "Zanzibar ferry operators ended their strike over fuel.")
        await matched(bot, before)
        assert sum("🔔 New on" in t for t in texts_in(telegram, USER)) == 1


def alert_button(message: Message) -> str:
    assert message.reply_markup is not None
    (row,) = message.reply_markup["inline_keyboard"]
    (button,) = row
    return str(button["callback_data"])


async def test_following_lists_unfollow_removes_and_forget_deletes(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with running_bot(telegram, bot_settings(telegram, seed_index, [])) as bot:
        assert (await ask(telegram, USER, "/follow")).text == (
            "Usage: /follow <question>, e.g. /follow copper prices in Chile"
        )
        for question in ("trade between China and Russia", "copper prices in Chile"):
            await ask(telegram, USER, f"/follow {question}")
        listed = await ask(telegram, USER, "/following")
        assert (listed.text or "").splitlines() == [
            "🔔 You follow:",
            "1. trade between China and Russia",
            "2. copper prices in Chile",
        ]
        assert listed.reply_markup is not None
        labels = [b["text"] for b in listed.reply_markup["inline_keyboard"][0]]
        assert labels == ["🔕 Stop 1", "🔕 Stop 2"]
        assert (await ask(telegram, USER, "/unfollow 3")).text == (
            "Usage: /unfollow <number>, the number /following shows."
        )
        unfollowed = await ask(telegram, USER, "/unfollow 1")
        assert unfollowed.text == "🔕 No longer following: trade between China and Russia"
        assert [q.text for q in alerts_of(bot).store.following(USER)] == ["copper prices in Chile"]
        assert len(alerts_of(bot).percolator) == 1
        # Another user's forged button cannot stop USER's question.
        (kept,) = alerts_of(bot).store.following(USER)
        theirs = await ask(telegram, OTHER, "/following")
        await telegram.send_callback_query(OTHER, theirs.message_id, f"unf:{kept.id}")
        await telegram.wait_for_calls("answerCallbackQuery")
        assert len(alerts_of(bot).store.following(USER)) == 1
        alerts_of(bot).store.set_timezone(USER, USER, "Europe/Berlin")
        forgot = await ask(telegram, USER, "/forget")
        assert (forgot.text or "").startswith("🗑 Done")
        store = alerts_of(bot).store
        assert store.following(USER) == [] and store.reader(USER) is None
        assert len(alerts_of(bot).percolator) == 0


async def test_at_most_20_questions_a_user(telegram: FakeTelegram, seed_index: Path) -> None:
    async with running_bot(telegram, bot_settings(telegram, seed_index, [])) as bot:
        store = alerts_of(bot).store
        for n in range(20):
            store.follow(USER, USER, f"question {n}", ("question",), None)
        reply = await ask(telegram, USER, "/follow one more")
        assert (
            reply.text == "You follow 20 questions already, the most I keep. /unfollow one first."
        )


async def test_standing_questions_survive_a_restart(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    settings = bot_settings(telegram, seed_index, [])
    async with running_bot(telegram, settings):
        await ask(telegram, USER, "/follow trade between China and Russia")
    async with running_bot(telegram, settings) as bot:
        (question,) = alerts_of(bot).store.following(USER)
        assert question.text == "trade between China and Russia"
        assert question.vector is not None and question.vector.shape == (384,)
        assert len(alerts_of(bot).percolator) == 1


@pytest.mark.process
@pytest.mark.slow
async def test_the_hourly_cap_holds_and_the_rest_is_summarized_when_the_hour_ends(
    telegram: FakeTelegram, tmp_path: Path, outlets: tuple[Outlet, Outlet]
) -> None:
    wire, _ = outlets
    async with following_bot(telegram, tmp_path, [wire.url], per_hour=1) as bot:
        alerts = alerts_of(bot)
        now = datetime(2026, 2, 11, 9, 30, tzinfo=UTC)
        alerts.clock = lambda: now
        await ask(telegram, USER, "/follow ferry strike in Zanzibar")
        before = alerts.percolations
        for n, text in enumerate(
            (
                "The ferry strike in Zanzibar stranded tourists at Stone Town as crews demanded "
                "higher pay.",
                "Pemba islanders ran out of fuel as the Zanzibar ferry strike entered its third "
                "day, traders said.",
                "The government of Zanzibar promised talks to end the ferry strike before the "
                "holiday weekend.",
            )
        ):
            wire.publish(f"Ferry strike {n}", text)
        await matched(bot, before)
        assert sum("🔔 New on" in t for t in texts_in(telegram, USER)) == 1
        assert len(alerts.store.alerts("held", USER)) == 2
        assert await alerts.summarize_held() == 0  # the hour has not ended
        now += timedelta(hours=1)
        assert await alerts.summarize_held() == 1
        summary = texts_in(telegram, USER)[-1]
        assert summary.startswith("🔔 2 more new articles answered what you follow this hour:")
        assert alerts.store.alerts("held", USER) == []


async def test_a_user_who_blocked_the_bot_is_unsubscribed(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with running_bot(telegram, bot_settings(telegram, seed_index, [])) as bot:
        alerts = alerts_of(bot)
        await ask(telegram, USER, "/follow trade between China and Russia")
        (question,) = alerts.store.following(USER)
        from bot.state_records import NewAlert

        alerts.store.record_matches(
            {}, [NewAlert(USER, question.id, "story-1", "Trade", None, "🔔 trade")], per_hour=6
        )
        telegram.block(USER)
        assert await alerts.deliver() == 0
        assert alerts.store.following(USER) == [] and alerts.store.reader(USER) is None
        assert len(alerts.percolator) == 0
