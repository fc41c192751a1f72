"""The names a question asks about, and whether an article mentions them (`index.text.names`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.text.analysis import Analyzer
from index.text.gazetteer import Gazetteer, countries, undotted
from index.text.mentions import ArticleWords, missing_names, one_typo_apart
from index.text.names import listed, question_names
from tests.conftest import SEEDS

ANALYZER = Analyzer()
# A small gazetteer written out, for tests that must not depend on the package's data.
TOY = Gazetteer.from_countries(
    [
        ["China", "CN", "CHN", "Beijing", "Chinese", "People's Republic of China"],
        ["United States", "US", "USA", "United States of America", "Washington", "American"],
        ["Federated States of Micronesia", "FM", "Palikir", "Micronesian"],
        ["India", "IN", "IND", "New Delhi", "Indian"],
    ]
)


def words(text: str) -> ArticleWords:
    return ArticleWords(text, ANALYZER)


def missing(article: ArticleWords, question: str) -> tuple[str, ...]:
    return missing_names(question_names(question, countries()), article, countries())


def test_names_are_capitalized_words_past_the_first_acronyms_digits_and_places() -> None:
    assert question_names("What did Xi say about Japan in February 2026?", countries()) == (
        "Xi",
        "Japan",
        "2026",
    )
    # Places in any place; time words are not names.
    assert question_names("Japan and the G7: what did China say on Monday?", countries()) == (
        "Japan",
        "G7",
        "China",
    )
    # In lower case, places are names only in a question written in lower case (past its first
    # word, which phones capitalize), and demonyms and short names never: common words too.
    assert question_names("What did xi say to japan and the g7?", countries()) == ("japan", "g7")
    assert question_names("Did the polish minister in male eat turkey?", countries()) == ("turkey",)
    assert question_names("Did the polish minister in Male eat turkey?", countries()) == ("Male",)
    # "U.S." undotted; a possessive dropped; a hyphenated word read part by part.
    assert question_names("How did the U.S. see Xi's pro-Beijing stance?", TOY) == (
        "US",
        "Xi",
        "Beijing",
    )


def test_names_written_one_after_the_other_are_one_name() -> None:
    assert question_names("Who won the Champions League final?", TOY) == ("Champions League",)
    assert question_names("Did Xi Jinping call Putin, Trump and Modi?", TOY) == (
        "Xi Jinping",
        "Putin",
        "Trump",
        "Modi",
    )
    # Years and codes stand alone.
    assert question_names("Did the US Navy sail in 2026 Pacific drills?", TOY) == (
        "US",
        "Navy",
        "2026",
        "Pacific",
    )
    # A name of several words is mentioned only when all of its words are.
    article = words("Champions of the world cup.")
    assert not article.mentions("Champions League", TOY)
    assert article.mentions("Champions", TOY)


def test_of_numbers_only_years_are_names_and_noise_is_no_name() -> None:
    asked = "How much was trade in 2025, the top 10 items? #99 G7 F-16 $228.1 0&0"
    assert question_names(asked, TOY) == ("2025", "G7", "F-16")
    assert question_names("What about " + "Z" * 41 + "?", TOY) == ()


def test_country_codes_are_names_only_as_written() -> None:
    # "IN" is India's code: "in" is not a name, "IN" is.
    assert question_names("Who lives in Palikir?", TOY) == ("Palikir",)
    assert question_names("what is the IN code for?", TOY) == ("IN",)


def test_a_title_case_question_names_only_acronyms_digits_and_places() -> None:
    headline = "Bank Of Japan Stands Ready To Step Into Currency Markets In 2026"
    assert question_names(headline, countries()) == ("Japan", "2026")


def test_an_article_mentions_a_name_by_its_analyzed_terms_never_by_a_prefix() -> None:
    # Issue #19 reversed the 5-letter prefix rule of issue #11 ("Swedes" of "Sweden's" was
    # mentioned): it made "Austria" mentioned by "Australia". Plurals and possessives still match
    # by their stems; demonyms by the gazetteer (`countries()`, not the toy one).
    article = words("Sweden's Wallenberg group fought back. Russia traded with China.")
    assert article.mentions("Wallenberg", TOY)
    assert article.mentions("Wallenbergs", TOY)
    assert not article.mentions("Swedes", TOY, tolerant=False)
    assert article.mentions("Swedes", TOY)  # one letter from "Sweden": a typo tolerated
    assert article.mentions("Russian", countries())
    assert not article.mentions("Russian", TOY, tolerant=False)
    assert not words("Australia helps its farmers.").mentions("Austria", countries())
    assert not article.mentions("Japan", TOY)
    assert not article.mentions("Xi", TOY)
    # A name made of stopwords is looked for as written.
    assert not article.mentions("AT&T", TOY)
    assert words("AT&T won.").mentions("AT&T", TOY)


def test_an_article_mentions_a_place_by_another_name_of_its_country() -> None:
    article = words("The U.S. and China agreed.")
    assert article.mentions("Beijing", TOY)
    assert article.mentions("Washington", TOY)
    assert article.mentions("America", TOY)  # a word only the US's names hold
    assert not article.mentions("Palikir", TOY)
    # "States" is in two countries' names: it stands for neither.
    assert "states" not in TOY.places and "america" in TOY.places
    # An acronym of another country is matched as written, never as a word: "us", "in".
    assert not words("Tell us more, in India.").mentions("USA", TOY)


def test_an_article_mentions_an_acronym_by_its_initials() -> None:
    article = words("The United Nations and the North Atlantic Treaty Organization met.")
    assert article.mentions("UN", TOY)
    assert article.mentions("NATO", TOY)
    assert not article.mentions("EU", TOY)


def test_the_package_gazetteer_knows_capitals_and_demonyms() -> None:
    gazetteer = countries()
    assert len(gazetteer.countries) > 200
    assert {"China", "Beijing", "Chinese"} <= gazetteer.other_names("Beijing")
    assert {"Russia", "Moscow", "Russian"} <= gazetteer.other_names("moscow")
    assert "Washington" in gazetteer.other_names("U.S.")


def test_the_seed_never_mentions_japan_and_mentions_the_rest() -> None:
    article = words(next(SEEDS.glob("*.txt")).read_text(encoding="utf-8"))
    assert missing(article, "What did Xi say about Japan?") == ("Japan",)
    asked = "What did Beijing and Moscow say to Washington about the SCO in 2026?"
    assert missing(article, asked) == ()
    assert missing(article, "Did Xi and Trump discuss TikTok or Japan?") == (
        "TikTok",
        "Japan",
    )


@given(
    st.lists(st.from_regex(r"[A-Za-z][a-z]{0,9}", fullmatch=True), min_size=1, max_size=30),
    st.data(),
)
def test_a_name_taken_from_the_article_is_always_mentioned(
    article_words: list[str], data: st.DataObject
) -> None:
    text = " ".join(article_words)
    asked = data.draw(st.lists(st.sampled_from(article_words), min_size=1, max_size=4))
    question = "What about " + " and ".join(w.capitalize() for w in asked) + "?"
    assert missing(words(text), question) == ()


@pytest.mark.parametrize(
    ("names", "said"),
    [
        ((), ""),
        (("Japan",), "Japan"),
        (("Japan", "TikTok"), "Japan or TikTok"),
        (("A", "B", "C"), "A, B or C"),
        (("A", "B", "C", "D"), "A, B, C or others"),
    ],
)
def test_listed(names: tuple[str, ...], said: str) -> None:
    assert listed(names) == said


def test_undotted() -> None:
    assert undotted("the U.S. and U.K. met") == "the US and UK met"


# Issue #19: questions as people type them. Each was refused on the old finder by a word it
# took for a name (or, for the last, answered because every longer word was capitalized).
TYPED = {
    "WHAT DID XI SAY ABOUT TRADE WITH RUSSIA?": ("russia",),
    "Hi! What did Xi say about the Shanghai Cooperation Organization?": (
        "Xi",
        "Shanghai Cooperation Organization",
    ),
    "hello, What did Xi say about Busan?": ("Xi", "Busan"),
    "What did Xi say about Busan? I'm curious.": ("Xi", "Busan"),
    "What did Xi say about Busan? Thanks!": ("Xi", "Busan"),
    "What did Mr Xi say about trade with Russia?": ("Xi", "Russia"),
    "What did Mr. Xi say about trade?": ("Xi",),
    "What did Chairman Xi tell Trump?": ("Xi", "Trump"),
    "What did Prime Minister Modi say?": ("Modi",),
    "I read about the calls. What did Xi tell Trump?": ("Xi", "Trump"),
    "Did Xi see Zelensky?": ("Xi", "Zelensky"),
    "Thank you. What did the White House say?": ("White House",),
}


@pytest.mark.parametrize("question", list(TYPED))
def test_greetings_thanks_titles_capitals_and_sentence_starts_are_no_names(question: str) -> None:
    assert question_names(question, countries()) == TYPED[question]


def test_a_headline_in_title_case_still_names_only_places_acronyms_and_years() -> None:
    assert question_names("Who Won The Champions League In 2026?", countries()) == ("2026",)
    assert question_names("Did Xi Jinping Meet Donald Trump In Busan?", countries()) == ()


def test_accents_are_folded_both_ways() -> None:
    assert words("President Recep Tayyip Erdoğan spoke.").mentions("Erdogan", countries())
    assert words("President Recep Tayyip Erdogan spoke.").mentions("Erdoğan", countries())
    assert words("Macron spoke at the Élysée.").mentions("Elysee", countries())


def test_places_and_institutions_stand_for_their_countries() -> None:
    gazetteer = countries()
    moscow = words("Moscow said the sanctions would fail.")
    assert moscow.mentions("Kremlin", gazetteer)
    assert words("The Kremlin said the sanctions would fail.").mentions("Russia", gazetteer)
    assert words("The United States imposed tariffs.").mentions("White House", gazetteer)
    assert words("The U.K. government said no.").mentions("Downing Street", gazetteer)
    assert words("A statement from the Elysee Palace.").mentions("France", gazetteer)
    # In a lower-case question too.
    assert question_names("how did the kremlin respond?", gazetteer) == ("kremlin",)
    # Only whole: "House" and "Street" are no places.
    assert question_names("Which House bill did the Street like?", gazetteer) == (
        "House",
        "Street",
    )
    assert not words("The house on the street.").mentions("White House", gazetteer)


def test_acronyms_match_their_spelled_out_forms() -> None:
    gazetteer = countries()
    mta = words("The Metropolitan Transportation Authority said the money would fund signals.")
    assert mta.mentions("MTA", gazetteer)
    apple = words("Apple's chief executive said services grew.")
    assert apple.mentions("CEO", gazetteer)
    assert not words("Apple's chief designer said so.").mentions("CEO", gazetteer)


def test_a_long_name_one_typo_away_is_mentioned() -> None:
    # Issue #19: a typo in a name made the names check refuse ("Scientoolgy").
    article = words("The Church of Scientology said the Challenger crew was honoured.")
    gazetteer = countries()
    assert article.mentions("Scientoolgy", gazetteer)  # two letters swapped
    assert article.mentions("Scientolgy", gazetteer)  # one dropped
    assert article.mentions("Challengers", gazetteer)
    assert not article.mentions("Scientoolgy", gazetteer, tolerant=False)
    # Short names must match exactly ("Iran", "Iraq"); two letters apart is another name.
    assert not words("Iraq said no.").mentions("Iran", gazetteer)
    assert not words("Australia said no.").mentions("Austria", gazetteer)


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("scientology", "scientoolgy", True),  # neighbours swapped
        ("scientology", "scientolgy", True),  # one dropped
        ("scientology", "scientologyy", True),  # one added
        ("scientology", "scientolozy", True),  # one changed
        ("scientology", "scientology", True),
        ("austria", "australia", False),
        ("scientology", "sceintoolgy", False),  # two typos
        ("abc", "bca", False),
    ],
)
def test_one_typo_apart(a: str, b: str, apart: bool) -> None:
    assert one_typo_apart(a, b) is apart
    assert one_typo_apart(b, a) is apart
