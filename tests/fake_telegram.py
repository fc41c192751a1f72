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

Knobs: `flood` (429 with retry_after), `fail` (5xx), `delay`, `pause`/`resume` (connections
refused), `block` (403 from a user), `add_chat`/`add_user`. Deliberate relaxations: webhooks may be
plain http on loopback, the bot may read all group messages (no privacy mode), and only the parse
mode HTML is implemented. What Telegram accepts (HTML, keyboards, inline results, commands) is
checked by the pure functions in `fake_telegram_html.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from tests.fake_telegram_html import (
    ApiError,
    Params,
    auto_entities,
    bad_request,
    checked_commands,
    checked_inline_results,
    checked_markup,
    decode_param,
    formatted_text,
)

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTestsOnly0123"
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
# The Bot API methods served; "sendMessage" is handled by `FakeTelegram._send_message`.
_METHODS = {
    name.lower(): name
    for name in (
        "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "setMyCommands",
        "getMyCommands", "deleteMyCommands", "sendMessage", "editMessageText",
        "editMessageReplyMarkup", "answerCallbackQuery", "answerInlineQuery", "sendChatAction",
        "deleteMessage", "close", "logOut",
    )
}  # fmt: skip
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@dataclass
class Call:
    """One request the bot made; `status` is 0 while it is being answered (long polling)."""

    method: str  # the canonical Bot API name, e.g. "sendMessage", whatever case the bot used
    params: Params  # decoded: JSON-valued fields parsed, integers and booleans converted
    received_at: float  # time.monotonic()
    status: int = 0
    response: Params = field(default_factory=dict)


@dataclass
class Message:
    """A message in a chat, the bot's or a user's; `text` is its current plain text."""

    chat_id: int
    message_id: int
    from_bot: bool
    user_id: int | None  # the sender, for users' messages
    text: str | None  # after entity parsing, as Telegram stores it
    raw_text: str | None  # as sent, e.g. the HTML source
    parse_mode: str | None
    entities: list[Params]
    reply_markup: Params | None
    reply_to_message_id: int | None
    date: int
    edit_date: int | None = None
    deleted: bool = False
    history: list[str] = field(default_factory=list)  # earlier texts, oldest first
    extra: Params = field(default_factory=dict)  # sticker, photo, caption... of users' messages


@dataclass
class Chat:
    """A chat the server knows, with every message in it by message_id."""

    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    messages: dict[int, Message] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)  # sendChatAction, in order
    blocked: bool = False  # a private chat whose user blocked the bot: 403
    next_message_id: int = 1

    @property
    def bot_messages(self) -> list[Message]:
        """The bot's messages in the order sent, deleted ones included (see `.deleted`)."""
        return [m for m in self.messages.values() if m.from_bot]


@dataclass
class _Fault:
    kind: str  # "flood", "fail" or "delay"
    method: str | None  # lower-case name, None for every method
    times: int | None  # how many more calls it hits; None: until `until` or clear_faults()
    until: float | None = None  # time.monotonic() deadline
    share: float = 1.0  # chance that a call is hit (seeded RNG)
    status: int = 0
    retry_after: float = 0
    seconds: float = 0.0
    execute_first: bool = False


class FakeTelegram:
    """The fake Bot API for one bot. Start with `async with` or `start()`/`stop()`."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "newsbot_test_bot",
        first_name: str = "Newsbot",
        seed: int = 0,
        strict_html: bool = True,
        strict_chats: bool = True,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        """Prepare the server; nothing listens until `start()`.

        Args:
            token: The only token accepted; its numeric prefix is the bot's user id.
            username: The bot's username, without '@'.
            first_name: The bot's display name.
            seed: Seeds the RNG that `flood(share=...)` and `fail(share=...)` draw from.
            strict_html: Reject what the docs forbid and tdlib tolerates (bare '&', '>').
            strict_chats: Answer "chat not found" for chats no update or `add_chat` introduced.
            webhook_retry_delay: Seconds between attempts to deliver an update to a failing hook.
        """
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: Params = {
            "id": self.bot_id, "is_bot": True, "first_name": first_name, "username": username,
            "can_join_groups": True, "can_read_all_group_messages": True,
            "supports_inline_queries": True, "can_connect_to_business": False,
            "has_main_web_app": False,
        }  # fmt: skip
        self.strict_html, self.strict_chats = strict_html, strict_chats
        self.webhook_retry_delay = webhook_retry_delay
        self.port = 0
        self.calls: list[Call] = []
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, Params] = {}
        self.updates: dict[int, Params] = {}  # every update ever queued, by update_id
        self.pending: list[Params] = []  # queued and not yet confirmed by getUpdates/webhook
        self.allowed_updates: list[str] | None = None
        self.webhook: Params = {"url": ""}  # as setWebhook left it, plus delivery errors
        self.commands: dict[tuple[str, str], list[Params]] = {}  # (scope key, language) -> list
        self.callback_answers: dict[int, Params] = {}  # by the query's update_id
        self.inline_answers: dict[int, Params] = {}  # by the query's update_id
        self.inline_messages: dict[str, Message] = {}
        self._queries: dict[str, int] = {}  # unanswered query id -> update_id
        self._faults: list[_Fault] = []
        self._rng = random.Random(seed)
        self._next_update_id = 1
        self._cursors: dict[int, int] = {}  # chat_id -> bot messages returned by next_message
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What PTB takes as `base_url`: it requests f"{base_url}{token}/{method}"."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1, on an ephemeral port the first time, on the same port after."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, and close every connection."""
        self._closing = True
        self._notify()
        if self._delivery:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        await self.pause()
        self._closing = False

    async def pause(self) -> None:
        """Drop every connection and refuse new ones (state is kept) until `resume()`."""
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def resume(self) -> None:
        """Accept connections again, on the same port."""
        await self.start()

    # -- knobs -------------------------------------------------------------------------------

    def flood(
        self,
        method: str | None,
        *,
        times: int | None = 1,
        share: float = 1.0,
        retry_after: float = 1,
    ) -> None:
        """Answer 429 "retry after `retry_after`" to the next `times` calls of `method`.

        With `share` < 1 each call is hit with that chance (seeded RNG); `times=None` keeps the
        knob on until `clear_faults()`. `method=None` hits every method. Telegram sends whole
        seconds; a fraction such as 0.05 keeps tests of PTB's AIORateLimiter fast.
        """
        self._add(_Fault("flood", method, times, share=share, retry_after=retry_after))

    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 502,
        times: int | None = None,
        seconds: float | None = None,
        share: float = 1.0,
    ) -> None:
        """Answer HTTP `status` to the next `times` calls, or to every call for `seconds`."""
        until = time.monotonic() + seconds if seconds is not None else None
        self._add(_Fault("fail", method, times, until=until, share=share, status=status))

    def delay(
        self,
        seconds: float,
        method: str | None = None,
        *,
        times: int | None = None,
        execute_first: bool = False,
    ) -> None:
        """Hold answers for `seconds`, to make the bot time out.

        With `execute_first` the call takes effect before the wait, so a bot that times out and
        retries sends twice, as it would against the real API.
        """
        self._add(_Fault("delay", method, times, seconds=seconds, execute_first=execute_first))

    def clear_faults(self) -> None:
        """Remove every flood, fail and delay knob."""
        self._faults.clear()

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """Make the user of private chat `chat_id` block (or unblock) the bot: 403 on sends."""
        self.add_chat(chat_id).blocked = blocked

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str = "en",
    ) -> Params:
        """Register (or return) a user; users are made up on first use otherwise."""
        if user_id not in self.users:
            self.users[user_id] = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User{user_id}",
                "username": username or f"user{user_id}",
                "language_code": language_code,
            }
        return self.users[user_id]

    def add_chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None
    ) -> Chat:
        """Make a chat known (as if it had sent an update) and return it.

        `chat_type` defaults to "private" for positive ids and "group" for negative ones.
        """
        chat_type = chat_type or ("private" if chat_id > 0 else "group")
        if chat_id in self.chats:
            chat = self.chats[chat_id]
            if chat.type != chat_type:
                raise ValueError(f"chat {chat_id} is a {chat.type} chat, not {chat_type}")
            return chat
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"unsupported chat type {chat_type!r}")
        if (chat_type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, groups negative ones")
        self.chats[chat_id] = Chat(chat_id, chat_type, title or (None if chat_id > 0 else "Group"))
        return self.chats[chat_id]

    # -- the test plays the users ------------------------------------------------------------

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Queue a user's text message (entities for /commands, @mentions, urls); return its id."""
        return self._user_message(chat_id, user_id, chat_type, reply_to, text=text)

    async def send_sticker(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        emoji: str = "👍",
        chat_type: str | None = None,
    ) -> int:
        """Queue a user's sticker message; return the update_id."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAEBsticker", "file_unique_id": "AgADsticker",
            "type": "regular", "width": 512, "height": 512, "is_animated": False,
            "is_video": False, "emoji": emoji,
        }  # fmt: skip
        return self._user_message(chat_id, user_id, chat_type, None, extra={"sticker": sticker})

    async def send_photo(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        caption: str | None = None,
        chat_type: str | None = None,
    ) -> int:
        """Queue a user's photo, with an optional caption; return the update_id."""
        sizes = [
            {"file_id": f"AgACphoto{w}", "file_unique_id": f"AQADphoto{w}", "width": w,
             "height": w * 3 // 4, "file_size": w * 90}
            for w in (90, 320, 800)
        ]  # fmt: skip
        extra: Params = {"photo": sizes}
        if caption:
            extra |= {"caption": caption, "caption_entities": auto_entities(caption)}
        return self._user_message(chat_id, user_id, chat_type, None, extra=extra)

    async def send_edited_message(
        self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None
    ) -> int:
        """Queue a user's edit of their text message `message_id`; return the update_id."""
        message = self.chats[chat_id].messages[message_id]
        if message.from_bot or (user_id is not None and message.user_id != user_id):
            raise ValueError("users can only edit their own messages")
        message.history.append(message.text or "")
        message.text = message.raw_text = text
        message.entities = auto_entities(text)
        message.edit_date = int(time.time())
        return self._enqueue({"edited_message": self.message_api(message)})

    async def send_callback_query(
        self,
        chat_id: int | None = None,
        message_id: int | None = None,
        data: str = "",
        *,
        user_id: int | None = None,
        inline_message_id: str | None = None,
    ) -> int:
        """Queue a press of a callback button on a bot message; return the update_id."""
        query: Params = {"data": data}
        if inline_message_id is not None:
            if user_id is None:
                raise ValueError("say which user pressed the button")
            query["inline_message_id"] = inline_message_id
        else:
            if chat_id is None or message_id is None:
                raise ValueError("give chat_id and message_id, or inline_message_id")
            message = self.chats[chat_id].messages.get(message_id)
            if message is None or not message.from_bot or message.deleted:
                raise ValueError(f"no bot message {message_id} in chat {chat_id}")
            user_id = self._sender(chat_id, user_id)
            query["message"] = self.message_api(message)
        query_id = str(10**15 + self._next_update_id)  # numeric, like Telegram's
        instance = f"ci{chat_id or inline_message_id}"
        query |= {"id": query_id, "from": self.add_user(user_id), "chat_instance": instance}
        update_id = self._enqueue({"callback_query": query})
        self._queries[query_id] = update_id
        return update_id

    async def send_inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> int:
        """Queue an inline query typed by `user_id`; return the update_id."""
        query_id = str(10**15 + self._next_update_id)  # numeric, like Telegram's
        body = {"id": query_id, "from": self.add_user(user_id), "query": query, "offset": offset}
        update_id = self._enqueue({"inline_query": body | {"chat_type": chat_type}})
        self._queries[query_id] = update_id
        return update_id

    def add_inline_message(self, text: str, reply_markup: Params | None = None) -> str:
        """Create a message sent via the bot in inline mode; return its inline_message_id."""
        inline_id = f"inline{len(self.inline_messages) + 1}"
        self.inline_messages[inline_id] = Message(
            0, 0, True, None, text, text, None, [], reply_markup, None, int(time.time())
        )
        return inline_id

    async def send_update(self, body: Params) -> int:
        """Queue a raw update body such as {"my_chat_member": {...}}; return the update_id."""
        return self._enqueue(dict(body))

    async def post_update(
        self, url: str, update: int | Params, *, secret_token: str | None = None
    ) -> int:
        """POST an update (or a queued one by id) to a webhook `url`; return the HTTP status."""
        body = self.updates[update] if isinstance(update, int) else update
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=body, headers=headers) as response,
        ):
            return response.status

    # -- the test reads what the bot did -----------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """The calls of `method` (any case), answered or not, in the order received."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_until(
        self, condition: Callable[[], T], timeout: float = 5.0, what: str = "a condition"
    ) -> T:
        """Wait until `condition()` is truthy, re-checking on every change; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            value = condition()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}->{c.status}" for c in self.calls[-8:])
                raise AssertionError(f"waited {timeout}s for {what}; last calls: {recent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[Message]:
        """Wait until the bot has sent `count` messages to the chat; return all it has sent."""

        def sent() -> list[Message]:
            chat = self.chats.get(chat_id)
            messages = chat.bot_messages if chat else []
            return messages if len(messages) >= count else []

        return await self.wait_until(sent, timeout, f"{count} bot message(s) in chat {chat_id}")

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> Message:
        """Return the bot's first message in the chat that no earlier `next_message` returned."""
        seen = self._cursors.get(chat_id, 0)
        messages = await self.wait_for_messages(chat_id, seen + 1, timeout)
        self._cursors[chat_id] = seen + 1
        return messages[seen]

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `count` calls of `method` were answered; return all answered ones."""

        def answered() -> list[Call]:
            calls = [c for c in self.calls_to(method) if c.status]
            return calls if len(calls) >= count else []

        return await self.wait_until(answered, timeout, f"{count} answered {method} call(s)")

    def message_api(self, message: Message, *, nested: bool = True) -> Params:
        """The Bot API Message object for `message`."""
        chat = self.chats[message.chat_id]
        body: Params = {
            "message_id": message.message_id,
            "from": self.bot_user if message.from_bot else self.users[message.user_id or 0],
            "chat": self._chat_api(chat),
            "date": message.date,
        }
        if message.edit_date:
            body["edit_date"] = message.edit_date
        if message.text is not None:
            body["text"] = message.text
        if message.entities:
            body["entities"] = message.entities
        body |= message.extra
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        replied = chat.messages.get(message.reply_to_message_id or 0)
        if nested and replied:
            body["reply_to_message"] = self.message_api(replied, nested=False)
        return body

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        call = Call(_METHODS.get(name.lower(), name), {}, time.monotonic())
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            call.params = await _read_params(request)
            if name.lower() not in _METHODS:
                raise ApiError(404, "Not Found")
            result = await self._run(call)
            body: Params = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            body, status = error.body(), error.code
        except Exception as exc:  # a bug here must reach the test, not hang it
            body, status = ApiError(500, f"fake Telegram crashed: {exc!r}").body(), 500
        call.status, call.response = status, body
        self._notify()
        return web.json_response(body, status=status)

    async def _run(self, call: Call) -> Any:
        """Run the method's handler (sendMessage: `_send_message`) and the faults that hit it."""
        handler = getattr(self, "_" + re.sub(r"[A-Z]", lambda c: "_" + c[0].lower(), call.method))
        faults = self._hits(call.method.lower())
        late = [f for f in faults if f.kind == "delay" and f.execute_first]
        for fault in faults:
            if fault.kind == "delay" and not fault.execute_first:
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "flood":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            elif fault.kind == "fail":
                raise ApiError(fault.status, HTTPStatus(fault.status).phrase)
        result = await handler(call.params)
        for fault in late:
            await asyncio.sleep(fault.seconds)
        return result

    def _add(self, fault: _Fault) -> None:
        fault.method = fault.method.lower() if fault.method else None
        self._faults.append(fault)

    def _hits(self, method: str) -> list[_Fault]:
        now = time.monotonic()
        self._faults = [
            f for f in self._faults if f.times != 0 and (f.until is None or f.until > now)
        ]
        hits = []
        for fault in self._faults:
            if fault.method not in (None, method):
                continue
            if fault.share < 1.0 and self._rng.random() >= fault.share:
                continue
            if fault.times is not None:
                fault.times -= 1
            hits.append(fault)
        return hits

    def _notify(self) -> None:
        """Wake every waiter: long polls, webhook delivery, wait_until."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- updates -----------------------------------------------------------------------------

    def _enqueue(self, body: Params) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, **body}
        self.updates[update_id] = update
        self.pending.append(update)
        self._notify()
        return update_id

    def _sender(self, chat_id: int, user_id: int | None) -> int:
        if user_id is None:
            if chat_id < 0:
                raise ValueError("say which user_id writes in a group")
            return chat_id
        if chat_id > 0 and user_id != chat_id:
            raise ValueError("in a private chat the user's id is the chat's id")
        return user_id

    def _user_message(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        reply_to: int | None,
        *,
        text: str | None = None,
        extra: Params | None = None,
    ) -> int:
        user_id = self._sender(chat_id, user_id)
        self.add_user(user_id)
        chat = self.add_chat(chat_id, chat_type)
        if reply_to is not None and reply_to not in chat.messages:
            raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
        message = Message(
            chat_id, chat.next_message_id, False, user_id, text, text, None,
            auto_entities(text) if text else [], None, reply_to, int(time.time()),
            extra=extra or {},
        )  # fmt: skip
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return self._enqueue({"message": self.message_api(message)})

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def _deliverable(self, limit: int) -> list[Params]:
        """The next `limit` pending updates; those of types not allowed are dropped."""
        allowed = set(self.allowed_updates or ()) or None

        def wanted(update: Params) -> bool:
            kind = next(k for k in update if k != "update_id")
            return kind in allowed if allowed else kind not in _OPT_IN_UPDATES

        self.pending = [u for u in self.pending if wanted(u)]
        return self.pending[:limit]

    async def _deliver_webhook(self) -> None:
        """Push pending updates to the webhook, one at a time, retrying until one is accepted."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while self.webhook["url"]:
                changed = self._changed
                batch = self._deliverable(1)
                if not batch:
                    await changed.wait()
                    continue
                secret = self.webhook.get("secret_token")
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                try:
                    async with session.post(
                        self.webhook["url"], json=batch[0], headers=headers
                    ) as response:
                        status = f"{response.status} {response.reason}"
                        error = "" if response.ok else f"Wrong response from the webhook: {status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {exc.__class__.__name__}"
                if not error:
                    self._confirm(batch[0]["update_id"] + 1)
                    self._notify()
                    continue
                self.webhook |= {"last_error_date": int(time.time()), "last_error_message": error}
                await asyncio.sleep(self.webhook_retry_delay)

    # -- Bot API methods ---------------------------------------------------------------------

    async def _close(self, params: Params) -> bool:
        return True

    _log_out = _close

    async def _get_me(self, params: Params) -> Params:
        return self.bot_user

    async def _get_updates(self, params: Params) -> list[Params]:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        self._confirm(params.get("offset", 0))
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll is now terminated with a conflict
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            batch = self._deliverable(limit)
            if batch or self._closing:
                return batch
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def _set_webhook(self, params: Params) -> bool:
        url = params.get("url", "")
        if not url:
            return await self._delete_webhook(params)
        if not re.match(r"^https?://[^/\s]+", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.pending.clear()
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": params.get("max_connections", 40),
        }
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver_webhook())
        self._notify()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self.pending.clear()
        self._notify()
        return True

    async def _get_webhook_info(self, params: Params) -> Params:
        info: Params = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending),
        }
        if self.webhook["url"] and self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        keys = ("max_connections", "last_error_date", "last_error_message")
        return info | {k: self.webhook[k] for k in keys if k in self.webhook}

    def _scope_key(self, params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        kind = scope.get("type", "") if isinstance(scope, dict) else ""
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = kind
        elif kind in ("chat", "chat_administrators", "chat_member"):
            key = f"{kind}:{self._chat({'chat_id': scope.get('chat_id')}).id}"
            if kind == "chat_member":
                key += f":{scope.get('user_id')}"
        else:
            raise bad_request("can't parse BotCommandScope JSON object")
        return key, params.get("language_code", "")

    async def _set_my_commands(self, params: Params) -> bool:
        self.commands[self._scope_key(params)] = checked_commands(params.get("commands"))
        return True

    async def _get_my_commands(self, params: Params) -> list[Params]:
        return self.commands.get(self._scope_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    def _chat(self, params: Params) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and isinstance(chat_id, int) and chat_id != 0 and not self.strict_chats:
            chat = self.add_chat(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _text(self, params: Params) -> tuple[str, list[Params]]:
        text, mode, entities = params.get("text"), params.get("parse_mode"), params.get("entities")
        return formatted_text(text, mode, entities, strict=self.strict_html)

    async def _send_message(self, params: Params) -> Params:
        chat = self._chat(params)
        text, entities = self._text(params)
        markup = checked_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters") or {}
        if "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        reply_to = reply.get("message_id")
        if reply_to is not None and reply.get("chat_id", chat.id) != chat.id:
            reply_to = None  # a reply into another chat is stored without the link
        replied = chat.messages.get(reply_to or 0)
        if reply_to is not None and (replied is None or replied.deleted):
            if not (
                reply.get("allow_sending_without_reply")
                or params.get("allow_sending_without_reply")
            ):
                raise bad_request("message to be replied not found")
            reply_to = None
        message = Message(
            chat.id, chat.next_message_id, True, None, text, params["text"],
            params.get("parse_mode"), entities, markup, reply_to, int(time.time()),
        )  # fmt: skip
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return self.message_api(message)

    def _target(self, params: Params) -> Message:
        """The message an edit names, by inline_message_id or by chat_id + message_id."""
        if "inline_message_id" in params:
            inline = self.inline_messages.get(params["inline_message_id"])
            if inline is None:
                raise bad_request("MESSAGE_ID_INVALID")
            return inline
        chat = self._chat(params)
        message = chat.messages.get(params.get("message_id", 0))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _edited(self, message: Message) -> Params | bool:
        message.edit_date = int(time.time())
        return True if message.chat_id == 0 else self.message_api(message)

    async def _edit_message_text(self, params: Params) -> Params | bool:
        message = self._target(params)
        text, entities = self._text(params)
        markup = checked_markup(params.get("reply_markup"))
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise ApiError(400, _NOT_MODIFIED)
        message.history.append(message.text or "")
        message.text, message.raw_text, message.entities = text, params["text"], entities
        message.parse_mode, message.reply_markup = params.get("parse_mode"), markup
        return self._edited(message)

    async def _edit_message_reply_markup(self, params: Params) -> Params | bool:
        message = self._target(params)
        markup = checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(message)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        message = chat.messages.get(params.get("message_id", 0))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(params["action"])
        return True

    def _query(self, params: Params, kind: str) -> int:
        update_id = self._queries.get(str(params.get(f"{kind}_query_id", "")))
        if update_id is None or f"{kind}_query" not in self.updates[update_id]:
            raise ApiError(400, _QUERY_TOO_OLD)
        del self._queries[str(params[f"{kind}_query_id"])]
        return update_id

    async def _answer_callback_query(self, params: Params) -> bool:
        if len(str(params.get("text", ""))) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[self._query(params, "callback")] = params
        return True

    async def _answer_inline_query(self, params: Params) -> bool:
        checked_inline_results(params.get("results"), strict=self.strict_html)
        self.inline_answers[self._query(params, "inline")] = params
        return True

    def _chat_api(self, chat: Chat) -> Params:
        if chat.type != "private":
            return {"id": chat.id, "type": chat.type, "title": chat.title}
        user = self.add_user(chat.id)
        return {"id": chat.id, "type": "private"} | {k: user[k] for k in ("first_name", "username")}


async def _read_params(request: web.Request) -> Params:
    """Query string and body (JSON, urlencoded or multipart) as one dict of decoded values."""
    raw: Params = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        raw |= body
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            # An upload is kept as its file name, not its bytes.
            raw[name] = {"file_name": value.filename} if isinstance(value, web.FileField) else value
    return {name: decode_param(name, value) for name, value in raw.items()}


class FakeTelegramThread:
    """A `FakeTelegram` on its own event loop in a daemon thread, for synchronous callers.

    Knobs (`flood`, `fail`, `block`, ...) are plain methods and may be called from any thread;
    coroutines (`send_*`, `wait_*`, `pause`) go through `run`.

    with FakeTelegramThread() as fake:
        bot_process(base_url=fake.base_url, token=fake.token)
        fake.run(fake.server.send_text(42, "hello"))
        fake.run(fake.server.wait_for_messages(42))
    """

    def __init__(self, **options: Any) -> None:
        """Take the `FakeTelegram` constructor's keyword arguments."""
        self._options = options
        self._loop: asyncio.AbstractEventLoop
        self._thread: threading.Thread
        self.server: FakeTelegram

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def token(self) -> str:
        return self.server.token

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run `coroutine` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __enter__(self) -> FakeTelegramThread:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-telegram")
        self._thread.daemon = True
        self._thread.start()

        async def started() -> FakeTelegram:
            server = FakeTelegram(**self._options)
            await server.start()
            return server

        self.server = self.run(started())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.run(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
