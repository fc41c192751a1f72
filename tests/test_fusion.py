"""index.answers.fusion: the fused ranking and the "nothing relevant" decision, on literal
values.
"""

from __future__ import annotations

import numpy as np
import pytest

from index.answers.fusion import (
    Candidate,
    Fusion,
    apart,
    convex_score,
    coverage,
    dense_first_key,
    fuse,
    is_answered,
    own_similarity,
    ranks,
    rrf_scores,
    with_content,
)

LEXICAL = Candidate(row=1, bm25=8.0, similarity=0.30)
DENSE = Candidate(row=2, bm25=0.0, similarity=0.70)
BOTH = Candidate(row=3, bm25=4.0, similarity=0.60)


def test_coverage_is_the_share_of_the_ideal_score() -> None:
    assert coverage(5.0, 10.0) == 0.5
    assert coverage(5.0, 0.0) == 0.0


def test_ranks_best_first_ties_share_the_better_rank() -> None:
    assert ranks([0.2, 0.9, 0.2, 0.5]) == [3, 1, 3, 2]


def test_rrf_adds_reciprocal_ranks_and_skips_bm25_for_unmatched_sentences() -> None:
    scores = rrf_scores([LEXICAL, DENSE, BOTH], k=60)
    assert scores[0] == pytest.approx(1 / 61 + 1 / 63)
    assert scores[1] == pytest.approx(1 / 61)  # bm25 0: found by its vector alone
    assert scores[2] == pytest.approx(1 / 62 + 1 / 62)


def test_convex_caps_coverage_at_one() -> None:
    assert convex_score(0.6, 0.4, 0.5) == pytest.approx(0.5)
    assert convex_score(0.6, 3.0, 0.5) == pytest.approx(0.8)


def test_dense_first_key_steps_the_cosine() -> None:
    assert dense_first_key(0.615, 0.2, 0.02) == (30, 0.2)
    assert dense_first_key(0.619, 0.9, 0.02) > dense_first_key(0.615, 0.2, 0.02)


def test_fuse_orders_by_each_rule() -> None:
    candidates = [LEXICAL, DENSE, BOTH]
    # 1/61 + 1/63 = 0.032266 against 2/62 = 0.032258: agreeing second ranks lose, narrowly.
    assert [c.row for c in fuse(candidates, 10.0, Fusion(rule="rrf"))] == [1, 3, 2]
    assert [c.row for c in fuse(candidates, 10.0, Fusion(rule="convex", weight=0.5))] == [1, 3, 2]
    assert [c.row for c in fuse(candidates, 10.0, Fusion(rule="convex", weight=0.9))] == [2, 3, 1]
    assert [c.row for c in fuse(candidates, 10.0, Fusion(rule="dense_first"))] == [2, 3, 1]


def test_fuse_breaks_ties_by_row() -> None:
    twins = [Candidate(9, 1.0, 0.5), Candidate(4, 1.0, 0.5)]
    assert [c.row for c in fuse(twins, 2.0, Fusion(rule="convex"))] == [4, 9]


def test_is_answered() -> None:
    fusion = Fusion(min_similarity=0.35)
    # BM25's own floor answers whatever the cosines.
    assert is_answered(0.1, 0.5, True, 0.5, fusion)
    # Off-topic: best cosine below the floor.
    assert not is_answered(0.34, 0.2, True, 0.5, fusion)
    assert is_answered(0.35, 0.2, True, 0.5, fusion)
    # Without floors for it, a name no article mentions refuses, whatever the other evidence.
    assert not is_answered(0.9, 0.9, False, 0.5, fusion)


def test_a_missing_name_needs_strong_evidence_and_never_refuses_alone() -> None:
    # Issue #19: the names finder can be wrong ("Hi", "Mr", a typo); strong evidence answers.
    fusion = Fusion(min_similarity=0.35, missing_similarity=0.7, missing_coverage=0.9)
    assert is_answered(0.7, 0.2, False, 0.5, fusion)
    assert is_answered(0.4, 0.9, False, 0.5, fusion)
    assert not is_answered(0.69, 0.89, False, 0.5, fusion)
    # Strong by one floor, but off-topic by the usual ones: refused.
    assert not is_answered(0.3, 0.4, False, 0.5, Fusion(min_similarity=0.35, missing_coverage=0.3))


def test_apart_drops_hits_whose_windows_would_merge_within_an_article() -> None:
    def article_of(row: int) -> int:
        return row // 100

    assert apart([10, 12, 13, 14, 110, 111, 20], article_of, gap=3) == [10, 14, 110, 20]


def test_with_content_drops_sentences_that_say_nothing_of_their_own() -> None:
    says_nothing = np.array([False, False, True, False])  # row 2: "Reuter"
    assert with_content([BOTH, LEXICAL, DENSE], says_nothing) == [BOTH, LEXICAL]


def test_own_similarity_trusts_an_unmatched_sentence_only_from_the_alone_floor() -> None:
    # The banana bread question of docs/quality.md ("Wire text"): no shared term, cosine 0.354.
    title_borne = Candidate(row=4, bm25=0.0, similarity=0.354)
    assert own_similarity([title_borne], 0.45) == 0.0
    assert own_similarity([title_borne, LEXICAL], 0.45) == 0.30
    assert own_similarity([DENSE, title_borne], 0.45) == 0.70
    assert own_similarity([], 0.45) == 0.0
