"""Assembling hits into passages: context, merging, per-article cap, syndicated copies."""

from __future__ import annotations

import pytest

from index.answers import passages
from index.answers.passages import PassageSpan, assemble
from index.answers.search import NewsIndex
from index.store.build import build_index

# Two articles: rows 0-4 and rows 5-9.
ARTICLE_FIRST = [0, 5, 10]


def article_of(row: int) -> int:
    return 0 if row < 5 else 1


def article_rows(article: int) -> tuple[int, int]:
    return ARTICLE_FIRST[article], ARTICLE_FIRST[article + 1] - 1


def distinct_terms(row: int) -> frozenset[str]:
    return frozenset({f"t{row}", "shared"})


def run(hits: list[tuple[int, float]], limit: int = 5, **kw: object) -> list[PassageSpan]:
    return assemble(
        hits,
        article_of=article_of,
        article_rows=article_rows,
        terms_of=kw.pop("terms_of", distinct_terms),  # type: ignore[arg-type]
        limit=limit,
        **kw,  # type: ignore[arg-type]
    )


def test_context_is_clipped_to_the_article() -> None:
    (span,) = run([(5, 3.0)])
    assert (span.first, span.last, span.article) == (5, 6, 1)
    (span,) = run([(4, 3.0)])
    assert (span.first, span.last) == (3, 4)


def test_adjacent_hits_in_one_article_merge() -> None:
    spans = run([(2, 5.0), (3, 4.0), (7, 1.0)])
    assert [(s.best, s.first, s.last) for s in spans] == [(2, 1, 4), (7, 6, 8)]


def test_at_most_two_answers_per_article() -> None:
    spans = run([(0, 9.0), (4, 8.0), (2, 7.0), (9, 1.0)], context=0)
    assert [s.best for s in spans] == [0, 4, 9]


def test_near_identical_sentences_are_shown_once() -> None:
    spans = run([(1, 5.0), (8, 4.9)], terms_of=lambda row: frozenset({"same", "words"}))
    assert [s.best for s in spans] == [1]


def test_limit_counts_passages_not_hits() -> None:
    spans = run([(1, 5.0), (2, 4.0), (7, 3.0), (9, 2.0)], limit=1)
    assert [(s.best, s.first, s.last) for s in spans] == [(1, 0, 3)]


# -- passages of a real index: headings are not context ---------------------------------------

SECTIONED = """Harbour report

Shipping

The port of Rotterdam handled 438 million tonnes of cargo last year. Container traffic grew by
four percent.

Fishing

The herring quota was cut for the third year running.
"""


@pytest.fixture(scope="module")
def sectioned(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    news = tmp_path_factory.mktemp("news")
    (news / "harbour.txt").write_text(SECTIONED, encoding="utf-8")
    build_index([news], news / "index")
    return NewsIndex.load(news / "index")


def test_a_heading_beside_the_hit_is_left_out_of_its_context(sectioned: NewsIndex) -> None:
    (answer,) = sectioned.ask("How much cargo did Rotterdam handle?", 1).answers
    assert answer.sentence.startswith("The port of Rotterdam")
    assert answer.passage == (
        "The port of Rotterdam handled 438 million tonnes of cargo last year. "
        "Container traffic grew by four percent."
    )


def test_a_heading_is_never_the_hit(sectioned: NewsIndex) -> None:
    # A heading says nothing of its own (index.text.boilerplate): it used to be the answer to
    # "fishing", shown as "Fishing — The herring quota ...".
    for lexical_only in (False, True):
        answers = sectioned.ask("fishing", 3, lexical_only=lexical_only).answers
        assert all(a.sentence != "Fishing" for a in answers)


def test_bm25_alone_answers_a_heading_with_the_sentence_it_introduces(
    sectioned: NewsIndex,
) -> None:
    (answer,) = sectioned.ask("fishing", 1, lexical_only=True).answers
    assert answer.sentence == "The herring quota was cut for the third year running."


def test_a_heading_before_a_sentence_is_set_off_by_a_dash() -> None:
    assert passages.join(["Fishing", "The herring quota was cut."]) == (
        "Fishing — The herring quota was cut."
    )


def test_the_copy_check_by_sizes_decides_as_the_jaccard_does() -> None:
    # The near-duplicate check skips the intersection when the sizes rule a copy out (issue
    # #20): over every pair of small term sets, it must decide exactly as the Jaccard does.
    words = [
        frozenset(f"t{i}" for i in range(n) if mask >> i & 1) for n in (6,) for mask in range(64)
    ]
    for a in words:
        for b in words:
            for least in (0.0, 0.5, 0.8, 1.0):
                assert passages._copies(a, b, least) == (passages._jaccard(a, b) >= least)
