"""What the test's simulated users do: messages, edits, button presses, inline queries."""

from __future__ import annotations

import time

import aiohttp

from tests.fake_telegram.state import Message, TelegramState
from tests.fake_telegram_html import (
    Params,
    auto_entities,
)


class SimulatedUsers(TelegramState):
    """The users' side: each `send_*` queues the update Telegram would send the bot."""

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

    async def send_document(
        self,
        chat_id: int,
        file_name: str,
        content: bytes,
        *,
        user_id: int | None = None,
        mime_type: str = "application/octet-stream",
        chat_type: str | None = None,
    ) -> int:
        """Queue a user's file; the bot can `getFile` it and download `content`."""
        number = len(self.files) + 1
        file_id = f"BQACAgIAAxkBAAEBdocument{number}"
        self.files[file_id] = (f"documents/file_{number}{_suffix(file_name)}", content)
        document = {
            "file_id": file_id, "file_unique_id": f"AgADdocument{number}",
            "file_name": file_name, "mime_type": mime_type, "file_size": len(content),
        }  # fmt: skip
        return self._user_message(chat_id, user_id, chat_type, None, extra={"document": document})

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


def _suffix(file_name: str) -> str:
    """Return a file name's suffix ('.opml'), as Telegram keeps it in file paths."""
    dot = file_name.rfind(".")
    return file_name[dot:] if dot > 0 else ""
