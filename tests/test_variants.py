"""The typing variants of a question (bench/variants.py): each kind, deterministic."""

from __future__ import annotations

from bench.variants import KINDS, accents, strip_accents, typo, variants, with_title

QUESTION = "What did Erdogan say about refugees?"


def test_every_kind_is_made() -> None:
    made = variants("What did Xi say about trade with Russia?", "Chinese President Xi Jinping said")
    assert set(made) == set(KINDS)
    assert made["lower"] == "what did xi say about trade with russia?"
    assert made["upper"] == "WHAT DID XI SAY ABOUT TRADE WITH RUSSIA?"
    assert made["hi"] == "Hi! What did Xi say about trade with Russia?"
    assert made["hello"] == "hello, what did Xi say about trade with Russia?"
    assert made["thanks"] == "What did Xi say about trade with Russia? Thanks!"
    assert made["no_qmark"] == "What did Xi say about trade with Russia"
    assert made["title"] == "What did President Xi say about trade with Russia?"


def test_a_title_is_the_articles_and_only_where_it_has_one() -> None:
    article = "Traders said they believed TWA Chairman Carl Icahn was the buyer."
    assert with_title("Did Carl Icahn buy the block?", article) == (
        "Did Chairman Carl Icahn buy the block?"
    )
    assert with_title("Did Carl Icahn buy the block?", "Carl Icahn bought it.") is None
    assert with_title("Did Chairman Icahn buy it?", article) is None  # titled already
    assert with_title("Who won the Super Bowl?", article) is None


def test_accents_are_stripped_or_added_as_the_article_spells_them() -> None:
    assert strip_accents("Erdoğan in Zürich") == "Erdogan in Zurich"
    assert accents("What did Erdoğan say?", "") == "What did Erdogan say?"
    article = "Turkish President Recep Tayyip Erdoğan said refugees were welcome."
    assert accents(QUESTION, article) == "What did Erdoğan say about refugees?"
    assert accents(QUESTION, "Erdogan said so.") is None


def test_a_typo_swaps_two_letters_in_one_long_word_the_same_way_every_time() -> None:
    made = typo(QUESTION)
    assert made is not None and made != QUESTION
    assert made == typo(QUESTION)
    changed = [(a, b) for a, b in zip(QUESTION.split(), made.split(), strict=True) if a != b]
    assert len(changed) == 1
    before, after = changed[0]
    assert sorted(before) == sorted(after) and len(before.strip("?")) >= 7
    assert before[0] == after[0]
    assert typo("Who won it?") is None


def test_kinds_that_do_not_apply_give_none() -> None:
    made = variants("Tasmanian state aid keeps the mine working", "")
    assert made["no_qmark"] is None
    assert made["title"] is None
    assert made["accents"] is None
