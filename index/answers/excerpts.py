"""What a reader is shown of a passage: within a length, its best sentence whole.

One rule for every front-end: the bot (`bot.render`, within Telegram's limits), the terminal
(`index.cli_output`) and the quality bench, which counts what the user sees (docs/quality.md).
Lengths are counted as Telegram counts them (UTF-16 code units): the same cut everywhere.
"""

from __future__ import annotations

from index.model import Answer

# Visible characters of a passage shown with an answer.
PASSAGE_LIMIT = 900


def visible_length(text: str) -> int:
    """Return the length Telegram counts for `text`: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` visible characters at a word boundary, adding '…'."""
    text = " ".join(text.split())
    if visible_length(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    while visible_length(cut) > limit - 1:
        cut = cut[:-1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def shown_passage(answer: Answer, limit: int = PASSAGE_LIMIT) -> str:
    """Return the answer's passage within `limit` visible characters, its best sentence whole.

    A passage that merges several hits with their neighbours can run past the limit; cut at
    its end it could hide the very sentence that answers. Context is cut instead, at word
    boundaries marked '…', as evenly as fits on both sides of the best sentence (which is cut
    itself only when it alone is longer than the limit).
    """
    passage, best = " ".join(answer.passage.split()), " ".join(answer.sentence.split())
    at = passage.find(best)
    if visible_length(passage) <= limit or at < 0:
        return shorten(passage, limit)
    if visible_length(best) + 2 >= limit:
        return shorten(best, limit)
    before, after = passage[:at].rstrip(), passage[at + len(best) :].lstrip()
    spare = limit - visible_length(best) - 2  # the spaces around the best sentence
    after_share = min(visible_length(after), max(spare // 2, spare - visible_length(before)))
    before_share = spare - after_share
    head = _tail(before, before_share) if before else ""
    tail = shorten(after, after_share) if after and after_share > 0 else ""
    return " ".join(part for part in (head, best, tail) if part)


def _tail(text: str, limit: int) -> str:
    """Return the end of `text` within `limit` visible characters, from a word, after '…'."""
    if visible_length(text) <= limit:
        return text
    if limit < 2:
        return ""
    cut = text[-(limit - 1) :]
    while visible_length(cut) > limit - 1:
        cut = cut[1:]
    if " " in cut[: len(cut) // 2]:
        cut = cut[cut.index(" ") + 1 :]
    return "…" + cut.lstrip(" ,;:")
