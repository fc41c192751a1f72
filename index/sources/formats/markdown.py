"""Markdown files, with optional YAML front matter."""

from __future__ import annotations

import re
from typing import Any

import yaml

from index.sources.formats.fields import TITLE_FIELDS, draft_of, text_field
from index.sources.formats.records import Parsed, Problem, first_line
from index.sources.formats.text import one_line, scrub

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_MD_FENCE = re.compile(r" {0,3}(```|~~~)")
_MD_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_MD_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_MD_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:[ \t]*\S+")
_MD_LIST_ITEM = re.compile(r" {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+")
_MD_QUOTE = re.compile(r"(?: {0,3}>[ \t]?)+")
# Inline markup, each span bounded (`_SPAN` characters) and brackets unnested, so that no input
# makes a pattern backtrack over the whole paragraph: "[[[[..." or a run of backticks took minutes.
_SPAN = 1000
_MD_INLINE = (
    (re.compile(rf"!\[[^\[\]]{{0,{_SPAN}}}\]\([^)]{{0,{_SPAN}}}\)"), ""),  # images
    (re.compile(rf"\[([^\[\]]{{0,{_SPAN}}})\]\([^)]{{0,{_SPAN}}}\)"), r"\1"),  # [text](url)
    (re.compile(rf"\[([^\[\]]{{1,{_SPAN}}})\]\[[^\[\]]{{0,{_SPAN}}}\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^>\s]{1,2000})>"), r"\1"),  # autolinks
    (re.compile(rf"(?<!`)(`{{1,8}})(?!`)(.{{1,{_SPAN}}}?)(?<!`)\1(?!`)"), r"\2"),  # code spans
    (re.compile(rf"(\*\*|__|~~)(?=\S)(.{{1,{_SPAN}}}?)(?<=\S)\1"), r"\2"),
    (re.compile(rf"(?<![\w*])\*(?=[^\s*])(.{{1,{_SPAN}}}?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(rf"(?<![\w_])_(?=[^\s_])(.{{1,{_SPAN}}}?)(?<=[^\s_])_(?![\w_])"), r"\1"),
)
# Escaped punctuation ("\*") is set aside as a private-use character while markup is removed.
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_ESCAPED = re.compile("[\U000f0021-\U000f007e]")


def parse_markdown(text: str) -> Parsed:
    """Markdown with optional YAML front matter (`title`, `url`, `date`, `source`, `id`).

    Without a title in the front matter, the first `#` heading is the title, else the first
    line. Paragraphs, headings and list items become lines; markup is reduced to its text.
    """
    body = scrub(text)
    meta: dict[str, Any] = {}
    found = _FRONT_MATTER.match(body)
    if found:
        try:
            loaded = yaml.safe_load(found.group(1))
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else None
            yield Problem(line, f"front matter is not valid YAML ({first_line(exc)})")
            return
        if loaded is not None and not isinstance(loaded, dict):
            yield Problem(2, "front matter is not a mapping of fields")
            return
        meta = loaded or {}
        body = body[found.end() :]
    blocks = _markdown_blocks(body.split("\n"))
    title = text_field(meta, TITLE_FIELDS)
    if title is None:
        first_heading = next((i for i, (level, _) in enumerate(blocks) if level == 1), None)
        if first_heading is not None:
            title = blocks.pop(first_heading)[1]
        else:
            lines = body.split("\n")
            start = next((n for n, line in enumerate(lines) if line.strip()), len(lines))
            first = _markdown_blocks(lines[start : start + 1])
            title = first[0][1] if first else None
            blocks = _markdown_blocks(lines[start + 1 :])
    elif blocks and blocks[0][0] and blocks[0][1].casefold() == one_line(title).casefold():
        del blocks[0]  # the front matter's title repeated as the first heading
    if not title and not blocks:
        yield Problem(None, "empty file")
        return
    yield draft_of(meta, title=title, text="\n".join(text for _, text in blocks), unwrap=False)


def _markdown_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """Return (heading level or 0, plain text) for each block of Markdown lines."""
    blocks: list[tuple[int, str]] = []
    paragraph: list[str] = []
    in_code = was_quoted = False

    def flush(level: int = 0) -> None:
        text = _markdown_inline(" ".join(paragraph))
        if text:
            blocks.append((level, text))
        paragraph.clear()

    for raw in lines:
        if _MD_FENCE.match(raw):
            flush()
            in_code = not in_code
            continue
        if in_code:
            blocks.append((0, " ".join(raw.split())))
            continue
        quoted = raw.lstrip().startswith(">")
        if quoted != was_quoted:  # a quote starts or ends a block
            flush()
            was_quoted = quoted
        line = _MD_QUOTE.sub("", raw, count=1) if quoted else raw
        heading = _MD_HEADING.match(line)
        setext = _MD_SETEXT.match(line)
        if not line.strip():
            flush()
        elif setext and paragraph:
            flush(1 if setext.group(1)[0] == "=" else 2)
        elif heading:
            flush()
            paragraph.append(heading.group(2) or "")
            flush(len(heading.group(1)))
        elif _MD_RULE.match(line) or _MD_LINK_DEFINITION.match(line):
            flush()
        elif item := _MD_LIST_ITEM.match(line):
            flush()
            paragraph.append(line[item.end() :])
        else:
            paragraph.append(line.strip())
    flush()
    return [block for block in blocks if block[1]]


def _markdown_inline(text: str) -> str:
    """Return `text` with links as their text and emphasis, code and escapes as plain text."""
    text = _MD_ESCAPE.sub(lambda m: chr(0xF0000 + ord(m.group(1))), text)
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    text = _MD_ESCAPED.sub(lambda m: chr(ord(m.group()) - 0xF0000), text)
    return " ".join(text.split())
