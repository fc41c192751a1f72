"""What Telegram accepts from a bot, as pure functions, for the fake server in `fake_telegram/`.

Each check returns the value as Telegram would store it or raises `ApiError` with the API's own
description, e.g. "Bad Request: can't parse entities: ...". Most of the file is the HTML parse mode.

`formatted_text` does what the Bot API does with `text` + `parse_mode` (or `entities`) before it
stores a message: parse the HTML into plain text and entities, trim, and check the length in
UTF-16 code units. The HTML parser follows tdlib's `parse_html` (td/telegram/MessageEntity.cpp),
the code behind api.telegram.org: the same tags, attributes and error messages, with byte offsets
into the UTF-8 text. With `strict=True` (the default) it also enforces what the Bot API
documentation demands and tdlib tolerates: every `&` starts an entity ending in `;`, and `>`
outside a tag is escaped. A bot that follows the documentation never notices.

The rest: `decode_param` (form fields arrive as strings), `checked_markup` (inline keyboards),
`checked_commands` (setMyCommands) and `checked_inline_results` (answerInlineQuery).
"""

from __future__ import annotations

import json
import re
from typing import Any

Params = dict[str, Any]

MESSAGE_LIMIT = 4096
"""Longest message text, in UTF-16 code units after entity parsing."""

_SPACE = " \t\r\n\f\v"
# Form fields are strings; these are JSON, integers or booleans in the Bot API.
_JSON_PARAMS = {
    "reply_markup", "entities", "caption_entities", "results", "commands", "scope",
    "allowed_updates", "link_preview_options", "reply_parameters", "button", "message_ids",
}  # fmt: skip
_INT_PARAMS = {
    "chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
    "max_connections", "message_thread_id", "reply_to_message_id",
}  # fmt: skip
_BOOL_PARAMS = {
    "disable_notification", "protect_content", "show_alert", "is_personal",
    "drop_pending_updates", "allow_sending_without_reply", "disable_web_page_preview",
}  # fmt: skip
_BUTTON_ACTIONS = {
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
}  # fmt: skip
_NOT_A_BUTTON = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_TYPE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ENTITY = re.compile(r"&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-zA-Z]+))(;?)")
# What Telegram marks up by itself in the text users send.
_AUTO_ENTITY = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@]))"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w))"
    r"|(?P<url>\bhttps?://[^\s<>\"]+)"
)


