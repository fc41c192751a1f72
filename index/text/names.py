"""The names a question asks about, which the answer's articles must mention (the names check).

Issue #11's hardest case is the question about a thing the news never mentions, asked of an
article on the right topic: "What did Xi say about Japan?" of an article about Xi's calls with
Putin and Trump. Cosines cannot see it (every sentence of an on-topic article looks close), and
no pair-scorer (cross-encoder, reader) ships inside a package (docs/quality.md). A model-free
signal can: the question names something (Japan) that the best article never mentions.

A *name* is a word of the question that names a thing rather than asks about it: a capitalized
word that does not begin a sentence (not a month or a weekday: those are `index.text.timeframe`'s;
not a stopword, a greeting or a thank-you, nor a title such as "Mr" or "Chairman":
`NOT_NAMES`), an acronym, a word holding a digit and a letter ("G7") or a year, or a place or
institution the gazetteer knows in any place ("Japan's", "Beijing", "the Kremlin"; in lower case
only in a question written in lower case: "japan", not "polish"). Names written one after the
other are one name ("Champions League"). People type questions in many ways (issue #19): a
question written in capitals ("WHAT DID XI SAY?") is read as if in lower case, and one written in
title case (`is_title_case`: a pasted headline) names only acronyms, years, such words and places.

Whether an article mentions a name is `index.text.mentions`'s; the places and their other names
are `index.text.gazetteer`'s. How a missing name weighs in the answer is
`index.answers.fusion.is_answered`'s (docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.text.analysis import ENGLISH_STOPWORDS
from index.text.gazetteer import Gazetteer, undotted

# A question is written in title case (a pasted headline) when every word with at least this many
# letters that does not begin a sentence is capitalized, and there are `TITLE_CASE_WORDS` of them
# or a capitalized stopword: "Bank Of Japan Stands Ready", not "Did Xi see Zelensky?".
TITLE_CASE_LENGTH = 4
TITLE_CASE_WORDS = 3
# A question is shouted (written in capitals) when this share of its words of two letters or more
# are, and it has at least `SHOUTED_WORDS` of them: its capitals then tell no name apart.
SHOUTED_SHARE = 0.8
SHOUTED_WORDS = 3
# Capitalized words that are not names: greetings and thanks around a question, words that begin
# one, and the titles before a person's name (issue #19: "Hi!", "Thanks!", "Mr Xi", "Chairman
# Xi"). Stopwords (`index.text.analysis.ENGLISH_STOPWORDS`) are not names either.
NOT_NAMES = frozenset(
    """
    hi hello hey hiya howdy greetings dear yo thanks thank thx cheers please pls plz ok okay yes
    yeah sorry btw also anyway so well could would might must shall let lets
    mr mrs ms miss mx dr prof sir dame lord lady madam mister
    president chairman chairwoman chairperson chair premier prime minister chancellor secretary
    senator sen rep representative congressman congresswoman governor gov mayor king queen
    prince princess pope ayatollah sheikh emir sultan judge justice commissioner ambassador
    deputy vice foreign leader speaker
    """.split()
)
# Words that greet: the word after one begins the question ("Hi, What did Xi say?").
GREETINGS = frozenset("hi hello hey hiya howdy greetings yo dear".split())
TIME_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
# Of numbers, only years are names ("in 2024"); amounts and counts are asked about ("#99", "top
# 10"). Words mixing letters and digits ("G7", "F-16") are names.
YEAR = re.compile(r"1[5-9]\d\d|20\d\d")
# No name is longer: a longer "word" is noise, not something to say the news never mentions.
MAX_NAME_LENGTH = 40
# A reply lists at most this many missing names.
MAX_LISTED = 3
# The caveat above the closest passages of a question whose names no article mentions
# (`index.model.Findings.closest`): the terminal's and the bot's, filled by `caveat`.
CAVEAT = "No article mentions {names}; the closest:"
WORD = re.compile(r"[^\W_](?:[\w'’.&-]*[^\W_])?")
# What ends a sentence between two words: the next word begins one.
SENTENCE_END = re.compile(r"[.!?:;]")
POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


def question_names(question: str, gazetteer: Gazetteer) -> tuple[str, ...]:
    """Return the names `question` asks about, in order, each once (module docstring).

    Names written one after the other, with only spaces between, are one name: "Champions
    League", "Xi Jinping", "New Zealand". A question written in capitals is read in lower case.
    """
    text = undotted(question)
    if is_shouted(text):
        text = text.lower()
    found = [(m.start(), m.end(), POSSESSIVE.sub("", m.group())) for m in WORD.finditer(text)]
    initial = _sentence_initial(text, found)
    case = _case([w for (_, _, w), first in zip(found, initial, strict=True) if not first])
    names: list[str] = []
    joinable = False  # the last name was a whole word, not part of a hyphenated one
    end_of_last = -1
    for (start, end, word), first in zip(found, initial, strict=True):
        # "Union Jack-based" names "Union" and "Jack"; "F-16" is one name.
        parts = word.split("-") if word.replace("-", "").isalpha() else [word]
        for number, part in enumerate(parts):
            if not (part and _is_name(part, first and number == 0, case, gazetteer)):
                joinable = False
                continue
            follows = number == 0 and joinable and not text[end_of_last:start].strip()
            if follows and _is_joined_name(names[-1]) and _is_joined_name(part):
                names[-1] = f"{names[-1]} {part}"
            else:
                names.append(part)
            joinable = len(parts) == 1
            end_of_last = end
    return tuple(dict.fromkeys(names))


def is_shouted(text: str) -> bool:
    """Whether `text` is written in capitals (`SHOUTED_SHARE` of its words of 2+ letters)."""
    words = [w for w in WORD.findall(text) if sum(c.isalpha() for c in w) >= 2]
    shouted = sum(1 for w in words if w.isupper())
    return len(words) >= SHOUTED_WORDS and shouted >= SHOUTED_SHARE * len(words)


def _sentence_initial(text: str, found: Sequence[tuple[int, int, str]]) -> list[bool]:
    """Whether each word begins a sentence: the first, or after ".", "!", "?", ":" or a greeting.

    A title's dot ("Mr. Xi") ends no sentence; after a greeting ("Hi, what did...") the next word
    begins the question.
    """
    initial = []
    for number, (start, _, _) in enumerate(found):
        if number == 0:
            initial.append(True)
            continue
        before_end, previous = found[number - 1][1], found[number - 1][2].lower()
        ends = SENTENCE_END.search(text[before_end:start]) is not None
        initial.append((ends and previous not in NOT_NAMES) or previous in GREETINGS)
    return initial


def _case(words: Sequence[str]) -> Case:
    """Return how a question is written, from its words that begin no sentence."""
    long_words = [
        w
        for w in words
        if w.isalpha() and len(w) >= TITLE_CASE_LENGTH and w.lower() not in NOT_NAMES
    ]
    capitalized = bool(long_words) and all(w[0].isupper() for w in long_words)
    stopword_capitalized = any(
        w[0].isupper() and not w.isupper() and w.lower() in ENGLISH_STOPWORDS for w in words
    )
    title_case = capitalized and (len(long_words) >= TITLE_CASE_WORDS or stopword_capitalized)
    rest = " ".join(words)
    return Case(title_case, all_lower_case=rest == rest.lower())


def _is_joined_name(name: str) -> bool:
    """Whether a name joins its neighbours into one: words, not numbers or codes ("G7", "2026")."""
    return name.replace(" ", "").isalpha() and not name.isupper()


@dataclass(frozen=True, slots=True)
class Case:
    """How a question is written, as its names are told apart.

    Attributes:
        title_case: Every longer word capitalized, as in a headline (`TITLE_CASE_LENGTH`).
        all_lower_case: No capital letter in the words that begin no sentence.
    """

    title_case: bool
    all_lower_case: bool


def _is_name(word: str, initial: bool, case: Case, gazetteer: Gazetteer) -> bool:
    """Whether one word of a question names something (module docstring).

    `initial`: the word begins a sentence, where a capital says nothing.
    """
    lower = word.lower()
    if lower in TIME_WORDS or len(word) > MAX_NAME_LENGTH:
        return False
    if word.isdigit():
        return YEAR.fullmatch(word) is not None
    digits, letters = any(c.isdigit() for c in word), any(c.isalpha() for c in word)
    if digits:
        return letters  # "G7", "F-16"; not "228.1" or "0&0"
    if lower in NOT_NAMES:
        return False
    if gazetteer.names_place(word, case.all_lower_case):
        return True  # codes too, as written: "IN", "US"
    if lower in ENGLISH_STOPWORDS or lower.replace("’", "'") in ENGLISH_STOPWORDS:
        return False
    if len(word) > 1 and word.isupper():
        return True
    return not case.title_case and not initial and len(word) > 1 and word[0].isupper()


def listed(names: Sequence[str]) -> str:
    """Return names as a reply lists them: "Japan", "Japan or TikTok", "A, B or C".

    Past `MAX_LISTED` names, the rest are left out ("A, B, C or others").
    """
    if len(names) > MAX_LISTED:
        names = [*names[:MAX_LISTED], "others"]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def caveat(names: Sequence[str]) -> str:
    """Return the caveat shown above the closest passages: "No article mentions Japan; ..."."""
    return CAVEAT.format(names=listed(names))
