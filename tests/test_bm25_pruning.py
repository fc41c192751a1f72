"""The pruned `BM25Index.top_k` against the exhaustive ranking, on corpora made to stress pruning.

`index.lexical.topk` skips postings using bounds; these corpora make the bounds tight or tricky:
skewed term frequencies (one term in most sentences), many equal scores, repeated query terms, k
larger than the number of matches, lists spanning several blocks and windows, and negative idf
(where the bounds do not hold and `top_k` must add every posting). Ranks are stored on 16 bits by
shard: one corpus spans several shards.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.lexical.bm25 import BM25Index, BM25Params
from index.lexical.postings import BLOCK, SHARD_BITS
from index.lexical.topk import WINDOW


def expected_top_k(scores: np.ndarray, k: int) -> list[int]:
    """Rows of the k best positive scores: score descending, row ascending."""
    positive = np.flatnonzero(scores > 0)
    return sorted(positive.tolist(), key=lambda i: (-scores[i], i))[:k]


def assert_top_k_exact(index: BM25Index, query: list[str], k: int) -> None:
    rows, scores = index.top_k(query, k)
    dense = index.scores(query)
    assert rows.tolist() == expected_top_k(dense, k)
    # Same floating-point sums as the exhaustive scores, bit for bit.
    assert scores.tolist() == dense[rows].tolist()


def zipf_corpus(seed: int, n_docs: int, n_terms: int, skew: float) -> list[list[str]]:
    """Sentences of 0-30 terms drawn from a Zipf-like law; term "t0" is by far the commonest."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_terms + 1) ** skew
    p /= p.sum()
    lengths = rng.integers(0, 31, size=n_docs)
    words = rng.choice(n_terms, size=int(lengths.sum()), p=p)
    corpus, start = [], 0
    for n in lengths.tolist():
        corpus.append([f"t{w}" for w in words[start : start + n].tolist()])
        start += n
    return corpus


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_docs=st.integers(1, 3 * WINDOW),
    n_terms=st.integers(2, 300),
    skew=st.floats(0.5, 2.0),
    query=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    k=st.sampled_from([1, 2, 10, 50, 500]),
)
def test_top_k_equals_exhaustive_on_skewed_corpora(
    seed: int, n_docs: int, n_terms: int, skew: float, query: list[int], k: int
) -> None:
    index = BM25Index.build(zipf_corpus(seed, n_docs, n_terms, skew))
    assert_top_k_exact(index, [f"t{t}" for t in query], k)


# Few distinct sentences, each repeated: many rows share each score.
FEW = st.sampled_from(["a", "b", "c", "d", "e"])
TIED = st.lists(st.lists(FEW, min_size=1, max_size=4), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    distinct=TIED,
    repeats=st.integers(1, 200),
    query=st.lists(FEW, min_size=1, max_size=6),
    k=st.integers(1, 60),
)
def test_top_k_breaks_many_ties_by_row(
    distinct: list[list[str]], repeats: int, query: list[str], k: int
) -> None:
    corpus = [distinct[i % len(distinct)] for i in range(len(distinct) * repeats)]
    corpus.append(["filler"])  # keeps idf of terms in every sentence from being all floors
    assert_top_k_exact(BM25Index.build(corpus), query, k)


@settings(max_examples=150, deadline=None)
@given(
    # No empty sentence: at b = 1 rank_bm25 scores one 0 / 0 (NaN) for every query term.
    corpus=st.lists(st.lists(FEW, min_size=1, max_size=6), min_size=1, max_size=40),
    query=st.lists(st.one_of(FEW, st.just("unknown")), min_size=1, max_size=8),
    k=st.integers(1, 50),
    params=st.builds(
        BM25Params, k1=st.floats(0.1, 3.0), b=st.floats(0.0, 1.0), epsilon=st.floats(0.0, 1.0)
    ),
)
def test_top_k_equals_rank_bm25(
    corpus: list[list[str]], query: list[str], k: int, params: BM25Params
) -> None:
    # Small alphabets make terms in more than half the sentences: floored, even negative, idf.
    expected = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon).get_scores(query)
    rows, scores = BM25Index.build(corpus, params).top_k(query, k)
    assert rows.tolist() == expected_top_k(expected, k)
    np.testing.assert_allclose(scores, expected[rows], rtol=1e-9, atol=0)


