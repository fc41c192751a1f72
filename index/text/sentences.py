"""Split article bodies into sentences.

The segmenter is Bling Fire's (microsoft/blingfire, a compiled finite-state model), chosen by
measurement on the hand-checked Wikinews sentences of the GUM corpus against pysbd, syntok, segtok,
sentencex and NLTK Punkt: it ties segtok for the best F1 with a higher precision (a wrong split
cuts an answer in two, a missed one only makes it longer) and runs about 100,000 sentences a second
on one core, 30-60 times pysbd. The table and the reasons are in docs/sentences.md, reproduced by
`python bench/sentence_splitters.py`.

Three small fixes for news text go on top; the bench measures each on the gold and on Reuters:

- a piece that starts in lower case, or with a comma or a closing bracket, continues the previous
  sentence (Bling Fire splits `"Is it true?" he asked.` after the question mark);
- a piece that ends with a title such as `Dr.`, `Sen.` or `Gov.` continues into the next one, since
  a title always comes before a name (Bling Fire splits `It passed. Sen. Warren voted no.` after
  `Sen.`);
- a period after a lower-case word that is not an abbreviation, followed by a capital, ends a
  sentence (Bling Fire keeps `It rose 1-1/2 pct. Production fell.` and
  `She said it. J. K. Rowling wrote it.` together).

Paragraphs (lines) are split first and no sentence crosses a line break. Text is never lost: control
characters become spaces, lone surrogates become U+FFFD, and a paragraph that Bling Fire would alter
falls back to a plain punctuation rule. Everything here is module-level and stateless, so
`split_sentences` pickles by reference into multiprocessing workers.
"""

from __future__ import annotations

import re

import blingfire

# Control characters other than tab and line breaks become spaces, lone surrogates U+FFFD: Bling
# Fire encodes to UTF-8 (which rejects surrogates) and turns NUL into a space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Fallback when Bling Fire's output does not match its input: split after . ! ? before a capital.
_PUNCTUATION_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z])")

# No sentence starts in lower case or with a comma, colon, semicolon or closing bracket.
_CONTINUATION = re.compile(r"[\"'“‘(\[]*[a-z]|[,;:)\]}]")

# Titles that always precede a name; `No.`, `St.`, `Jr.` and `Sr.` are left out since they also
# end sentences ("No." as an answer, "on Main St.", "John Smith Jr.").
_TITLE_AT_END = re.compile(
    r"(?:^|[\s\"“‘(\[])"
    r"(?:Mr|Mrs|Ms|Messrs|Dr|Prof|Gen|Lt|Col|Maj|Capt|Cmdr|Sgt|Adm|Gov|Sen|Rep|Rev|Pres|Atty|Supt"
    r"|Hon)\.$"
)

# A whole lower-case word, a period, optional closing quotes, whitespace, then a capital: a
# sentence end unless the word is one of the abbreviations below.
_WORD_PERIOD = re.compile(r"(?<![^\s\"“‘(\[/-])([a-z]{2,})\.[\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z])")
_LOWER_CASE_ABBREVIATIONS = frozenset(
    {"al", "approx", "ca", "cf", "esp", "incl", "resp", "viz", "vs"}
)


def split_sentences(text: str) -> list[str]:
    """Split an article body into sentences, in order.

    Args:
        text: The body; paragraphs are separated by one or more line breaks.

    Returns:
        The sentences, stripped and never empty; none crosses a paragraph break. Their
        non-whitespace characters are those of `text` in order, except that control characters
        become spaces and lone surrogates U+FFFD. Any string is accepted.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        paragraph = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", line)).strip()
        if paragraph:
            pieces = _split_after_words(_segment(paragraph))
            sentences.extend(_join_titles(_join_continuations(pieces)))
    return sentences


def _segment(paragraph: str) -> list[str]:
    """Split one clean, non-empty paragraph with Bling Fire; stripped, non-empty pieces."""
    segmented = blingfire.text_to_sentences(paragraph)
    # Bling Fire puts line breaks between sentences (sometimes in place of a space) and otherwise
    # keeps the text; the cheap comparison settles all but 6 of Reuters' 123,776 paragraphs.
    if segmented.replace("\n", " ") == paragraph or _squeeze(segmented) == _squeeze(paragraph):
        pieces = [piece.strip() for piece in segmented.split("\n")]
    else:
        # Never seen with clean text, but Bling Fire returns "" on an internal error.
        pieces = _cut_after(paragraph, _PUNCTUATION_END)
    return [piece for piece in pieces if piece]


def _split_after_words(pieces: list[str]) -> list[str]:
    """Split each piece after `word.` where `word` is lower case and not an abbreviation."""
    return [part for piece in pieces for part in _cut_after(piece, _WORD_PERIOD)]


def _cut_after(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Cut `text` at the end of each match of `pattern`, unless its group 1 is an abbreviation."""
    parts: list[str] = []
    start = 0
    for match in pattern.finditer(text):
        if match.lastindex is None or match.group(1) not in _LOWER_CASE_ABBREVIATIONS:
            parts.append(text[start : match.end()].strip())
            start = match.end()
    parts.append(text[start:].strip())
    return parts


def _join_continuations(pieces: list[str]) -> list[str]:
    """Join each piece that cannot start a sentence to the one before it."""
    result: list[str] = []
    for piece in pieces:
        if result and _CONTINUATION.match(piece):
            result[-1] = f"{result[-1]} {piece}"
        else:
            result.append(piece)
    return result


def _join_titles(pieces: list[str]) -> list[str]:
    """Join each piece that ends with a title (`Dr.`, `Sen.`) to the one after it."""
    result: list[str] = []
    for piece in pieces:
        # Only the end can hold a title: search the last characters, not the whole piece.
        if result and _TITLE_AT_END.search(result[-1], max(0, len(result[-1]) - 8)):
            result[-1] = f"{result[-1]} {piece}"
        else:
            result.append(piece)
    return result


def _squeeze(text: str) -> str:
    """Return `text` without any whitespace."""
    return "".join(text.split())
