"""A strict fake Telegram Bot API server on loopback, to test the real PTB `Application` over HTTP.

The bot talks to it exactly as to api.telegram.org (`base_url=server.base_url`); the test plays the
users (`send_text`, `send_callback_query`, ...) and reads what the bot did (`calls`, `chats`,
`wait_for_messages`). It is strict where Telegram is: HTML that Telegram would reject, texts over
4096 UTF-16 units, edits that change nothing, unknown chats and methods all get Telegram's errors.

    @pytest.fixture
    async def telegram() -> AsyncIterator[FakeTelegram]:
        async with FakeTelegram() as server:
            yield server

    async def test_start(telegram: FakeTelegram) -> None:
        app = Application.builder().token(telegram.token).base_url(telegram.base_url).build()
        app.add_handler(CommandHandler("start", start))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
            await telegram.send_text(42, "/start")
            reply = await telegram.next_message(42)
            assert reply.text == "Hi!"
            await app.updater.stop()
            await app.stop()

Sync code (benchmarks, load tests) runs the server on its own loop in a thread:
`with FakeTelegramThread() as fake: fake.run(fake.server.send_text(42, "hi"))`.

Knobs: `flood` (429 with retry_after), `fail` (5xx), `delay`, `reject_token` (401 to every call),
`pause`/`resume` (connections refused), `block` (403 from a user), `add_chat`/`add_user`,
`proxy_webhooks` (updates go to the webhook URL's path on a loopback upstream, as a TLS reverse
proxy forwards them). Deliberate relaxations: webhooks may be plain http on loopback, the bot may
read all group messages (no privacy mode), and only the parse mode HTML is implemented. What
Telegram accepts (HTML, keyboards, inline results, commands) is checked by the pure functions in
`fake_telegram_html.py`.

The package in parts: `server` (HTTP, lifecycle, the thread wrapper), `state` (chats, messages,
updates, calls and the waits on them), `methods` (the Bot API methods), `faults` (the knobs),
`users` (what the test's users do).
"""

from __future__ import annotations

from tests.fake_telegram.server import FakeTelegram, FakeTelegramThread
from tests.fake_telegram.state import DEFAULT_TOKEN, Call, Chat, Message

__all__ = ["DEFAULT_TOKEN", "Call", "Chat", "FakeTelegram", "FakeTelegramThread", "Message"]
