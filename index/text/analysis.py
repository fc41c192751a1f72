"""One analyzer for sentences and questions: normalize, tokenize, drop stopwords, stem.

The same `Analyzer` turns both indexed sentences and questions into terms, so a question matches
a sentence exactly when they share a stemmed, non-stopword term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import Stemmer
from anyascii import anyascii

# 2: accents folded (`fold`).
ANALYZER_VERSION = 2

# NLTK's English stopword list (question words included, so "what"/"how" never drive ranking),
# plus a few words that only make a question a question ("much", "many", "tell").
ENGLISH_STOPWORDS = frozenset(
    """
    a about above after again against ain all am an and any are aren aren't as at be because been
    before being below between both but by can couldn couldn't d did didn didn't do does doesn
    doesn't doing don don't down during each few for from further had hadn hadn't has hasn hasn't
    have haven haven't having he he'd he'll he's her here hers herself him himself his how i i'd
    i'll i'm i've if in into is isn isn't it it'd it'll it's its itself just ll m ma me mightn
    mightn't more most mustn mustn't my myself needn needn't no nor not now o of off on once only or
    other our ours ourselves out over own re s same shan shan't she she'd she'll she's should
    should've shouldn shouldn't so some such t than that that'll the their theirs them themselves
    then there these they they'd they'll they're they've this those through to too under until up
    ve very was wasn wasn't we we'd we'll we're we've were weren weren't what when where which while
    who whom why will with won won't wouldn wouldn't y you you'd you'll you're you've your yours
    yourself yourselves
    much many tell
    """.split()
)

# Acronyms with dots (U.S., e.g.), numbers with decimals, thousands separators and suffixes
# ($228.1, 1,000, 80th, 1990s), and words with inner apostrophes (don't, O'Neill).
_TOKEN = re.compile(
    r"(?:[^\W\d_]\.){2,}"
    r"|\d+(?:[.,]\d+)*[^\W\d_]*"
    r"|[^\W_]+(?:['’][^\W_]+)*"
)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?=\D|$)")
_POSSESSIVE = re.compile(r"['’]s$")
# Words an analyzer keeps analyzed, by default (a build's: most of a corpus's vocabulary), and
# about what one kept word takes beyond its two strings' characters (measured with tracemalloc:
# two str objects and a dict slot, docs/reliability.md).
WORDS_CACHE = 1_000_000
WORDS_CACHE_BYTES = 256 << 20
_WORD_OVERHEAD = 150


def fold(text: str) -> str:
    """Return `text` with the accents of its Latin letters folded: "Erdoğan" as "Erdogan".

    By `anyascii` (ISC licence; unidecode, as good on news names, is GPL): "ł", "ø", "ß" and "æ"
    too ("Łódź" as "Lodz"). A word of another script is kept as written: "北京" stays itself, not
    "BeiJing", and "’" stays (the tokenizer's apostrophe).
    """
    if text.isascii():
        return text
    return "".join(_fold_char(c) for c in text)


def _fold_char(char: str) -> str:
    """Return one character folded (`fold`): a Latin letter or mark to ASCII, others as they are."""
    if char.isascii() or char == "’":
        return char
    if unicodedata.category(char) == "Mn":  # a combining accent: dropped
        return ""
    if char.isalpha() and unicodedata.name(char, "").startswith("LATIN"):
        return anyascii(char)
    return char


@dataclass(frozen=True, slots=True)
class AnalyzerSettings:
    """What the analyzer does; stored with an index so a question is analyzed like its sentences.

    Attributes:
        language: Snowball stemmer language, or "" for no stemming.
        stopwords: Whether to drop English stopwords.
        version: Analyzer version; an index built by another version must be rebuilt.
    """

    language: str = "english"
    stopwords: bool = True
    version: int = ANALYZER_VERSION


@dataclass(slots=True)
class Analyzer:
    """Turn text into index terms.

    Steps: NFKC normalization, case folding and accent folding (`fold`); tokens that keep
    numbers ("228.1", "2025", "80th") and dotted acronyms ("U.S." -> "us"); English stopwords
    removed (an acronym written in capitals, like "US" or "U.S.", is never a stopword); Snowball
    stemming of words (numbers are not stemmed).

    Each word's analysis is kept, up to `cache_entries` words and about `cache_bytes` bytes;
    past either, the kept words are dropped and kept anew (a stranger's random words cannot
    grow it, and clearing costs nothing per word, which an LRU would in a build's hot loop).
    """

    settings: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    cache_entries: int = WORDS_CACHE
    cache_bytes: int = WORDS_CACHE_BYTES
    _stemmer: Stemmer.Stemmer | None = field(init=False, repr=False, default=None)
    _cache: dict[str, str | None] = field(init=False, repr=False, default_factory=dict)
    _cached_bytes: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        if self.settings.language:
            self._stemmer = Stemmer.Stemmer(self.settings.language)

    def terms(self, text: str) -> list[str]:
        """Return the analyzed terms of `text`, in order, repeats kept."""
        normalized = unicodedata.normalize("NFKC", text)
        shouting = normalized.isupper()
        cache = self._cache
        out: list[str] = []
        for match in _TOKEN.finditer(normalized):
            raw = match.group()
            key = raw if (2 <= len(raw) <= 3 and raw.isupper() and not shouting) else raw.casefold()
            term = cache.get(key, "")
            if term == "":
                term = self._analyze_token(fold(key))
                self._keep(key, term)
            if term is not None:
                out.append(term)
        return out

    def _keep(self, key: str, term: str | None) -> None:
        """Keep a word's analysis, dropping every kept word first when a bound is reached."""
        size = _WORD_OVERHEAD + _chars_bytes(key) + (_chars_bytes(term) if term else 0)
        if len(self._cache) >= self.cache_entries or self._cached_bytes + size > self.cache_bytes:
            self._cache.clear()
            self._cached_bytes = 0
        self._cache[key] = term
        self._cached_bytes += size

    @property
    def cached_bytes(self) -> int:
        """About what the kept words take (`cache_bytes` bounds it)."""
        return self._cached_bytes

    def terms_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Return `terms` of each text."""
        return [self.terms(t) for t in texts]

    def _analyze_token(self, token: str) -> str | None:
        """Analyze one raw token; None when it is dropped."""
        if token.isupper():  # an acronym kept as written: "US", "UN", "EU"
            return token.casefold()
        if token.endswith(".") and "." in token[:-1]:  # dotted acronym: "u.s." -> "us"
            return token.replace(".", "")
        if token[0].isdigit():
            thousands = _THOUSANDS.match(token)
            if thousands:
                token = thousands.group().replace(",", "") + token[thousands.end() :]
            return token
        if self.settings.stopwords and token.replace("’", "'") in ENGLISH_STOPWORDS:
            return None
        token = _POSSESSIVE.sub("", token).replace("'", "").replace("’", "")
        if not token or (self.settings.stopwords and token in ENGLISH_STOPWORDS):
            return None
        if self._stemmer is not None:
            return str(self._stemmer.stemWord(token))
        return token


def _chars_bytes(text: str) -> int:
    """Bytes a str's characters take at most (CPython: 1 each if ASCII, else up to 4)."""
    return len(text) if text.isascii() else 4 * len(text)
