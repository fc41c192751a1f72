"""The Bot API methods the fake serves, strict where Telegram is."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from tests.fake_telegram.state import Chat, Message, TelegramState
from tests.fake_telegram_html import (
    ApiError,
    Params,
    bad_request,
    checked_commands,
    checked_inline_results,
    checked_markup,
    formatted_text,
)

_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
# The Bot API methods served; "sendMessage" is handled by `BotApiMethods._send_message`.
METHODS = {
    name.lower(): name
    for name in (
        "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "setMyCommands",
        "getMyCommands", "deleteMyCommands", "sendMessage", "editMessageText",
        "editMessageReplyMarkup", "answerCallbackQuery", "answerInlineQuery", "sendChatAction",
        "deleteMessage", "close", "logOut", "getFile",
    )
}  # fmt: skip
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


class BotApiMethods(TelegramState):
    """One coroutine per Bot API method (`getMe`: `_get_me`), and webhook delivery."""

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
                        self._forwarded(self.webhook["url"]), json=batch[0], headers=headers
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

    def proxy_webhooks(self, upstream: str) -> None:
        """Deliver webhook updates as a TLS-terminating reverse proxy forwards them.

        The URL the bot set (https://bot.example.org/tg) keeps its path and query; its scheme
        and host become `upstream`'s, which must be plain http on loopback (http://127.0.0.1:PORT),
        where the bot listens behind the proxy.
        """
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1") or parts.path:
            raise ValueError(f"a proxy upstream is http://127.0.0.1:PORT, not {upstream!r}")
        self.proxy_upstream = parts.netloc

    def _forwarded(self, url: str) -> str:
        """Return where an update for `url` goes: `url`, or its path at the proxy's upstream."""
        if self.proxy_upstream is None:
            return url
        parts = urlsplit(url)
        return urlunsplit(("http", self.proxy_upstream, parts.path, parts.query, ""))

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

    async def _get_file(self, params: Params) -> Params:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        path, content = self.files[file_id]
        return {
            "file_id": file_id, "file_unique_id": f"unique-{file_id}",
            "file_size": len(content), "file_path": path,
        }  # fmt: skip

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
