"""BM25Index against rank_bm25's BM25Okapi, the specification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.lexical.bm25 import BM25Index, BM25Params

# A small alphabet makes terms that occur in more than half, exactly half, and few sentences.
TERMS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])
SENTENCES = st.lists(TERMS, min_size=0, max_size=8)
CORPORA = st.lists(SENTENCES, min_size=1, max_size=30).filter(any)
QUERIES = st.lists(st.one_of(TERMS, st.sampled_from(["unknown", "zz"])), max_size=6)
# b < 1: at b = 1 rank_bm25 divides 0 by 0 for an empty sentence and scores it NaN (with a
# RuntimeWarning); newsbot scores it 0, as a sentence without the term.
PARAMS = st.builds(
    BM25Params,
    k1=st.floats(0.1, 3.0),
    b=st.floats(0.0, 0.99),
    epsilon=st.floats(0.0, 1.0),
)


def oracle(corpus: list[list[str]], params: BM25Params) -> BM25Okapi:
    return BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)


@settings(max_examples=300, deadline=None)
@given(corpus=CORPORA, query=QUERIES, params=PARAMS)
def test_scores_equal_rank_bm25(
    corpus: list[list[str]], query: list[str], params: BM25Params
) -> None:
    expected = oracle(corpus, params).get_scores(query)
    got = BM25Index.build(corpus, params).scores(query)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)


@settings(max_examples=300, deadline=None)
@given(corpus=CORPORA, query=QUERIES, k=st.integers(1, 40))
def test_top_k_is_rank_bm25_best_positive(
    corpus: list[list[str]], query: list[str], k: int
) -> None:
    expected = oracle(corpus, BM25Params()).get_scores(query)
    rows, scores = BM25Index.build(corpus).top_k(query, k)
    positive = [i for i in range(len(corpus)) if expected[i] > 0]
    want = sorted(positive, key=lambda i: (-expected[i], i))[:k]
    assert rows.tolist() == want
    np.testing.assert_allclose(scores, expected[want], rtol=1e-9, atol=0)


def test_repeated_query_term_counts_twice() -> None:
    corpus = [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"]]
    index = BM25Index.build(corpus)
    once, twice = index.scores(["a"]), index.scores(["a", "a"])
    assert twice[0] == pytest.approx(2 * once[0], rel=1e-12)
    np.testing.assert_array_equal(twice, oracle(corpus, BM25Params()).get_scores(["a", "a"]))


def test_term_in_exactly_half_the_sentences_scores_zero() -> None:
    corpus = [["a", "x"], ["a", "y"], ["b"], ["c"]]
    index = BM25Index.build(corpus)
    assert index.scores(["a"]).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert index.top_k(["a"], 3)[0].tolist() == []


def test_term_in_more_than_half_gets_the_epsilon_floor() -> None:
    corpus = [["a", "x"], ["a", "y"], ["a"], ["c"]]
    bm25 = oracle(corpus, BM25Params())
    index = BM25Index.build(corpus)
    assert bm25.idf["a"] == 0.25 * bm25.average_idf
    assert float(index.idf[index.terms["a"]]) == bm25.idf["a"]
    np.testing.assert_array_equal(index.scores(["a"]), bm25.get_scores(["a"]))


def test_empty_and_unknown_queries_return_nothing() -> None:
    index = BM25Index.build([["a", "b"], ["c"]])
    assert index.top_k([], 5)[0].tolist() == []
    assert index.top_k(["nope"], 5)[0].tolist() == []
    assert index.scores(["nope"]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("corpus", [[[]], [[], []]])
def test_sentences_that_analyze_to_nothing_build_an_index_that_finds_nothing(
    corpus: list[list[str]],
) -> None:
    # Every sentence all stopwords: an average length of 0 must not divide by zero (pytest turns
    # the RuntimeWarning into an error), and nothing is scored.
    index = BM25Index.build(corpus)
    assert index.top_k(["a"], 5)[0].tolist() == []
    assert index.scores(["a"]).tolist() == [0.0] * len(corpus)


def test_ties_break_by_row() -> None:
    corpus = [["a", "z"], ["b"], ["a", "z"], ["c"], ["a", "z"]]
    rows, _ = BM25Index.build(corpus).top_k(["a"], 2)
    assert rows.tolist() == [0, 2]


def test_saved_index_loads_memory_mapped_with_equal_scores(tmp_path: Path) -> None:
    corpus = [["china", "russia", "trade"], ["trade", "billion"], ["putin"], ["xi", "china"]]
    built = BM25Index.build(corpus, BM25Params(k1=1.2, b=0.6, epsilon=0.3))
    built.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert isinstance(loaded.ranks, np.memmap)
    assert loaded.params == BM25Params(k1=1.2, b=0.6, epsilon=0.3)
    query = ["trade", "china", "russia", "china"]
    np.testing.assert_array_equal(loaded.scores(query), built.scores(query))
    assert loaded.top_k(query, 2)[0].tolist() == built.top_k(query, 2)[0].tolist()
