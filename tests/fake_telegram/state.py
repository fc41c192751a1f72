"""The fake server's state: chats, messages, users, queued updates, calls, and waits on them."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from tests.fake_telegram_html import (
    Params,
)

if TYPE_CHECKING:
    from tests.fake_telegram.faults import Fault

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTestsOnly0123"
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


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


class TelegramState:
    """Everything the fake server knows and the waits on it; the other parts act on it."""

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
        self.proxy_upstream: str | None = None  # host:port webhooks go to (`proxy_webhooks`)
        self.commands: dict[tuple[str, str], list[Params]] = {}  # (scope key, language) -> list
        self.callback_answers: dict[int, Params] = {}  # by the query's update_id
        self.inline_answers: dict[int, Params] = {}  # by the query's update_id
        self.inline_messages: dict[str, Message] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._queries: dict[str, int] = {}  # unanswered query id -> update_id
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._next_update_id = 1
        self._cursors: dict[int, int] = {}  # chat_id -> bot messages returned by next_message
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None

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

    def _chat_api(self, chat: Chat) -> Params:
        if chat.type != "private":
            return {"id": chat.id, "type": chat.type, "title": chat.title}
        user = self.add_user(chat.id)
        return {"id": chat.id, "type": "private"} | {k: user[k] for k in ("first_name", "username")}
