"""The names a question asks about, and whether an article mentions them.

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

An article mentions a name when it holds the name as written, all of its analyzed terms
(`index.text.analysis`: stems, accents folded, so "Erdogan" of "Erdoğan"), or another name of its
group in the gazetteer: a country's names, capital and demonym from the `countryinfo` package,
and the places, institutions and acronyms of `ALIASES` ("the Kremlin" of Russia, "CEO" of "chief
executive"); an acronym also by capitalized words with its initials ("MTA" of "Metropolitan
Transportation Authority"). Never by a shared prefix: "Austria" is not "Australia". How a missing
name weighs in the answer is `index.answers.fusion.is_answered`'s (docs/quality.md).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from index.text.analysis import ENGLISH_STOPWORDS, Analyzer, fold

log = logging.getLogger(__name__)

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
# Other names of places and institutions the news uses for countries, and acronyms an article
# spells out in lower case: each group names one thing (a group sharing a name with a country of
# the gazetteer joins it). The one home of such aliases.
ALIASES: tuple[tuple[str, ...], ...] = (
    ("Russia", "Kremlin"),
    ("United States", "White House", "Pentagon", "Capitol Hill", "State Department"),
    ("United Kingdom", "Downing Street", "Whitehall", "Westminster"),
    ("France", "Elysee", "Élysée", "Elysee Palace", "Quai d'Orsay"),
    ("China", "Zhongnanhai"),
    ("Japan", "Kantei"),
    ("Germany", "Bundestag"),
    ("South Korea", "Blue House"),
    ("Israel", "Knesset"),
    ("India", "Lok Sabha"),
    ("European Union", "EU"),
    ("United Nations", "UN"),
    ("CEO", "chief executive", "chief executive officer"),
    ("CFO", "chief financial officer"),
    ("COO", "chief operating officer"),
    ("CTO", "chief technology officer"),
)
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
# A place written in lower case is taken for one from this many letters ("japan", not "male").
LOWER_CASE_PLACE = 5
# Whether a name one typo away from an article's word is mentioned (`ArticleWords._near`), and
# from how many letters ("Iran" and "Iraq" are one letter apart): on dev's typo variant, false
# alarms on answerable questions 30.9% -> 5.1%, absent facts caught on the originals unchanged
# (docs/quality.md).
TOLERANT = True
TYPO_LENGTH = 6
# A reply lists at most this many missing names.
MAX_LISTED = 3
# The caveat above the closest passages of a question whose names no article mentions
# (`index.model.Findings.closest`): the terminal's and the bot's, filled by `caveat`.
CAVEAT = "No article mentions {names}; the closest:"
WORD = re.compile(r"[^\W_](?:[\w'’.&-]*[^\W_])?")
# What ends a sentence between two words: the next word begins one.
SENTENCE_END = re.compile(r"[.!?:;]")
POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# A word a typo is looked for in (`spelled`): letters only, one fewer than `TYPO_LENGTH` or more.
LONG_WORD = re.compile(rf"[^\W\d_]{{{TYPO_LENGTH - 1},}}")
# "U.S." and "U.K." written as "US" and "UK", to find an acronym however it is spelled.
DOTTED_ACRONYM = re.compile(r"\b((?:[A-Z]\.){2,})")


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Countries' names, each country a set of names that stand for one another.

    Attributes:
        countries: Each country's names: its name, ASCII alternative spellings (ISO codes and
            official names), capital, demonym and aliases (`ALIASES`); an alias group that
            names no country is a group of its own ("CEO", "chief executive").
        places: Each name to the countries it names: codes ("IN", "AND") as written, other
            names in lower case, accents folded (`_place_key`).
        demonyms: The demonyms, in lower case ("polish", "swiss"): common words too.
    """

    countries: tuple[frozenset[str], ...] = ()
    places: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    demonyms: frozenset[str] = frozenset()

    @classmethod
    def from_countries(
        cls,
        countries: Iterable[Iterable[str]],
        demonyms: Iterable[str] = (),
        aliases: Iterable[Iterable[str]] = (),
    ) -> Gazetteer:
        """Return the gazetteer of `countries`, each given as its names, and of `aliases`.

        A country's names are places; so are the capitalized words of its longer names that no
        other country's names hold ("America" of "United States of America", not "United" or
        "States"). An alias group joins the first country holding one of its names, else stands
        alone; its names are places only whole ("White House", not "House").
        """
        groups = [frozenset(n for n in names if n) for names in countries]
        parts = _name_parts(groups)
        keys = {_place_key(n): number for number, names in enumerate(groups) for n in names}
        for alias in aliases:
            names = frozenset(alias)
            known = [keys[_place_key(n)] for n in names if _place_key(n) in keys]
            if known:
                groups[known[0]] |= names
            else:
                groups.append(names)
        places: dict[str, set[int]] = {}
        for number, names in enumerate(groups):
            for name in names:
                places.setdefault(_place_key(name), set()).add(number)
        for word, numbers in parts.items():
            if len(numbers) == 1 and word not in places:
                places[word] = numbers
        return cls(
            tuple(groups),
            {name: tuple(sorted(numbers)) for name, numbers in places.items()},
            frozenset(d.lower() for d in demonyms),
        )

    def names_place(self, word: str, all_lower_case: bool) -> bool:
        """Whether a word of a question is a place's name.

        A capitalized word or a code is one when the gazetteer has it. A word in lower case is
        one only in a question written in lower case past its first word (elsewhere "polish",
        "male" and "turkey" are common words), and then not a demonym nor shorter than
        `LOWER_CASE_PLACE` letters.
        """
        if word[0].isupper():
            return bool(self.countries_named(word))
        return (
            all_lower_case
            and len(word) >= LOWER_CASE_PLACE
            and word not in self.demonyms
            and bool(self.countries_named(word))
        )

    def countries_named(self, word: str) -> tuple[int, ...]:
        """Return the countries a word names: a code only as written ("IN", not "in")."""
        return self.places.get(word, ()) or self.places.get(word.lower(), ())

    def other_names(self, name: str) -> frozenset[str]:
        """Return every name of the countries `name` names (empty when it names none)."""
        numbers = self.countries_named(undotted(name))
        return frozenset().union(*(self.countries[n] for n in numbers))


