"""Plain text: the cleaning every parser shares, and `.txt` files (first line, then the body).

Article text is plain text with one paragraph per line: the sentence splitter splits paragraphs
on newlines first, so a line break in the middle of a sentence would cut it in two.
"""

from __future__ import annotations

import itertools
import re

from index.sources.formats.records import Draft, Parsed, Problem

TITLE_LIMIT = 120

# Control characters (but tab and newline) and lone surrogates, which cannot be encoded as UTF-8.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n"})
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "'", ")", "”", "’", "»")


def scrub(text: str) -> str:
    """Return `text` with every line break as a newline and control characters as spaces."""
    return _INVISIBLE.sub(" ", text.replace("\r\n", "\n").translate(_BREAKS))


def one_line(text: str) -> str:
    """Return `text` as one line: control characters dropped, whitespace collapsed."""
    return " ".join(scrub(text).split())


def paragraphs(text: str, *, unwrap: bool | None = None) -> str:
    """Return `text` with one paragraph per line, whitespace collapsed, blank lines dropped.

    Args:
        text: Plain text.
        unwrap: Whether lines were hard-wrapped at a fixed width (newswire style): then a
            paragraph starts after a blank line or at an indented line, and the other line
            breaks become spaces. `None` guesses it from the text (`looks_hard_wrapped`).
    """
    lines = scrub(text).split("\n")
    if unwrap is None:
        unwrap = looks_hard_wrapped(lines)
    if unwrap:
        blocks: list[list[str]] = [[]]
        for line in lines:
            if not line.strip() or line[:1].isspace():
                blocks.append([])
            blocks[-1].append(line)
        lines = [" ".join(block) for block in blocks]
    return "\n".join(p for p in (" ".join(line.split()) for line in lines) if p)


def looks_hard_wrapped(lines: list[str]) -> bool:
    """Whether lines were broken at a fixed width rather than at paragraph ends.

    Wrapped text has short lines, and most breaks between two unindented lines fall in the
    middle of a sentence; paragraph-per-line text has long lines that end sentences.
    """
    content = [line.rstrip() for line in lines if line.strip()]
    if len(content) < 2 or sum(len(line) <= 100 for line in content) < 0.9 * len(content):
        return False
    breaks = [
        a.rstrip()
        for a, b in itertools.pairwise(lines)
        if a.strip() and b.strip() and not b[:1].isspace()
    ]
    open_ended = sum(not line.endswith(_SENTENCE_END) for line in breaks)
    return bool(breaks) and open_ended >= 0.5 * len(breaks)


def headline(body: str) -> str:
    """Return a title made from the first paragraph of `body`, cut at a word."""
    first = body.split("\n", 1)[0]
    if len(first) <= TITLE_LIMIT:
        return first
    return (first[:TITLE_LIMIT].rsplit(" ", 1)[0] or first[:TITLE_LIMIT]) + "…"


def one_line_or_none(value: object) -> str | None:
    """Return a string value on one line, or None for a blank or a non-string."""
    if not isinstance(value, str):
        return None
    return one_line(value) or None


def parse_txt(text: str) -> Parsed:
    """First non-empty line is the title; the rest is the body, one paragraph per line."""
    lines = scrub(text).split("\n")
    for n, line in enumerate(lines):
        if line.strip():
            body = paragraphs("\n".join(lines[n + 1 :]))
            if not body:
                yield Problem(None, "no article text after the title line")
                return
            yield Draft(title=" ".join(line.split()), text=body)
            return
    yield Problem(None, "empty file")
