"""Issue #19's measures of what the user is shown (bench/measures.py)."""

from __future__ import annotations

from bench.eval_questions import DevQuestion, Outcome
from bench.measures import (
    caveat_only,
    fragment_share,
    handled_share,
    is_fragment,
    refused_share,
    variant_questions,
)
from index.model import Answer, Article, Findings

HEADLINE = "BURLINGTON COAT FACTORY <BCF> 2ND QTR NET"


def test_sign_offs_tables_and_fragments_are_fragments() -> None:
    for line in ("Reuter", "REUTER", "12 mths", "Year", "Ltd>.", "Shr 20 cts vs 17 cts"):
        assert is_fragment(line, HEADLINE), line
    assert is_fragment("Net 2,319,000 vs 1,950,000", HEADLINE)
    assert is_fragment("Burlington Coat Factory 2nd qtr net", HEADLINE)  # the headline again


def test_sentences_that_say_something_are_not() -> None:
    assert not is_fragment("NOTE: Full name is Burlington Coat Factory Warehouse Corp.", HEADLINE)
    assert not is_fragment("Insects are threatening to destroy the rice crop.", "VIETNAM RICE")


def question(kind: str, article_id: str | None = "reuters21578-1") -> DevQuestion:
    gold = "Gold." if kind in ("lexical", "paraphrase", "headline") else None
    return DevQuestion("dev-1", "Q?", article_id, gold, "lexical", gold is not None, kind)


def outcome(q: DevQuestion, sentence: str | None, missing: tuple[str, ...] = ()) -> Outcome:
    article = Article(id=q.article_id or "x", title=HEADLINE, text="")
    answers = () if sentence is None else (Answer(sentence, sentence, 1.0, article),)
    return Outcome(q, answers, 0, 0, Findings(answers, 0.5, missing_names=missing))


def test_fragment_share_counts_first_answers_of_reuters_questions() -> None:
    outcomes = [
        outcome(question("paraphrase"), "Reuter"),
        outcome(question("paraphrase"), "Sales rose on strong demand for coats."),
        outcome(question("paraphrase"), None),
        outcome(question("paraphrase", "GUM_news_crane"), "Reuter"),
    ]
    assert fragment_share(outcomes) == (0.5, 2)


def test_absent_facts_are_handled_when_refused_or_shown_with_the_missing_names() -> None:
    refused = outcome(question("absent"), None)
    caveat = outcome(question("absent"), "The closest passage.", ("Japan",))
    answered = outcome(question("absent"), "A wrong answer.")
    assert caveat_only(refused) and caveat_only(caveat) and not caveat_only(answered)
    assert handled_share([refused, caveat, answered]) == 2 / 3
    # An answerable question answered only with the caveat counts as refused.
    assert refused_share([outcome(question("lexical"), "Close.", ("Japan",))]) == 1.0


def test_variants_apply_per_question() -> None:
    questions = [question("lexical"), question("offtopic", None)]
    pairs = variant_questions(questions, lambda _: "")
    assert len(pairs["upper"]) == 2
    assert pairs["upper"][0][1].question == "Q?".upper()
    assert pairs["title"] == []
