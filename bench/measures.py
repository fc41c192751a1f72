"""Issue #19's measures of what the user is shown (docs/quality.md).

- `fragment_share`: of the Reuters questions that got an answer, the share whose first answer's
  sentence is a sign-off, dateline, table row or fragment (`is_fragment`);
- `handled_share`: absent-fact questions refused, or shown only with the caveat naming what is
  missing (`Findings.missing_names`, and `Findings.closest` where the index has it); for an
  answerable question, the caveat alone counts as refused (`refused_share`);
- `variant_rows`: Hit@3 and refusals per typing variant kind (`bench.variants`) beside the same
  questions as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, Outcome
from bench.variants import KINDS, variants

# Words that carry nothing of their own in a wire story's line: function words, number words and
# the abbreviations of Reuters' earnings tables ("Shr 20 cts vs 17 cts", "Six mths").
_EMPTY = frozenset(
    """the and for with from that this was were are has have had its his her their not but
    one two three four five six seven eight nine ten eleven twelve vs mths mth qtr qtrs shr shrs
    cts dlr dlrs mln mlns billion avg revs rev oper net pct year yr""".split()
)
_LETTER_WORD = re.compile(r"[^\W\d_]{3,}")


def content_words(text: str) -> set[str]:
    """Letters-only words of three or more letters that carry content (not `_EMPTY`)."""
    return {w for w in (m.lower() for m in _LETTER_WORD.findall(text)) if w not in _EMPTY}


def is_fragment(sentence: str, headline: str) -> bool:
    """A line that says nothing beyond its headline: fewer than two content words of its own.

    Catches sign-offs ("Reuter"), datelines, table rows ("Net 2,319,000 vs 1,950,000", "12
    mths") and fragments ("Year", "Ltd>."); a sentence that restates its headline in the same
    words counts too, since it answers nothing the headline did not.
    """
    return len(content_words(sentence) - content_words(headline)) < 2


def is_reuters(question: DevQuestion) -> bool:
    """Whether the question is about a Reuters-21578 story."""
    return (question.article_id or "").startswith("reuters21578-")


def fragment_share(outcomes: Sequence[Outcome]) -> tuple[float, int]:
    """Share of answered Reuters questions whose first answer is a fragment, and their number."""
    answered = [o for o in outcomes if is_reuters(o.question) and o.answers]
    bad = sum(is_fragment(o.answers[0].sentence, o.answers[0].article.title) for o in answered)
    return (bad / len(answered) if answered else float("nan")), len(answered)


def caveat_only(outcome: Outcome) -> bool:
    """No answer, or only the closest passages shown with the caveat naming what is missing."""
    f = outcome.findings
    caveat = f is not None and bool(f.missing_names or getattr(f, "closest", ()))
    return not outcome.answers or caveat


def refused_share(outcomes: Sequence[Outcome]) -> float:
    """Share refused, an answer shown only with the caveat counting as refused."""
    return sum(map(caveat_only, outcomes)) / len(outcomes) if outcomes else float("nan")


def handled_share(outcomes: Sequence[Outcome]) -> float:
    """Share of absent-fact outcomes refused or shown with the caveat (same rule as refused)."""
    return refused_share([o for o in outcomes if o.question.kind == "absent"])


def variant_questions(
    questions: Sequence[DevQuestion], article_text: Callable[[str | None], str]
) -> dict[str, list[tuple[DevQuestion, DevQuestion]]]:
    """Per variant kind, the (original, variant) pairs of the questions it applies to."""
    pairs: dict[str, list[tuple[DevQuestion, DevQuestion]]] = {kind: [] for kind in KINDS}
    for q in questions:
        for kind, text in variants(q.question, article_text(q.article_id)).items():
            if text is not None:
                pairs[kind].append((q, replace(q, question=text)))
    return pairs


def hit3(outcomes: Sequence[Outcome]) -> float:
    """Hit@3 over answerable outcomes: the gold sentence in one of three passages as shown."""
    group = [o for o in outcomes if o.question.kind in ANSWERABLE_KINDS]
    return sum(1 <= o.hit_rank <= 3 for o in group) / len(group) if group else float("nan")


def variant_row(kind: str, originals: Sequence[Outcome], typed: Sequence[Outcome]) -> str:
    """One Markdown row: the variant kind's figures beside the same questions as written."""

    def of(outcomes: Sequence[Outcome], *kinds: str) -> list[Outcome]:
        return [o for o in outcomes if o.question.kind in kinds]

    def pair(measure: Callable[[Sequence[Outcome]], float], *kinds: str) -> str:
        before, after = measure(of(originals, *kinds)), measure(of(typed, *kinds))
        return f"{before:.3f} → {after:.3f}" if measure is hit3 else f"{before:.1%} → {after:.1%}"

    answerable = ANSWERABLE_KINDS
    n = len(of(typed, *answerable))
    return (
        f"| {kind} | {n} | {pair(hit3, *answerable)} | {pair(refused_share, *answerable)} "
        f"| {pair(refused_share, 'absent')} | {pair(refused_share, 'offtopic')} |"
    )


VARIANT_HEADER = (
    "| variant | answerable n | Hit@3 (as written → typed) | answerable wrongly refused "
    "| absent refused or caveat | off-topic refused |\n|---|---|---|---|---|---|"
)
