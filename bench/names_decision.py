"""The names decision (issue #19): how a missing name weighs, per typing variant kind, on dev.

Asks every dev question and its typing variants (`bench.variants`: lower case, capitals, a
greeting before, thanks after, a title, accents, a typo...) with the product's ranking, a
missing name refusing (`Fusion.missing_similarity` = inf), and records each one's evidence: best
cosine, BM25 coverage, missing names, and the passages it gets or would get (`Findings.closest`).
Then applies `index.answers.fusion.is_answered` over a grid of the two floors a question with a
missing name must reach, and prints per variant kind: Hit@3, answerable refused, off-topic refused,
and absent facts refused or shown with the caveat (answers empty). An answerable question answered
only with the caveat counts as refused.

    python bench/names_decision.py                   # dev, the product's floors
    python bench/names_decision.py --sweep           # the grid (dev only)
    python bench/names_decision.py --split dev2      # the old test split, kept as a second dev
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/names_decision.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_index import attach_vectors, build_dev_index, shown  # noqa: E402
from bench.eval_questions import (  # noqa: E402
    ANSWERABLE_KINDS,
    DevQuestion,
    load_questions,
    normalize,
)
from index.answers.fusion import Fusion, is_answered  # noqa: E402
from index.answers.policy import FUSION, MIN_COVERAGE  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402
from index.model import Answer  # noqa: E402

SIMILARITIES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, math.inf)
COVERAGES = (0.7, 0.9, math.inf)
Variants = Callable[[DevQuestion], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Asked:
    """One question (variant) asked, with the evidence of the names decision.

    Attributes:
        question: The dev question it varies.
        variant: The variant kind ("original", "lower", ...).
        answered: The product answered it (a name missing refused it).
        missing: The names no candidate's article mentions.
        similarity: Best cosine of the judged candidates.
        coverage: Best BM25 coverage of the judged candidates.
        hit: The gold sentence is in the first three passages it got or would get.
    """

    question: DevQuestion
    variant: str
    answered: bool
    missing: tuple[str, ...]
    similarity: float
    coverage: float
    hit: bool


def hit_in(question: DevQuestion, answers: Sequence[Answer]) -> bool:
    """Whether one of the first three passages, as the bot shows them, holds the gold."""
    if question.gold is None:
        return False
    gold = normalize(question.gold)
    return any(gold in shown(a) for a in answers[:3])


def ask_all(
    index: NewsIndex, questions: Sequence[DevQuestion], variants: Variants
) -> tuple[list[Asked], list[float]]:
    """Ask each question's variants with a missing name refusing; the asks' seconds too."""
    strict = replace(FUSION, missing_similarity=math.inf, missing_coverage=math.inf)
    asked, seconds = [], []
    for question in questions:
        for kind, text in variants(question).items():
            start = time.perf_counter()
            found = index.ask(text, k=3, fusion=strict)
            seconds.append(time.perf_counter() - start)
            shown = found.answers or found.closest
            asked.append(
                Asked(
                    question,
                    kind,
                    bool(found.answers),
                    found.missing_names,
                    found.best_similarity or 0.0,
                    found.best_coverage or 0.0,
                    hit_in(question, shown),
                )
            )
    return asked, seconds


def answered(a: Asked, fusion: Fusion) -> bool:
    """Whether the decision with `fusion`'s floors answers `a` (its passages being known)."""
    if a.answered:
        return True
    return is_answered(a.similarity, a.coverage, not a.missing, MIN_COVERAGE, fusion)


def rows(asked: Sequence[Asked], fusion: Fusion, label: str) -> list[str]:
    """Return one table row per variant kind under `fusion`'s floors."""
    out = []
    for kind in dict.fromkeys(a.variant for a in asked):
        group = [a for a in asked if a.variant == kind]
        answerable = [a for a in group if a.question.kind in ANSWERABLE_KINDS]
        offtopic = [a for a in group if a.question.kind == "offtopic"]
        absent = [a for a in group if a.question.kind == "absent"]

        def share(flags: list[bool]) -> str:
            return f"{sum(flags) / len(flags):.1%}" if flags else "-"

        hit3 = sum(answered(a, fusion) and a.hit for a in answerable) / max(1, len(answerable))
        out.append(
            f"| {label} | {kind} | {len(answerable)} | {hit3:.3f} "
            f"| {share([not answered(a, fusion) for a in answerable])} "
            f"| {share([not answered(a, fusion) for a in offtopic])} "
            f"| {share([not answered(a, fusion) for a in absent])} |"
        )
    return out