class ApiError(Exception):
    """An error answer: the HTTP status is `code`, `description` is Telegram's text."""

    def __init__(self, code: int, description: str, parameters: Params | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> Params:
        """The JSON error envelope."""
        body: Params = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """Return the 400 error "Bad Request: `description`"."""
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Return the length Telegram counts for `text`: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def formatted_text(
    text: Any, parse_mode: str | None, entities: Any = None, *, strict: bool = True
) -> tuple[str, list[Params]]:
    """Return (plain text, entities) as Telegram would store a message, or raise `ApiError`."""
    if not isinstance(text, str) or not text:
        raise bad_request("message text is empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("strings must be encoded in UTF-8") from None
    if entities is not None:  # explicit entities win over parse_mode, as in the Bot API
        plain, found = text, _checked_entities(text, entities)
    elif parse_mode is None or parse_mode == "":
        plain, found = text, []
    elif parse_mode.lower() == "html":
        plain, found = parse_html(text, strict=strict)
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        raise bad_request(f"the fake Telegram server does not implement parse_mode {parse_mode}")
    else:
        raise bad_request("unsupported parse_mode")
    plain, found = _trim(plain, found)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MESSAGE_LIMIT:
        raise bad_request("message is too long")
    return plain, found


def auto_entities(text: str) -> list[Params]:
    """Return the bot_command, mention and url entities Telegram adds to a user's text."""
    found = []
    for match in _AUTO_ENTITY.finditer(text):
        kind = match.lastgroup or ""
        offset = utf16_len(text[: match.start()])
        found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return found


def parse_html(html: str, *, strict: bool = True) -> tuple[str, list[Params]]:
    """Parse Telegram HTML into (plain text, entities with UTF-16 offsets); raise `ApiError`."""
    return _HtmlParser(html, strict).parse()


class _HtmlParser:
    """One pass over the HTML, as tdlib does it: text, entities (&...;), start and end tags."""

    def __init__(self, html: str, strict: bool) -> None:
        self.html = html
        self.strict = strict
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0  # UTF-16 length of `out`
        self.open: list[tuple[str, str, int, int]] = []  # tag, argument, offset, byte offset
        self.entities: list[Params] = []

    def fail(self, message: str) -> ApiError:
        return bad_request(f"can't parse entities: {message}")

    def byte_offset(self, pos: int) -> int:
        return len(self.html[:pos].encode("utf-8"))

    def char(self, pos: int) -> str:
        return self.html[pos] if pos < len(self.html) else ""

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)

    def parse(self) -> tuple[str, list[Params]]:
        html = self.html
        while self.pos < len(html):
            c = html[self.pos]
            if c == "&":
                self.emit(self.entity())
            elif c == "<":
                if self.char(self.pos + 1) == "/":
                    self.end_tag()
                else:
                    self.start_tag()
            elif c == ">" and self.strict:
                at = self.byte_offset(self.pos)
                raise self.fail(f'character ">" at byte offset {at} must be escaped as &gt;')
            else:
                self.emit(c)
                self.pos += 1
        if self.open:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.open[-1][0]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def entity(self) -> str:
        """Decode the entity at `pos` and move past it; a lone '&' is itself unless strict."""
        start, html = self.pos, self.html
        match = _ENTITY.match(html, start)
        value = ""
        if match:
            hex_digits, digits, name, semicolon = match.groups()
            if name:
                value = _NAMED.get(name, "")
            else:
                code = int(hex_digits, 16) if hex_digits else int(digits)
                valid = 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF
                value = chr(code) if valid else ""
            if value and (semicolon or not self.strict):
                self.pos = match.end()
                return value
        if self.strict:
            at = self.byte_offset(start)
            raise self.fail(
                f'character "&" at byte offset {at} must start an entity like &amp; or &#38;'
            )
        self.pos += 1
        return "&"

    def start_tag(self) -> None:
        html, begin = self.html, self.pos
        at = self.byte_offset(begin)
        pos = begin + 1
        while pos < len(html) and html[pos] not in _SPACE and html[pos] != ">":
            pos += 1
        if pos >= len(html):
            raise self.fail(f"Unclosed start tag at byte offset {at}")
        tag = html[begin + 1 : pos].lower()
        if tag not in _ENTITY_TYPE:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {at}')
        argument = ""
        while True:
            while self.char(pos) and self.char(pos) in _SPACE:
                pos += 1
            if self.char(pos) == ">":
                break
            name_start = pos
            while self.char(pos) and self.char(pos) not in _SPACE + "=>":
                pos += 1
            name = html[name_start:pos].lower()
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
            while self.char(pos) and self.char(pos) in _SPACE:
                pos += 1
            if self.char(pos) != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "expandable"
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {at}'
                )
            pos += 1
            while self.char(pos) and self.char(pos) in _SPACE:
                pos += 1
            if not self.char(pos):
                raise self.fail(f"Unclosed start tag at byte offset {at}")
            value, pos = self.attribute_value(pos)
            if not self.char(pos):
                raise self.fail(f"Unclosed start tag at byte offset {at}")
            argument = _argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if tag == "tg-emoji" and not (argument.isdigit() and int(argument) > 0):
            raise bad_request("Invalid custom emoji identifier specified")
        self.open.append((tag, argument, self.offset, at))
        self.pos = pos + 1

    def attribute_value(self, pos: int) -> tuple[str, int]:
        """Read a quoted string (entities decoded) or a bare name token; return it and the end."""
        html = self.html
        quote = html[pos]
        if quote not in "'\"":
            start = pos
            while self.char(pos).isalnum() or self.char(pos) in (".", "-"):
                pos += 1
            if self.char(pos) not in (*_SPACE, ">"):
                raise self.fail(
                    f"Unexpected end of name token at byte offset {self.byte_offset(pos)}"
                )
            return html[start:pos].lower(), pos
        pos += 1
        value: list[str] = []
        while self.char(pos) and html[pos] != quote:
            if html[pos] == "&":
                self.pos = pos
                value.append(self.entity())
                pos = self.pos
            else:
                value.append(html[pos])
                pos += 1
        if self.char(pos) == quote:
            pos += 1
        return "".join(value), pos

    def end_tag(self) -> None:
        html, begin = self.html, self.pos
        at = self.byte_offset(begin)
        if not self.open:
            raise self.fail(f"Unexpected end tag at byte offset {at}")
        pos = begin + 2
        while self.char(pos) and html[pos] not in _SPACE and html[pos] != ">":
            pos += 1
        name = html[begin + 2 : pos].lower()
        while self.char(pos) and html[pos] in _SPACE:
            pos += 1
        if self.char(pos) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {at}")
        tag, argument, offset, _ = self.open.pop()
        if name and name != tag:
            raise self.fail(
                f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{name}>"'
            )
        self.pos = pos + 1
        self.close(tag, argument, offset)

    def close(self, tag: str, argument: str, offset: int) -> None:
        length = self.offset - offset
        if length == 0:
            return
        entity: Params = {"type": _ENTITY_TYPE[tag], "offset": offset, "length": length}
        if tag == "a":
            if not argument:  # tdlib drops links it cannot use
                return
            entity["url"] = (
                argument if "://" in argument or ":" in argument else f"http://{argument}"
            )
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = argument
        elif tag == "blockquote" and argument:
            entity["type"] = "expandable_blockquote"
        elif tag == "pre":
            inner = self.entities[-1] if self.entities else None
            if (
                inner
                and inner["type"] == "code"
                and (inner["offset"], inner["length"])
                == (
                    offset,
                    length,
                )
            ):
                self.entities.pop()  # <pre><code class="language-x"> is one pre entity
                if "language" in inner:
                    entity["language"] = inner["language"]
        elif tag == "code" and argument:
            entity["language"] = argument
        self.entities.append(entity)