def _name_parts(groups: Sequence[frozenset[str]]) -> dict[str, set[int]]:
    """Return the capitalized words (4 letters or more) of longer names, each to its groups."""
    parts: dict[str, set[int]] = {}
    for number, names in enumerate(groups):
        for name in names:
            words = name.split()
            if len(words) > 1:
                for word in words:
                    if word[0].isupper() and word.isalpha() and len(word) >= 4:
                        parts.setdefault(word.lower(), set()).add(number)
    return parts


def _place_key(name: str) -> str:
    """Return how a place name is looked up: codes as written, others lowered, accents folded."""
    return name if name.isupper() else fold(name.lower())


@functools.cache
def countries() -> Gazetteer:
    """Return the gazetteer of `countryinfo`'s 250 countries; empty (one log line) without it."""
    try:
        from countryinfo import CountryInfo

        records = list(CountryInfo.all().values())
    except Exception as exc:  # the package missing or its data unreadable: names alone
        log.warning("country names unavailable (%s): places match only as written", exc)
        return Gazetteer.from_countries((), (), ALIASES)
    demonyms = [r["demonym"] for r in records if isinstance(r.get("demonym"), str)]
    return Gazetteer.from_countries((_country_names(r) for r in records), demonyms, ALIASES)


def _country_names(record: Mapping[str, object]) -> list[str]:
    """Return one `countryinfo` record's names: name, ASCII spellings, capital, demonym."""
    names = [record.get("name"), record.get("demonym")]
    spellings = record.get("altSpellings")
    if isinstance(spellings, list):
        names += [s for s in spellings if isinstance(s, str) and s.isascii()]
    capital = record.get("capital")
    for city in capital if isinstance(capital, list) else [capital]:
        if isinstance(city, str):
            names += [city, re.sub(r"\s+D\.?C\.?$", "", city)]  # "Washington D.C."
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def undotted(text: str) -> str:
    """Return `text` with dotted acronyms undotted: "U.S." as "US"."""
    return DOTTED_ACRONYM.sub(lambda m: m.group(1).replace(".", ""), text)


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