HEADER = (
    "| floors | variant | answerable | Hit@3 | answerable refused | off-topic refused "
    "| absent refused or caveat |\n|---|---|---|---|---|---|---|"
)


def sweep(asked: Sequence[Asked]) -> None:
    """Print the grid's summary over all variants: worst kind's refusals, absent handled."""
    print(
        "\n| missing: min cosine | missing: min coverage | Hit@3 (all) | worst answerable "
        "refused | off-topic refused | absent refused or caveat |\n|---|---|---|---|---|---|"
    )
    kinds = list(dict.fromkeys(a.variant for a in asked))
    for similarity, covered in itertools.product(SIMILARITIES, COVERAGES):
        fusion = replace(FUSION, missing_similarity=similarity, missing_coverage=covered)
        answerable = [a for a in asked if a.question.kind in ANSWERABLE_KINDS]
        hit3 = sum(answered(a, fusion) and a.hit for a in answerable) / len(answerable)
        worst = max(
            sum(not answered(a, fusion) for a in answerable if a.variant == k)
            / max(1, sum(a.variant == k for a in answerable))
            for k in kinds
        )
        off = [not answered(a, fusion) for a in asked if a.question.kind == "offtopic"]
        absent = [not answered(a, fusion) for a in asked if a.question.kind == "absent"]
        print(
            f"| {similarity:g} | {covered:g} | {hit3:.3f} | {worst:.1%} "
            f"| {sum(off) / len(off):.1%} | {sum(absent) / len(absent):.1%} |"
        )


def names_cost(index: NewsIndex, questions: Sequence[DevQuestion], variants: Variants) -> str:
    """Time the names decision alone (`index.answers.policy.naming` over each question's fused
    candidates).

    Cold: the article words cache emptied before each question (every article's words read and
    analyzed); warm: as a serving bot meets them again.
    """
    from index.answers.fusion import fuse
    from index.answers.policy import naming

    cold, warm = [], []
    for question in questions:
        for text in variants(question).values():
            query = index.embed_question(text)
            assert query is not None
            q = index.analyze(text)
            ranked = fuse(index.candidates(q, query, FUSION.depth), index.ideal_score(q), FUSION)
            if not ranked:
                continue
            index._article_words.clear()
            for times in (cold, warm):
                start = time.perf_counter()
                naming(index, text, ranked)
                times.append(time.perf_counter() - start)
    cold.sort()
    warm.sort()

    def ms(times: list[float], share: float) -> str:
        return f"{times[int(share * (len(times) - 1))] * 1e3:.2f}"

    return (
        f"names decision per question ({len(cold)}): cold p50 {ms(cold, 0.5)} ms, "
        f"p99 {ms(cold, 0.99)} ms; warm p50 {ms(warm, 0.5)} ms, p99 {ms(warm, 0.99)} ms"
    )


def typing_variants(index: NewsIndex) -> Variants:
    """Return a question as written ("original") and its typing variants (`bench.variants`).

    Titles and accents come from the question's article as indexed (none for the seed's).
    """
    from bench.names_finder import typed

    row_of = {index.article(a).id: a for a in range(index.n_articles)}

    def text(article_id: str | None) -> str:
        if (article_id or "") not in row_of:
            return ""
        row = row_of[article_id or ""]
        first, last = index.article_rows(row)
        sentences = (index.sentence(r) for r in range(first, last + 1))
        return "\n".join([index.article(row).title, *sentences])

    return lambda question: typed(question.question, text(question.article_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", help="dev or dev2 (never test)")
    parser.add_argument("--sweep", action="store_true", help="the grid of floors")
    args = parser.parse_args(argv)
    if args.split == "test":
        print("test.jsonl is evaluated once, by someone else: use dev or dev2", file=sys.stderr)
        return 2
    questions = load_questions(ROOT / "bench" / "questions" / f"{args.split}.jsonl")
    with tempfile.TemporaryDirectory(prefix="newsbot-names-") as tmp:
        index = build_dev_index(Path(tmp) / "index", questions=questions)
        if not attach_vectors(index):
            print("the sentence model is not installed", file=sys.stderr)
            return 2
        variants = typing_variants(index)
        asked, seconds = ask_all(index, questions, variants)
        cost = names_cost(index, questions, variants)
    seconds.sort()
    print(
        f"{len(questions)} questions ({args.split}), {len(asked)} asks; ask p50 "
        f"{seconds[len(seconds) // 2] * 1000:.1f} ms\n{cost}\n"
    )
    print(HEADER)
    print("\n".join(rows(asked, FUSION, "product")))
    if args.sweep:
        sweep(asked)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
