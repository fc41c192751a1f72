"""The places the news names and their other names: a country's, its capital's, its institutions'.

A `Gazetteer` holds groups of names that stand for one another: each country's names, capital and
demonym from the `countryinfo` package (`countries`), and the places, institutions and acronyms
of `ALIASES` ("the Kremlin" of Russia, "CEO" of "chief executive"). The names check uses it twice:
to tell a place in a question for a name (`index.text.names`), and to find a name in an article
by another name of its group (`index.text.mentions`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from index.text.analysis import fold

log = logging.getLogger(__name__)

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
# A place written in lower case is taken for one from this many letters ("japan", not "male").
LOWER_CASE_PLACE = 5
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
