"""Whether an article mentions a name the question asks about (`index.text.names`).

An article mentions a name when it holds the name as written, all of its analyzed terms
(`index.text.analysis`: stems, accents folded, so "Erdogan" of "Erdoğan"), or another name of its
group in the gazetteer (`index.text.gazetteer`: a country's names, capital and demonym, and
`ALIASES`: "the Kremlin" of Russia, "CEO" of "chief executive"); an acronym also by capitalized
words with its initials ("MTA" of "Metropolitan Transportation Authority"); with `TOLERANT`, a
long name also by a word one typo away. Never by a shared prefix: "Austria" is not "Australia".
How a missing name weighs in the answer is `index.answers.fusion.is_answered`'s
(docs/quality.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from index.text.analysis import Analyzer, fold
from index.text.gazetteer import Gazetteer, undotted
from index.text.names import WORD

# Whether a name one typo away from an article's word is mentioned (`ArticleWords._near`), and
# from how many letters ("Iran" and "Iraq" are one letter apart): on dev's typo variant, false
# alarms on answerable questions 30.9% -> 5.1%, absent facts caught on the originals unchanged
# (docs/quality.md).
TOLERANT = True
TYPO_LENGTH = 6
# A word a typo is looked for in (`spelled`): letters only, one fewer than `TYPO_LENGTH` or more.
LONG_WORD = re.compile(rf"[^\W\d_]{{{TYPO_LENGTH - 1},}}")


class ArticleWords:
    """What an article says, as names are looked up in it.

    Attributes:
        text: The article's title and text, acronyms undotted (`undotted`).
        analyzer: How the index analyzes text (`index.text.analysis`).
    """

    def __init__(self, text: str, analyzer: Analyzer) -> None:
        self.text = undotted(text)
        self.analyzer = analyzer

    @functools.cached_property
    def terms(self) -> frozenset[str]:
        """The article's analyzed terms.

        Computed once, and only for a name not found as written (about 0.5 ms for 30 sentences).
        """
        return frozenset(self.analyzer.terms(self.text))

    @functools.cached_property
    def words(self) -> dict[int, frozenset[str]]:
        """The article's long words as written (`spelled`), by length, for typos (`_near`)."""
        by_length: dict[int, set[str]] = {}
        for word in spelled(self.text):
            by_length.setdefault(len(word), set()).add(word)
        return {length: frozenset(words) for length, words in by_length.items()}

    def mentions(self, name: str, gazetteer: Gazetteer, *, tolerant: bool = TOLERANT) -> bool:
        """Whether the article names `name`.

        It does by `name` as written (in any case), all of its analyzed terms, another name of
        its group in the gazetteer (a country's, `ALIASES`), or (an acronym) words with its
        initials; never by a term that only begins like it ("Austria", "Australia"). With
        `tolerant`, each of its words as written, or a long one a typo away ("Scientoolgy" of
        "Scientology": `_near`).
        """
        terms = self.analyzer.terms(name)  # none for "AT&T": stopwords; then as written only
        if self._says(name) or (terms and all(t in self.terms for t in terms)):
            return True
        if any(self._says(other) for other in gazetteer.other_names(name)):
            return True
        if name.isupper() and name.isalpha() and self._spells(name):
            return True
        words = WORD.findall(fold(name.lower()))
        return tolerant and bool(words) and all(self._near(w) for w in words)

    def _near(self, word: str) -> bool:
        """Whether the article has `word`, or (from `TYPO_LENGTH` letters) one a typo away.

        A typo is a letter added, dropped or changed, or two neighbours swapped
        (`one_typo_apart`). Words as written, not stems: a typo can change a word's stem
        ("scientoolgi", "scientolog"). Only words within a letter of its length are compared.
        """
        size = len(word)
        if size < TYPO_LENGTH:
            return self._says(word)
        if word in self.words.get(size, ()):
            return True
        return any(
            one_typo_apart(word, other)
            for length in (size - 1, size, size + 1)
            for other in self.words.get(length, ())
        )

    def _spells(self, acronym: str) -> bool:
        """Whether capitalized words with the initials of `acronym` follow one another.

        "United Nations" spells "UN"; "of", "the", "and", "for" may come between.
        """
        between = r"\w*(?:\s+(?:of|the|and|for)\b)*\s+"
        words = between.join(re.escape(letter) for letter in acronym) + r"\w*"
        return re.search(rf"\b{words}", self.text) is not None

    def _says(self, name: str) -> bool:
        """Whether the text has `name` as words: acronyms as written, other names in any case."""
        flags = 0 if name.isupper() else re.IGNORECASE
        return re.search(rf"\b{re.escape(name)}\b", self.text, flags) is not None


def one_typo_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter added, dropped or changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1 :] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
    return a[i + 1 :] == b[i + 1 :] or swapped


def spelled(text: str) -> set[str]:
    """Return the distinct long words of `text`, lowered and accents folded (`LONG_WORD`)."""
    return {w if w.isascii() else fold(w) for w in set(LONG_WORD.findall(text.lower()))}


def missing_names(
    names: Sequence[str], article: ArticleWords, gazetteer: Gazetteer, *, tolerant: bool = TOLERANT
) -> tuple[str, ...]:
    """Return those of `names` (`question_names`) that `article` never mentions."""
    return tuple(n for n in names if not article.mentions(n, gazetteer, tolerant=tolerant))