def test_repeated_query_term_counts_in_the_bound() -> None:
    # "rare" twice outweighs "common" + "other" only through its repeat.
    corpus = [["common", "other"]] * 50 + [["rare", "x", "y", "z"]] + [["common"]] * 200
    corpus += [[f"pad{i}"] for i in range(300)]
    index = BM25Index.build(corpus)
    assert_top_k_exact(index, ["rare", "common", "rare", "other"], 1)
    assert index.top_k(["rare", "common", "rare", "other"], 1)[0].tolist() == [50]


def test_k_larger_than_matches_returns_every_match() -> None:
    corpus = [["a", "b"], ["c"], ["a"], ["d"], ["e"]]
    rows, _ = BM25Index.build(corpus).top_k(["a"], 100)
    assert rows.tolist() == [2, 0]


def test_negative_idf_falls_back_to_every_posting() -> None:
    # Both terms are in more than half the sentences: the mean idf is negative, so is the floor.
    corpus = [["a", "b"], ["a", "b"], ["a"], ["b", "c"]]
    bm25 = BM25Okapi(corpus)
    assert bm25.average_idf < 0
    index = BM25Index.build(corpus)
    expected = bm25.get_scores(["c", "a"])
    rows, scores = index.top_k(["c", "a"], 4)
    assert rows.tolist() == expected_top_k(expected, 4) == [3]
    assert scores.tolist() == expected[[3]].tolist()


@pytest.mark.parametrize("k", [1, 10, 100])
def test_lists_longer_than_a_block_and_a_window(k: int) -> None:
    corpus = zipf_corpus(seed=7, n_docs=4 * WINDOW + 5, n_terms=50, skew=1.2)
    index = BM25Index.build(corpus)
    assert index.doc_freq(index.terms["t0"]) > 4 * BLOCK
    for query in (["t0"], ["t0", "t1", "t2"], ["t3", "t0", "t3", "t40"], ["t49", "t0", "t1"]):
        assert_top_k_exact(index, query, k)


def test_corpus_across_several_shards() -> None:
    corpus = zipf_corpus(seed=11, n_docs=2 * (1 << SHARD_BITS) + 1234, n_terms=3000, skew=1.1)
    index = BM25Index.build(corpus)
    rng = np.random.default_rng(3)
    for _ in range(40):
        query = [f"t{t}" for t in rng.integers(0, 400, size=rng.integers(1, 7))]
        for k in (1, 10, 40):
            assert_top_k_exact(index, query, k)
    # A rare term only in the last shard, and one in every shard.
    rows, _ = index.top_k(["t2999", "t0"], 5)
    assert_top_k_exact(index, ["t2999", "t0"], 5)
    assert len(rows) == 5


def test_pruning_skips_most_postings_of_a_common_term() -> None:
    corpus = zipf_corpus(seed=5, n_docs=6 * WINDOW, n_terms=2000, skew=1.0)
    index = BM25Index.build(corpus)
    query = ["t0", "t1500", "t1700"]
    assert_top_k_exact(index, query, 10)
    work = index.last_work()
    read = work["essential postings read"] + work["non-essential postings scanned"]
    read += work["non-essential lookups"]
    total = sum(index.doc_freq(index.terms[t]) for t in query)
    assert read < total / 2


def test_threads_searching_at_once_get_the_same_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    index = BM25Index.build(zipf_corpus(seed=9, n_docs=3 * WINDOW, n_terms=500, skew=1.1))
    rng = np.random.default_rng(1)
    queries = [[f"t{t}" for t in rng.integers(0, 200, size=4)] for _ in range(60)]
    alone = [index.top_k(q, 10)[0].tolist() for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: index.top_k(q, 10)[0].tolist(), queries * 4))
    assert together == alone * 4
