"""The evaluation questions (bench/questions/) and what asking one of them gave.

The types every quality bench shares: `DevQuestion` (one line of a split's JSON Lines file) and
`Outcome` (the answers it got and the rank of its gold sentence), with the kinds of questions and
the one rule for comparing a gold sentence with a shown one (`normalize`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.model import Answer, Findings

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "bench" / "questions" / "dev.jsonl"
SPLITS = {
    split: ROOT / "bench" / "questions" / f"{split}.jsonl" for split in ("dev", "dev2", "test")
}
STYLES = ("lexical", "paraphrase")
ANSWERABLE_KINDS = ("lexical", "paraphrase", "headline")
UNANSWERABLE_KINDS = ("absent", "offtopic")


@dataclass(frozen=True, slots=True)
class DevQuestion:
    """One development question.

    Attributes:
        id: Stable id ("dev-001").
        question: As a reader would ask it.
        article_id: Wikinews id of the answering article, "seed", or None when unanswerable.
        gold: The sentence that answers it, or None when unanswerable.
        style: "lexical" (shares the sentence's words) or "paraphrase" (worded differently).
        answerable: Whether the indexed articles answer it.
        kind: "lexical", "paraphrase", "headline", "absent" or "offtopic" (questions/README.md).
    """

    id: str
    question: str
    article_id: str | None
    gold: str | None
    style: str
    answerable: bool
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What asking one question gave.

    Attributes:
        question: The question asked.
        answers: The answers, best first (at most three).
        hit_rank: 1-based rank of the first answer whose shown passage holds the gold sentence,
            or 0.
        strict_rank: 1-based rank of the first answer whose best sentence is the gold, or 0.
        findings: Everything `NewsIndex.ask` returned (the evidence of its decision too).
    """

    question: DevQuestion
    answers: tuple[Answer, ...]
    hit_rank: int
    strict_rank: int
    findings: Findings | None = None


def normalize(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def load_questions(path: Path = QUESTIONS) -> list[DevQuestion]:
    """Read the development questions (JSON Lines)."""
    with path.open(encoding="utf-8") as f:
        return [DevQuestion(**json.loads(line)) for line in f if line.strip()]


def of_kind(outcomes: Sequence[Outcome], *kinds: str) -> list[Outcome]:
    """Return the outcomes of questions of the given kinds."""
    return [o for o in outcomes if o.question.kind in kinds]
