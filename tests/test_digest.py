"""/digest and /timezone through the real bot, the sweep run with a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.follow import sweep
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, bot_settings, running_bot
from tests.test_follow import OTHER, alerts_of, ask, texts_in


async def test_a_digest_fires_at_its_minute_in_the_users_zone(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with running_bot(telegram, bot_settings(telegram, seed_index, [])) as bot:
        alerts = alerts_of(bot)
        assert [j.name for j in bot.app.job_queue.jobs()] == ["_sweep"]  # type: ignore[union-attr]
        now = datetime(2026, 2, 11, 7, 0, tzinfo=UTC)
        alerts.clock = lambda: now
        assert (await ask(telegram, USER, "/timezone Mars/Olympus")).text == (
            "Usage: /timezone <zone>, an IANA name such as Europe/Berlin ('Mars/Olympus' is not "
            "one)."
        )
        zone = await ask(telegram, USER, "/timezone Europe/Berlin")
        assert zone.text == "🕒 Your time zone is now Europe/Berlin."
        assert (await ask(telegram, USER, "/digest 9:00")).text == (
            "🗞 A digest every day at 09:00 (Europe/Berlin). /digest off stops it."
        )
        await ask(telegram, USER, "/follow trade between China and Russia")
        (question,) = alerts.store.following(USER)
        from bot.state_records import NewAlert

        now = datetime(2026, 2, 11, 7, 30, tzinfo=UTC)
        story = NewAlert(USER, question.id, "s1", "Trade soars", "https://example.org/t", "🔔")
        alerts.store.mark(alerts.store.record_matches({}, [story], 6, now), "sent")
        sent_before = len(texts_in(telegram, USER))

        now = datetime(2026, 2, 11, 7, 59, tzinfo=UTC)  # 08:59 in Berlin
        await sweep(bot.state)
        assert len(texts_in(telegram, USER)) == sent_before
        now = datetime(2026, 2, 11, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
        await sweep(bot.state)
        assert texts_in(telegram, USER)[sent_before:] == [
            "🗞 Your digest: 1 new story on what you follow\n• Trade soars"
        ]
        now += timedelta(minutes=1)
        await sweep(bot.state)
        assert len(texts_in(telegram, USER)) == sent_before + 1  # once a day
        now += timedelta(days=1)
        await sweep(bot.state)
        assert texts_in(telegram, USER)[-1] == (
            "🗞 Your digest: nothing new on what you follow since the last one."
        )
        assert (await ask(telegram, USER, "/digest off")).text == "🗞 No more digests."
        now += timedelta(days=1)
        await sweep(bot.state)
        assert texts_in(telegram, USER)[-1] == "🗞 No more digests."


async def test_who_follows_nothing_gets_the_newest_stories_in_the_bots_zone(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    async with running_bot(telegram, bot_settings(telegram, seed_index, [])) as bot:
        alerts = alerts_of(bot)
        now = datetime(2026, 2, 11, 6, 0, tzinfo=UTC)
        alerts.clock = lambda: now
        assert (await ask(telegram, OTHER, "/digest 25:00")).text == (
            "Usage: /digest HH:MM for a daily digest at that time (in your /timezone), or "
            "/digest off"
        )
        await ask(telegram, OTHER, "/digest 07:00")
        now = datetime(2026, 2, 11, 7, 0, tzinfo=UTC)
        await sweep(bot.state)
        digest = texts_in(telegram, OTHER)[-1].splitlines()
        assert digest[0] == "🗞 Your digest: the newest stories"
        assert len(digest) == 2  # the seed's one article
