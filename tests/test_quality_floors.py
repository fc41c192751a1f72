"""The product's answer quality must not regress: dev questions over the seed and Wikinews.

The product's own path (fused ranking with sentence vectors, `index.answers.fusion`, and the names
decision, `index.text.names`), as written and as people type (`bench.variants`). Floors sit a little
below the figures measured on main when they were set (docs/quality.md, issue #19 section); a
change to `FUSION`, the names rules or the analyzer that costs quality fails here. The Reuters
questions of dev are left out: embedding Reuters takes minutes (bench/quality.py measures them).
The index is embedded once per test session (`wikinews_index_once`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.eval_index import attach_vectors, evaluate
from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, Outcome, load_questions
from bench.measures import hit3, refused_share, variant_questions
from bench.variants import KINDS
from index.answers.policy import MIN_COVERAGE
from index.answers.search import NewsIndex

pytestmark = pytest.mark.slow

# Measured on main on 2026-12-07 (docs/quality.md, issue #19), 169 answerable questions:
# as written Hit@3 0.840, 3.0% wrongly refused, off-topic 100% and absent 40.9% refused. Raised
# after issue #19's names changes (main with names and boiler merged, 23:45 UTC): as written
# 0.858, 1.8% refused, off-topic 100%, absent 40.9%.
WRITTEN_HIT3, WRITTEN_REFUSED, OFFTOPIC_REFUSED, ABSENT_REFUSED = 0.83, 0.035, 0.96, 0.36
# Per variant kind: (Hit@3 floor, answerable wrongly-refused ceiling), a little below (above)
# the figures measured then: lower and ALL CAPS 0.858 / 1.2%, "Hi!" 0.846 / 1.2%, "hello,"
# 0.858 / 1.8%, "Thanks!" 0.858 / 1.8%, no question mark 0.820 / 2.5%, one typo 0.717 / 13.8%
# (before issue #19: ALL CAPS 0.000 / 100%, "Hi!" 0.355 / 58.6%, "Thanks!" 0.077 / 87.6%, typo
# 0.592 / 28.9%). The typo's target, within 0.03 of the written questions and at most 3%
# refused, waits for a spelling-tolerant ranking (docs/quality.md, issue #19, Typos).
FLOORS: dict[str, tuple[float, float]] = {
    "lower": (0.83, 0.03),
    "upper": (0.83, 0.03),
    "hi": (0.82, 0.03),
    "hello": (0.83, 0.035),
    "thanks": (0.83, 0.035),
    "no_qmark": (0.80, 0.04),
    "typo": (0.69, 0.16),  # target (0.83, 0.03)
}


@pytest.fixture(scope="module")
def product(wikinews_index_once: Path) -> NewsIndex:
    index = NewsIndex.load(wikinews_index_once)
    if not attach_vectors(index):
        pytest.skip("the packaged sentence model is not installed")
    return index


@pytest.fixture(scope="module")
def questions() -> list[DevQuestion]:
    """The dev questions about the seed and Wikinews, and those about nothing indexed."""
    return [q for q in load_questions() if not (q.article_id or "").startswith("reuters")]


@pytest.fixture(scope="module")
def written(product: NewsIndex, questions: list[DevQuestion]) -> list[Outcome]:
    return evaluate(product, questions, MIN_COVERAGE)


@pytest.fixture(scope="module")
def typed(product: NewsIndex, written: list[Outcome]) -> dict[str, list[Outcome]]:
    """Per kind, the outcomes of the answerable questions' variants (the article is not read:
    `title` and `accents` need it and are measured by bench/quality.py --variants)."""
    answerable = [o.question for o in written if o.question.kind in ANSWERABLE_KINDS]
    pairs = variant_questions(answerable, lambda _: "")
    return {
        kind: evaluate(product, [v for _, v in pairs[kind]], MIN_COVERAGE)
        for kind in KINDS
        if pairs[kind]
    }


def of(outcomes: Sequence[Outcome], *kinds: str) -> list[Outcome]:
    return [o for o in outcomes if o.question.kind in kinds]


def test_the_product_path_as_written(written: list[Outcome]) -> None:
    answerable = of(written, *ANSWERABLE_KINDS)
    assert len(answerable) >= 150
    assert hit3(written) >= WRITTEN_HIT3
    assert refused_share(answerable) <= WRITTEN_REFUSED
    assert refused_share(of(written, "offtopic")) >= OFFTOPIC_REFUSED
    assert refused_share(of(written, "absent")) >= ABSENT_REFUSED


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_the_product_path_as_people_type(kind: str, typed: dict[str, list[Outcome]]) -> None:
    floor, ceiling = FLOORS[kind]
    assert len(typed[kind]) >= 140
    assert hit3(typed[kind]) >= floor, f"{kind}: Hit@3 {hit3(typed[kind]):.3f} < {floor}"
    refused = refused_share(typed[kind])
    assert refused <= ceiling, f"{kind}: {refused:.1%} wrongly refused > {ceiling:.1%}"
