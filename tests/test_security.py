"""Who may do what, and what never leaks: the token, /reindex, the webhook secret, floods.

Issue #5, "security", over the loopback Bot API with the real `Application`. Reading sources
(regular files only, no symlinks out, feeds with a timeout, a size cap and http(s) only) is
tested in `test_ingest.py`; the basic cases of each item below are in `test_bot.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ContextTypes

from bot.settings import Settings, SettingsError
from bot.state import Cooldown
from bot.texts import ADMIN_PRIVATE_ONLY, SLOW_DOWN
from tests.conftest import SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, USER, RunningBot, bot_settings, running_bot
from tests.test_bot import free_port

REFUSAL = "Sorry, only the bot's admins can rebuild the index."
GROUP = -4004
SUPER = "supergroup"
ANONYMOUS_ADMIN_BOT = 1087968824  # the user id Telegram shows for anonymous group admins


# -- the token -------------------------------------------------------------------------------


@pytest.mark.process
@pytest.mark.slow
async def test_token_never_in_logs_replies_or_exceptions_whatever_fails(
    telegram: FakeTelegram,
    seed_index: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    errors: list[BaseException] = []

    async def keep_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            errors.append(context.error)

    caplog.set_level(logging.DEBUG)  # every logger, httpx (which logs URLs) included
    settings = bot_settings(telegram, seed_index, [Path("/no/such/source")])
    async with running_bot(telegram, settings) as running:
        running.app.add_error_handler(keep_error)
        faults = [
            lambda: telegram.fail("sendMessage", status=400, times=1),  # handler error + apology
            lambda: telegram.fail("sendMessage", status=502, times=2),  # retried, then sent
            lambda: telegram.fail("getUpdates", status=502, times=2),  # polling errors
            lambda: telegram.flood("sendMessage", times=1, retry_after=0.05),  # 429
            lambda: telegram.fail("sendMessage", status=401, times=1),  # "Unauthorized"
        ]
        for n, inject in enumerate(faults):
            inject()
            chat, before = 5000 + n, len(errors)
            await telegram.send_text(chat, SEED_QUESTION)
            await telegram.wait_until(  # a reply, an apology, or an error handled
                lambda chat=chat, before=before: (
                    (chat in telegram.chats and telegram.chats[chat].bot_messages)
                    or len(errors) > before
                ),
                timeout=15,
                what=f"fault {n} to play out",
            )
        await telegram.pause()  # connection refused for the poll and any send
        await asyncio.sleep(1.5)
        await telegram.resume()
        await telegram.send_text(ADMIN, "/reindex")  # a rebuild that fails: no such source
        (ack,) = await telegram.wait_for_messages(ADMIN, 1, timeout=30)
        await telegram.wait_until(lambda: "failed" in (ack.text or ""), timeout=60)
        await telegram.send_text(5100, SEED_QUESTION)
        await telegram.wait_for_messages(5100, 1, timeout=30)  # and it still answers

    secrets = (telegram.token, telegram.token.split(":")[1])
    sent = [str(c.params.get("text", "")) for c in telegram.calls if "text" in c.params]
    raised = [
        "".join(traceback.format_exception(type(e), e, e.__traceback__)) + repr(e) for e in errors
    ]
    logged = caplog.text + "".join(str(r.msg) + str(r.args) for r in caplog.records)
    printed = "".join(capfd.readouterr())
    assert len(errors) >= 2, errors  # the faults produced exceptions to inspect
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret not in printed
        assert not any(secret in text for text in sent)
        assert not any(secret in text for text in raised)


def test_settings_errors_never_echo_the_token() -> None:
    token = "123456:" + "S3cret" * 3  # too short to be a token
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": token})
    assert "S3cret" not in str(refused.value)
    good = "123456:AAE" + "x" * 32
    assert good not in repr(Settings.from_env({"TELEGRAM_BOT_TOKEN": good}))


# -- /reindex: admins by numeric id only -----------------------------------------------------


async def send_altered(
    telegram: FakeTelegram, chat: int, text: str, user: int, **fields: Any
) -> None:
    """Queue a user's message with extra Message fields (sender_chat, forward_origin, ...).

    The fields are set on the queued update before the bot can poll it: no await in between.
    """
    update_id = await telegram.send_text(chat, text, user_id=user, chat_type="supergroup")
    telegram.updates[update_id]["message"] |= fields


@pytest.mark.process
async def test_reindex_is_refused_to_everyone_but_numeric_admin_ids(
    bot: RunningBot, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    bot.state.refusals = Cooldown(0.0)  # every attempt is refused aloud (test_admin: once a minute)
    telegram.add_chat(GROUP, SUPER)
    lookalike = 3003
    telegram.add_user(lookalike, username="newsbot_admin", first_name=str(ADMIN))
    admin_user = telegram.add_user(ADMIN)
    anonymous = {"id": ANONYMOUS_ADMIN_BOT, "is_bot": True, "first_name": "Group"}
    attempts = [
        (USER, lambda: telegram.send_text(USER, "/reindex")),
        (lookalike, lambda: telegram.send_text(lookalike, "/reindex")),
        (USER, lambda: telegram.send_text(GROUP, "/reindex", user_id=USER, chat_type=SUPER)),
        (
            USER,
            lambda: telegram.send_text(
                GROUP, "/reindex@newsbot_test_bot", user_id=USER, chat_type=SUPER
            ),
        ),
        (USER, lambda: telegram.send_text(GROUP, "/REINDEX", user_id=USER, chat_type=SUPER)),
        (
            USER,  # a non-admin forwards an admin's /reindex
            lambda: send_altered(
                telegram,
                GROUP,
                "/reindex",
                USER,
                forward_origin={"type": "user", "sender_user": admin_user, "date": 1},
            ),
        ),
        (
            ANONYMOUS_ADMIN_BOT,  # an anonymous group admin: Telegram hides who it is
            lambda: send_altered(
                telegram,
                GROUP,
                "/reindex",
                USER,
                sender_chat={"id": GROUP, "type": "supergroup", "title": "Group"},
                **{"from": anonymous},
            ),
        ),
    ]

    def refusals_sent() -> int:
        return sum(m.text == REFUSAL for c in telegram.chats.values() for m in c.bot_messages)

    with caplog.at_level(logging.WARNING):
        for n, (_, attempt) in enumerate(attempts, 1):
            await attempt()
            await telegram.wait_until(lambda n=n: refusals_sent() >= n, what=f"refusal {n}")
        # An edit into /reindex by a non-admin is refused too; by an admin it is no request.
        for chat in (6006, ADMIN):
            await telegram.send_text(chat, "what happened in Ukraine?")
            await telegram.wait_for_messages(chat, 1)
            own = next(m for m in telegram.chats[chat].messages.values() if not m.from_bot)
            await telegram.send_edited_message(chat, own.message_id, "/reindex")
        await telegram.wait_for_messages(6006, 2)
        await asyncio.sleep(0.5)

    assert telegram.chats[6006].bot_messages[-1].text == REFUSAL
    assert len(telegram.chats[ADMIN].bot_messages) == 1  # the admin's edit started nothing
    assert not bot.state.newsroom.rebuilding
    refusals = [r.getMessage() for r in caplog.records if "refused /reindex" in r.getMessage()]
    for user, _ in attempts:
        assert any(f"from user {user} " in line for line in refusals), (user, refusals)
    assert any("from user 6006 " in line for line in refusals)
    assert len(refusals) == len(attempts) + 1

    # The admin, by id, in the group: asked to write privately, nothing shown or started
    # (issue #18); in the private chat: accepted.
    await telegram.send_text(GROUP, "/reindex", user_id=ADMIN, chat_type=SUPER)
    await telegram.wait_until(
        lambda: telegram.chats[GROUP].bot_messages[-1].text == ADMIN_PRIVATE_ONLY,
        what="the admin to be asked for a private chat",
    )
    assert not bot.state.newsroom.rebuilding
    await telegram.send_text(ADMIN, "/reindex")
    await telegram.wait_until(
        lambda: any("Rebuilding" in (m.text or "") for m in telegram.chats[ADMIN].bot_messages),
        what="the admin's rebuild to start",
    )
    ack = next(m for m in telegram.chats[ADMIN].bot_messages if "Rebuilding" in (m.text or ""))
    await telegram.wait_until(lambda: "Index rebuilt" in (ack.text or ""), timeout=60)


# -- webhook secret --------------------------------------------------------------------------


def test_webhook_mode_cannot_start_without_a_secret() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:AAE" + "x" * 32}
    with pytest.raises(SettingsError, match="secret token"):
        Settings.from_env(env, webhook=True, webhook_overrides={"url": "https://example.org/h"})


@pytest.mark.process
async def test_webhook_rejects_every_request_without_the_exact_secret(
    telegram: FakeTelegram, seed_index: Path
) -> None:
    from bot.app import build_application

    app = build_application(bot_settings(telegram, seed_index, [SEEDS]))
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    secret = "Sec-ret_42"
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token=secret
    )
    await app.start()
    try:
        telegram.add_chat(USER)

        def update(update_id: int) -> dict[str, Any]:
            return {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 1_700_000_000,
                    "chat": {"id": USER, "type": "private"},
                    "from": {"id": USER, "is_bot": False, "first_name": "U"},
                    "text": f"{SEED_QUESTION} #{update_id}",
                },
            }

        wrong = [None, "", "sec-ret_42", "Sec-ret_4", "Sec-ret_421", "Sec-ret_42x", telegram.token]
        for n, header in enumerate(wrong, 1):
            assert await telegram.post_update(url, update(n), secret_token=header) == 403, header
        assert await telegram.post_update(url, update(99), secret_token=secret) == 200
        (reply,) = await telegram.wait_for_messages(USER, 1, timeout=10)
        await asyncio.sleep(0.5)
        assert len(telegram.chats[USER].bot_messages) == 1  # only the one with the secret
        assert "#99" in (reply.text or "")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


# -- one user flooding -----------------------------------------------------------------------

FLOODER = 7007
OTHERS = list(range(7100, 7110))


@pytest.mark.process
@pytest.mark.slow
async def test_a_flooder_is_told_once_and_does_not_delay_anyone_else(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    """100 messages in 10 s from one user, while ten others each ask once."""
    asked: dict[int, float] = {}
    started = time.monotonic()
    for n in range(100):
        await asyncio.sleep(max(0.0, started + n * 0.1 - time.monotonic()))
        await telegram.send_text(FLOODER, f"{SEED_QUESTION} {n}")
        if n % 10 == 5:
            other = OTHERS[n // 10]
            await telegram.send_text(other, SEED_QUESTION)
            asked[other] = time.monotonic()
    await asyncio.sleep(1.0)

    to_flooder = telegram.chats[FLOODER].bot_messages
    assert [m.text for m in to_flooder].count(SLOW_DOWN) == 1
    # The bucket: 6 at once, then one every 2 s: at most 6 + 5 answers in 10 s, + the warning.
    assert len(to_flooder) <= 6 + 6 + 1, len(to_flooder)
    replied = {}
    for other in OTHERS:
        (reply,) = telegram.chats[other].bot_messages
        assert "228.1" in (reply.text or "")
        call = next(
            c
            for c in telegram.calls_to("sendMessage")
            if c.params["chat_id"] == other and c.status == 200
        )
        replied[other] = call.received_at - asked[other]
    # Not a benchmark: a sanity bound far above normal replies (a few ms), far below the 10 s
    # a flooder would cost others if their questions queued behind his.
    assert max(replied.values()) < 2.0, replied
    print(
        f"flood: {len(to_flooder)} replies to 100 messages; others answered in "
        f"max {1000 * max(replied.values()):.0f} ms"
    )