def _argument(tag: str, name: str, value: str, current: str) -> str:
    """Return the tag's argument after attribute `name`=`value`; others attributes are ignored."""
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    return current


def _checked_entities(text: str, entities: Any) -> list[Params]:
    """Check explicit `entities` lie within `text`."""
    size = utf16_len(text)
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad_request("can't parse entities JSON object")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request("can't parse entities JSON object")
        if offset < 0 or length <= 0 or offset + length > size:
            raise bad_request(f"entity beginning at UTF-16 offset {offset} ends after the text end")
    return [dict(entity) for entity in entities]


def _trim(text: str, entities: list[Params]) -> tuple[str, list[Params]]:
    """Strip surrounding whitespace as Telegram does, keeping entities on the same characters."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def decode_param(name: str, value: Any) -> Any:
    """Turn a form field (always a string) into the type the Bot API expects for `name`."""
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in _INT_PARAMS and not value.startswith("@"):
        try:
            return int(float(value)) if "." in value else int(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


def checked_markup(markup: Any) -> Params | None:
    """Check an inline keyboard as Telegram does; other keyboards are passed through."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard: expected an Array of Arrays")
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request(_NOT_A_BUTTON)
        actions = _BUTTON_ACTIONS & button.keys()
        if len(actions) != 1:
            raise bad_request(_NOT_A_BUTTON)
        data, url = button.get("callback_data"), button.get("url")
        if "callback_data" in actions and not (
            isinstance(data, str) and 1 <= len(data.encode()) <= 64
        ):
            raise bad_request("BUTTON_DATA_INVALID")
        if "url" in actions and not (
            isinstance(url, str) and re.match(r"^(https?|tg)://\S+$", url)
        ):
            raise bad_request("BUTTON_URL_INVALID")
    return markup


def checked_commands(commands: Any) -> list[Params]:
    """Check a setMyCommands list: at most 100, lower-case names, 1-256 character descriptions."""
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        if not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("command description is empty")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


def checked_inline_results(results: Any, *, strict: bool = True) -> list[Params]:
    """Check answerInlineQuery results: at most 50, unique ids of 1-64 bytes, valid contents."""
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    ids = [result.get("id") if isinstance(result, dict) else None for result in results]
    for result, result_id in zip(results, ids, strict=True):
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        content = result.get("input_message_content")
        if not isinstance(result.get("type"), str) or (
            result["type"] == "article" and not (result.get("title") and content)
        ):
            raise bad_request("can't parse inline query result")
        if isinstance(content, dict) and "message_text" in content:
            formatted_text(
                content["message_text"],
                content.get("parse_mode"),
                content.get("entities"),
                strict=strict,
            )
        checked_markup(result.get("reply_markup"))
    if len(set(ids)) < len(ids):
        raise bad_request("RESULT_ID_DUPLICATE")
    return results
