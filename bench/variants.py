"""A question as people type it: its typing variants (issue #19), pure and deterministic.

From one question (and the text of the article it is about, for titles and accents), each kind in
`KINDS` gives one variant, or None when the kind does not apply (no name with a title in the
article, no accent to strip or add, no question mark, no long word):

- `lower`, `upper`: all lower case, ALL CAPS;
- `hi`, `hello`: a greeting before it ("Hi! ...", "hello, ..." with its first letter lowered);
- `thanks`: "Thanks!" after it;
- `title`: the title the article gives a person the question names ("Mr", "President",
  "Chairman"...), put before the name;
- `accents`: accents stripped where the question has them, else added where the article spells a
  word of the question with them ("Erdogan" -> "Erdoğan");
- `no_qmark`: without its question mark;
- `typo`: two adjacent letters swapped inside one long word, chosen by an RNG seeded with the
  question (the same typo on every run).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

KINDS = ("lower", "upper", "hi", "hello", "thanks", "title", "accents", "no_qmark", "typo")
# Titles looked for in the article just before a name the question asks about.
TITLES = (
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "President",
    "Chairman",
    "Premier",
    "Chancellor",
    "Minister",
    "Secretary",
    "Governor",
    "Senator",
    "Sheikh",
    "King",
    "Professor",
)
# A typo is made in a word of at least this many letters.
LONG_WORD = 7
_NAME_RUN = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_WORDS = re.compile(r"\w+")


def variants(question: str, article: str = "") -> dict[str, str | None]:
    """Return each kind's variant of `question` (None where the kind does not apply)."""
    makers: dict[str, Callable[[str, str], str | None]] = {
        "lower": lambda q, _: q.lower(),
        "upper": lambda q, _: q.upper(),
        "hi": lambda q, _: f"Hi! {q}",
        "hello": lambda q, _: f"hello, {q[:1].lower()}{q[1:]}",
        "thanks": lambda q, _: f"{q} Thanks!",
        "title": with_title,
        "accents": accents,
        "no_qmark": lambda q, _: q.rstrip().removesuffix("?").rstrip() if "?" in q else None,
        "typo": lambda q, _: typo(q),
    }
    return {kind: makers[kind](question, article) for kind in KINDS}


def with_title(question: str, article: str) -> str | None:
    """Put the title the article gives a person named in `question` before that name."""
    for match in _NAME_RUN.finditer(question):
        run = match.group(0)
        before = question[: match.start()].split()[-1:]
        if {w.rstrip(".") for w in before + run.split()[:1]} & set(TITLES):
            continue  # titled already
        last = run.split()[-1].removesuffix("'s")
        for title in TITLES:
            # "Chairman Carl Icahn" for "Icahn"; "Finance Minister Lesly Delatour" for "Delatour".
            pattern = rf"\b{title}\.?\s+(?:[A-Z][\w'-]*\s+){{0,2}}{re.escape(last)}\b"
            if re.search(pattern, article):
                return f"{question[: match.start()]}{title} {question[match.start() :]}"
    return None


def strip_accents(text: str) -> str:
    """Return `text` without its combining marks (é -> e, ğ -> g)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def accents(question: str, article: str) -> str | None:
    """Strip the question's accents, or add those the article spells its words with."""
    stripped = strip_accents(question)
    if stripped != question:
        return stripped
    accented = {strip_accents(w): w for w in _WORDS.findall(article) if strip_accents(w) != w}
    if not accented:
        return None
    result = _WORDS.sub(lambda m: accented.get(m.group(0), m.group(0)), question)
    return result if result != question else None


def typo(question: str) -> str | None:
    """Swap two adjacent letters inside one long word, chosen by an RNG seeded with it."""
    words = [m for m in _LETTERS.finditer(question) if len(m.group(0)) >= LONG_WORD]
    if not words:
        return None
    rng = random.Random(f"typo:{question}")
    word = rng.choice(words)
    text = word.group(0)
    # Not the first letter (people rarely get that wrong), and two letters that differ.
    spots = [i for i in range(1, len(text) - 1) if text[i] != text[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return question[: word.start()] + swapped + question[word.end() :]
