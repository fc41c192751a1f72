"""The names a question asks about, and whether an article mentions them (`index.names`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.analysis import Analyzer
from index.names import (
    ArticleWords,
    Gazetteer,
    countries,
    listed,
    missing_names,
    question_names,
    undotted,
)
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


def test_an_article_mentions_a_name_by_its_terms_or_a_close_term() -> None:
    article = words("Sweden's Wallenberg group fought back. Russia traded with China.")
    assert article.mentions("Wallenberg", TOY)
    assert article.mentions("Swedes", TOY)  # "swede" shares 5 letters with "sweden"
    assert article.mentions("Russian", TOY)
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
