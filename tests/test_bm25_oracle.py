"""rank_bm25 itself as the oracle on an index spanning several windows, shards and blocks.

The pruning tests compare `top_k` with `BM25Index.scores`, which reads the same compact arrays
(16-bit ranks in shard directories, weight codes, length table): a layout bug would hit both.
Here the expected rows and scores come from `rank_bm25.BM25Okapi.get_scores` on the token lists,
so only the specification is trusted. The index goes through `save` and `load`, as the bot's does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index.lexical.bm25 import BM25Index
from index.lexical.postings import BLOCK, SHARD_BITS
from index.lexical.topk import WINDOW

# Building the corpus and rank_bm25 over it takes seconds: the whole module is a scale test.
pytestmark = pytest.mark.slow

SEED = 20250609
# Three shards of 65,536 ranks (the last one partly filled), 17 windows of 8,192 ranks.
N_SENTENCES = 2 * (1 << SHARD_BITS) + 7_000
N_TERMS = 20_000
N_QUESTIONS = 40
K = 10


def news_like_corpus(rng: np.random.Generator) -> list[list[str]]:
    """Sentences of 0-40 terms from a Zipf law over `N_TERMS` terms, so that common terms repeat
    within a sentence (tf >= 2 lists) and rare ones fall in one shard only."""
    p = 1.0 / np.arange(1, N_TERMS + 1) ** 1.05
    p /= p.sum()
    lengths = rng.integers(0, 41, size=N_SENTENCES)
    words = rng.choice(N_TERMS, size=int(lengths.sum()), p=p).tolist()
    corpus, start = [], 0
    for n in lengths.tolist():
        corpus.append([f"w{w}" for w in words[start : start + n]])
        start += n
    return corpus


def questions(rng: np.random.Generator, corpus: list[list[str]]) -> list[list[str]]:
    """Questions of 1-6 terms: words of a random sentence, a common word, a repeat, an unknown."""
    asked: list[list[str]] = []
    while len(asked) < N_QUESTIONS:
        sentence = corpus[int(rng.integers(len(corpus)))]
        if not sentence:
            continue
        picked = rng.choice(sentence, size=min(len(sentence), int(rng.integers(1, 6))))
        question = [str(term) for term in picked]
        kind = len(asked) % 4
        if kind == 1:
            question.append("w0")  # in a large share of the sentences: long lists, many blocks
        elif kind == 2:
            question.append(question[0])  # a repeated term counts twice
        elif kind == 3:
            question.append("w-unknown")
        asked.append(question)
    return asked


def best_positive(scores: np.ndarray, k: int) -> list[int]:
    """Rows of the `k` best scores above zero: score descending, then row ascending."""
    positive = np.flatnonzero(scores > 0)
    order = np.lexsort((positive, -scores[positive]))[:k]
    return positive[order].tolist()


@pytest.fixture(scope="module")
def corpus() -> list[list[str]]:
    return news_like_corpus(np.random.default_rng(SEED))


@pytest.fixture(scope="module")
def loaded(corpus: list[list[str]], tmp_path_factory: pytest.TempPathFactory) -> BM25Index:
    folder: Path = tmp_path_factory.mktemp("oracle-index")
    BM25Index.build(corpus).save(folder)
    return BM25Index.load(folder)


def test_the_index_spans_several_windows_shards_and_blocks(loaded: BM25Index) -> None:
    p = loaded.postings
    assert loaded.n_docs == 138_072
    assert -(-loaded.n_docs // WINDOW) == 17
    assert sorted(set(p.dir_shard.tolist())) == [0, 1, 2]
    blocks_per_list = np.diff(p.blocks)
    assert int(blocks_per_list.max()) > 1000  # w0's tf = 1 list: over 64,000 postings
    assert int((blocks_per_list > 1).sum()) > 500
    assert int(np.diff(p.offsets).max()) > 1000 * BLOCK


def test_top_k_rows_and_scores_are_rank_bm25s(corpus: list[list[str]], loaded: BM25Index) -> None:
    okapi = BM25Okapi(corpus)
    windows_walked = []
    for question in questions(np.random.default_rng(SEED + 1), corpus):
        expected = okapi.get_scores(question)
        rows, scores = loaded.top_k(question, K)
        windows_walked.append(loaded.last_work()["windows"])
        want = best_positive(expected, K)
        assert rows.tolist() == want, question
        # The very sums rank_bm25 makes, bit for bit.
        assert scores.tolist() == expected[want].tolist(), question
    # The kernel really walked several windows for some questions (the common word's ones).
    assert max(windows_walked) > 1


@pytest.mark.parametrize("share", [0.5, 0.02])
def test_top_k_within_flagged_rows_is_rank_bm25_masked(
    corpus: list[list[str]], loaded: BM25Index, share: float
) -> None:
    """Questions about a period rank only its sentences: the kernel against rank_bm25, masked."""
    rng = np.random.default_rng(SEED + 2)
    within = rng.random(loaded.n_docs) < share
    okapi = BM25Okapi(corpus)
    for question in questions(np.random.default_rng(SEED + 3), corpus)[:20]:
        expected = np.where(within, okapi.get_scores(question), 0.0)
        rows, scores = loaded.top_k(question, K, within)
        want = best_positive(expected, K)
        assert rows.tolist() == want, question
        assert scores.tolist() == expected[want].tolist(), question
        assert within[rows].all()
