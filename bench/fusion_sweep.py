"""`bench/quality.py --sweep`: fusion rules, decision floors and a refusal rule, compared on dev.

`sweep_rules` ranks with each rule of `RULES` ungated; `sweep_floors` replays the product's
decision (`index.answers.fusion.is_answered`) over a grid of floors on that evidence;
`sweep_unmatched_words` measures refusing answers whose best article misses the question's words.
Each prints its Markdown table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from bench.eval_index import evaluate
from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, Outcome, of_kind
from bench.quality_scores import score
from index.answers.fusion import Fusion
from index.answers.policy import FUSION, MIN_COVERAGE, WEAK_COVERAGE
from index.answers.search import NewsIndex

# The fusion rules compared on dev, fixed before measuring (index/answers/fusion.py).
RULES = {
    "rrf k=60": Fusion(rule="rrf", rrf_k=60.0),
    "convex w=0.3": Fusion(rule="convex", weight=0.3),
    "convex w=0.5": Fusion(rule="convex", weight=0.5),
    "convex w=0.7": Fusion(rule="convex", weight=0.7),
    "dense-first tie=0.02": Fusion(rule="dense_first", tie=0.02),
}
FLOORS = (0.3, 0.35, 0.4, 0.45, 0.5)
RESCUES = (MIN_COVERAGE, float("inf"))


def sweep_rules(index: NewsIndex, questions: Sequence[DevQuestion]) -> dict[str, list[Outcome]]:
    """Rank with each rule of `RULES`, ungated (the closest passages): ranking quality alone."""
    print("| rule (ungated) | Hit@1 / Hit@3 | lexical Hit@3 | paraphrase Hit@3 | headline Hit@3 |")
    print("|---|---|---|---|---|")
    ranked = {}
    for name, fusion in RULES.items():
        outcomes = evaluate(index, questions, WEAK_COVERAGE, fusion=fusion)
        ranked[name] = outcomes
        a = score(of_kind(outcomes, *ANSWERABLE_KINDS))
        kinds = " | ".join(f"{score(of_kind(outcomes, k)).hit3:.3f}" for k in ANSWERABLE_KINDS)
        print(f"| {name} | {a.hit1:.3f} / {a.hit3:.3f} | {kinds} |")
    return ranked


def sweep_floors(outcomes: Sequence[Outcome]) -> None:
    """Apply `index.answers.fusion.is_answered` over a grid of floors to ungated outcomes'
    evidence."""
    from index.answers.fusion import is_answered

    print(
        "\n| BM25 rescue | min similarity | missing names refused | Hit@3 | answerable refused "
        "| off-topic refused | absent refused |\n|---|---|---|---|---|---|---|"
    )
    print("(BM25 rescue: a best sentence at this coverage answers whatever the cosines; inf: off)")
    for rescue, floor, by_names in itertools.product(RESCUES, FLOORS, (True, False)):
        fusion = replace(FUSION, min_similarity=floor)

        def answered(
            o: Outcome, fusion: Fusion = fusion, rescue: float = rescue, by_names: bool = by_names
        ) -> bool:
            f = o.findings
            assert f is not None and f.best_similarity is not None
            return bool(o.answers) and is_answered(
                f.best_similarity,
                f.best_coverage or 0.0,
                not (by_names and f.missing_names),
                rescue,
                fusion,
            )

        def refusal(kinds: tuple[str, ...]) -> float:
            group = of_kind(outcomes, *kinds)
            return sum(not answered(o) for o in group) / len(group)

        answerable = of_kind(outcomes, *ANSWERABLE_KINDS)
        hit3 = sum(answered(o) and 1 <= o.hit_rank <= 3 for o in answerable) / len(answerable)
        print(
            f"| {rescue:g} | {floor:g} | {'yes' if by_names else 'no'} | {hit3:.3f} "
            f"| {refusal(ANSWERABLE_KINDS):.1%} | {refusal(('offtopic',)):.1%} "
            f"| {refusal(('absent',)):.1%} |"
        )


def unmatched_words(
    index: NewsIndex, outcome: Outcome, row_of: dict[str, int]
) -> tuple[bool, float]:
    """Whether the question's rarest word is missing from its best answer's article, and the
    share of its words missing there (the model-free absent-fact signals of the leads)."""
    import math

    article = row_of[outcome.answers[0].article.id]
    first, last = index.article_rows(article)
    said = set(index.analyzer.terms(index.article(article).title))
    for row in range(first, last + 1):
        said.update(index.analyzer.terms(index.sentence(row)))
    asked = index.analyze(outcome.question.question).terms
    known = index.bm25.terms

    def rarity(term: str) -> float:
        return float(index.bm25.idf[known[term]]) if term in known else math.inf

    rarest_missing = bool(asked) and max(asked, key=rarity) not in said
    return rarest_missing, sum(t not in said for t in asked) / max(1, len(asked))


def answered_unless_unmatched(
    o: Outcome, signal: tuple[bool, float], below: float, missing: float | None
) -> bool:
    """The product's decision on an ungated outcome, then refused below cosine `below` when
    its best article misses the rarest word (`missing` None) or that share of the words."""
    from index.answers.fusion import is_answered

    f = o.findings
    assert f is not None and f.best_similarity is not None
    answered = bool(o.answers) and is_answered(
        f.best_similarity, f.best_coverage or 0.0, not f.missing_names, MIN_COVERAGE, FUSION
    )
    unmatched = signal[0] if missing is None else signal[1] >= missing
    return answered and not (unmatched and f.best_similarity < below)


def sweep_unmatched_words(index: NewsIndex, outcomes: Sequence[Outcome]) -> None:
    """Refuse, on top of the product's decision, answers below a cosine whose best article
    misses the question's rarest word (or a share of its words): what it costs (dev only)."""
    row_of = {index.article(a).id: a for a in range(index.n_articles)}
    evidence = [unmatched_words(index, o, row_of) if o.answers else (False, 0.0) for o in outcomes]
    print(
        "\n| also refused below cosine | when the best article misses | Hit@3 | answerable "
        "refused | off-topic refused | absent refused |\n|---|---|---|---|---|---|"
    )
    for below, missing in [(0.0, None), *itertools.product((0.4, 0.5, 0.6), (None, 0.5, 0.6))]:
        flags = [
            answered_unless_unmatched(o, e, below, missing)
            for o, e in zip(outcomes, evidence, strict=True)
        ]
        refused_share = {
            kinds: refused_of(outcomes, flags, kinds)
            for kinds in (ANSWERABLE_KINDS, ("offtopic",), ("absent",))
        }
        answerable = [
            (o, ok)
            for o, ok in zip(outcomes, flags, strict=True)
            if o.question.kind in ANSWERABLE_KINDS
        ]
        hit3 = sum(ok and 1 <= o.hit_rank <= 3 for o, ok in answerable) / len(answerable)
        what = "its rarest word" if missing is None else f">= {missing:.0%} of its words"
        print(
            f"| {below:g} | {what if below else '(product)'} | {hit3:.3f} | "
            + " | ".join(f"{share:.1%}" for share in refused_share.values())
            + " |"
        )


def refused_of(outcomes: Sequence[Outcome], flags: Sequence[bool], kinds: tuple[str, ...]) -> float:
    """Return the share of the outcomes of `kinds` whose flag says unanswered."""
    group = [ok for o, ok in zip(outcomes, flags, strict=True) if o.question.kind in kinds]
    return sum(not ok for ok in group) / len(group)


def chosen_rule() -> str:
    """The name in `RULES` of the product's ranking rule (`index.answers.policy.FUSION`)."""
    for name, fusion in RULES.items():
        if (fusion.rule, fusion.weight, fusion.rrf_k, fusion.tie) == (
            FUSION.rule,
            FUSION.weight,
            FUSION.rrf_k,
            FUSION.tie,
        ):
            return name
    return next(iter(RULES))
