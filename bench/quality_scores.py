"""Scores over outcomes (Hit@1, Hit@3, refusals) and the Markdown rows `bench/quality.py` prints.

`score` gives the hit and empty shares over answerable outcomes; `summary` the issues' measures
(with `bench.measures`); the `*_row(s)` functions and `*_HEADER`s render them as tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.eval_questions import ANSWERABLE_KINDS, STYLES, UNANSWERABLE_KINDS, Outcome, of_kind
from bench.measures import fragment_share, handled_share, refused_share


@dataclass(frozen=True, slots=True)
class Scores:
    """Shares (0..1) over a group of answerable questions.

    Attributes:
        n: Questions in the group.
        hit1: First answer's passage, as shown, holds the gold sentence.
        hit3: One of the first three passages, as shown, holds it.
        strict1: First answer's best sentence is the gold sentence.
        strict3: One of the first three best sentences is it.
        empty: No answer at all.
    """

    n: int
    hit1: float
    hit3: float
    strict1: float
    strict3: float
    empty: float


def score(outcomes: Sequence[Outcome]) -> Scores:
    """Return the hit and empty shares over answerable outcomes."""
    n = len(outcomes)

    def share(flags: Iterable[bool]) -> float:
        return sum(flags) / n if n else 0.0

    return Scores(
        n=n,
        hit1=share(o.hit_rank == 1 for o in outcomes),
        hit3=share(1 <= o.hit_rank <= 3 for o in outcomes),
        strict1=share(o.strict_rank == 1 for o in outcomes),
        strict3=share(1 <= o.strict_rank <= 3 for o in outcomes),
        empty=share(not o.answers for o in outcomes),
    )


def rejected(outcomes: Sequence[Outcome]) -> float:
    """Return the share of unanswerable questions that got no answer."""
    unanswerable = [o for o in outcomes if not o.question.answerable]
    return sum(not o.answers for o in unanswerable) / len(unanswerable) if unanswerable else 0.0


def refused(outcomes: Sequence[Outcome]) -> float:
    """Return the share of `outcomes` with no answer."""
    return sum(not o.answers for o in outcomes) / len(outcomes) if outcomes else float("nan")


def summary(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The issues' measures: Hit@1/Hit@3 (answerable), paraphrased Hit@3, refusal by kind,
    absent facts refused or shown with the caveat, Reuters first answers that are fragments."""
    answerable = of_kind(outcomes, *ANSWERABLE_KINDS)
    s = score(answerable)
    return {
        "hit1": s.hit1,
        "hit3": s.hit3,
        "paraphrase_hit3": score(of_kind(outcomes, "paraphrase")).hit3,
        "answerable_refused": refused_share(answerable),
        "offtopic_refused": refused(of_kind(outcomes, "offtopic")),
        "absent_refused": refused(of_kind(outcomes, "absent")),
        "absent_handled": handled_share(outcomes),
        "reuters_fragments": fragment_share(outcomes)[0],
    }


def kind_rows(label: str, outcomes: Sequence[Outcome]) -> list[str]:
    """Markdown rows, one per kind and one for all answerable questions."""
    rows = []
    groups = [(kind, of_kind(outcomes, kind)) for kind in ANSWERABLE_KINDS]
    groups.append(("answerable", of_kind(outcomes, *ANSWERABLE_KINDS)))
    for name, group in groups:
        s = score(group)
        rows.append(
            f"| {label} | {name} | {s.n} | {s.hit1:.1%} | {s.hit3:.1%} | {s.strict1:.1%} "
            f"| {s.strict3:.1%} | {s.empty:.1%} |"
        )
    for kind in UNANSWERABLE_KINDS:
        group = of_kind(outcomes, kind)
        rows.append(f"| {label} | {kind} | {len(group)} | | | | | {refused(group):.1%} |")
    return rows


KIND_HEADER = (
    "| ranking | kind | n | Hit@1 | Hit@3 | strict Hit@1 | strict Hit@3 | refused |\n"
    "|---|---|---|---|---|---|---|---|"
)


def summary_row(label: str, outcomes: Sequence[Outcome]) -> str:
    """One Markdown row of the issue's measures."""
    m = summary(outcomes)
    return (
        f"| {label} | {m['hit1']:.3f} / {m['hit3']:.3f} | {m['paraphrase_hit3']:.3f} "
        f"| {m['answerable_refused']:.1%} | {m['offtopic_refused']:.1%} "
        f"| {m['absent_refused']:.1%} | {m['absent_handled']:.1%} "
        f"| {m['reuters_fragments']:.1%} ({fragment_share(outcomes)[1]}) |"
    )


SUMMARY_HEADER = (
    "| ranking | Hit@1 / Hit@3 | paraphrase Hit@3 | answerable refused | off-topic refused "
    "| absent refused | absent refused or caveat | Reuters first answers that are fragments "
    "(answered) |\n|---|---|---|---|---|---|---|---|"
)


def table_rows(min_coverage: float, outcomes: Sequence[Outcome]) -> list[str]:
    """Return markdown table rows: one per style, one for all answerable questions."""
    answerable = [o for o in outcomes if o.question.answerable]
    groups = [(s, [o for o in answerable if o.question.style == s]) for s in STYLES]
    groups.append(("all", answerable))
    rows = []
    for name, group in groups:
        s = score(group)
        rows.append(
            f"| {min_coverage:g} | {name} | {s.n} | {s.hit1:.1%} | {s.hit3:.1%} | "
            f"{s.strict1:.1%} | {s.strict3:.1%} | {s.empty:.1%} | |"
        )
    n_un = sum(not o.question.answerable for o in outcomes)
    rows.append(
        f"| {min_coverage:g} | unanswerable | {n_un} | | | | | | {rejected(outcomes):.1%} |"
    )
    return rows


TABLE_HEADER = (
    "| min coverage | questions | n | Hit@1 | Hit@3 | strict Hit@1 | strict Hit@3 "
    "| answerable with no answer | unanswerable rejected |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def sweep_row(min_coverage: float, outcomes: Sequence[Outcome]) -> str:
    """Return a sweep table row; "balanced" is the mean of Hit@3 and the rejection share."""
    s = score([o for o in outcomes if o.question.answerable])
    r = rejected(outcomes)
    return f"| {min_coverage:g} | {s.hit3:.1%} | {s.empty:.1%} | {r:.1%} | {(s.hit3 + r) / 2:.3f} |"


SWEEP_HEADER = (
    "| min coverage | Hit@3 (answerable) | answerable with no answer | unanswerable rejected "
    "| balanced |\n|---|---|---|---|---|"
)


def misses(outcomes: Sequence[Outcome]) -> list[str]:
    """Return one line per answerable question missed in the top 3 or unanswerable one answered."""
    lines = []
    for o in outcomes:
        q = o.question
        f = o.findings
        evidence = (
            f" (cos {f.best_similarity:.2f}, names missing: {', '.join(f.missing_names) or '-'})"
            if f is not None and f.best_similarity is not None
            else ""
        )
        if q.answerable and not o.hit_rank:
            got = o.answers[0].sentence[:90] if o.answers else "(no answer)"
            lines.append(f"- {q.id} [{q.kind}] {q.question}{evidence}\n    got: {got}")
        elif not q.answerable and o.answers:
            a = o.answers[0]
            lines.append(f"- {q.id} [{q.kind}] {q.question}{evidence}\n    got: {a.sentence[:90]}")
    return lines
