"""The rule that split the questions written for issue #11 into dev and what is now dev2.

dev2.jsonl (ids test-001..test-118) was issue #11's frozen test split. It was evaluated during
tuning many times (README.md), so issue #19 made it a second dev split and wrote a new test split
(test.jsonl, ids t2-001...) by hand, on articles no dev or dev2 question uses: that one was not
drawn, and this module does not check it.

The 114 questions dev-001..dev-114 were used for tuning before issue #11 and stay in dev. Every
question written after them (dev-115 on, and all of dev2.jsonl) was drawn into one split or the
other, before anything was tuned on them, like this:

1. the six examples quoted in the issue itself (PINNED_DEV) go to dev: they were public, and
   looked at, before the draw;
2. within each kind, the other new questions are sorted by their text and shuffled with
   `random.Random(f"{SEED}:{kind}")`;
3. the first TEST_COUNTS[kind] of the shuffled list go to test (now dev2), the rest to dev.

Run it to check that dev.jsonl and dev2.jsonl still follow the draw:

    python bench/questions/split.py
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEV = HERE / "dev.jsonl"
DEV2 = HERE / "dev2.jsonl"  # issue #11's test split, ids test-NNN kept

SEED = 11
FIRST_NEW_DEV = 115  # dev-115 is the first question written for issue #11
TEST_COUNTS = {"paraphrase": 42, "lexical": 18, "headline": 16, "absent": 27, "offtopic": 15}
PINNED_DEV = frozenset(
    {
        "What did Xi and Putin talk about?",
        "When did Xi talk to Putin?",
        "Which organization are China and Russia aligned in?",
        "Where did earlier US China discussions take place?",
        "China and Russia pledge deeper strategic coordination as trade reaches record high",
        "What did Xi say about Japan?",
    }
)


def read(path: Path) -> list[dict[str, object]]:
    """Read one JSON Lines question file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_new(row: dict[str, object]) -> bool:
    """Whether a row was written for issue #11 (test-* in dev2, or dev-115 and later)."""
    kind, number = str(row["id"]).split("-")
    return kind == "test" or int(number) >= FIRST_NEW_DEV


def draw(new_questions: Iterable[dict[str, object]]) -> frozenset[str]:
    """Return the texts of the new questions that the rule puts in the test split."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in TEST_COUNTS}
    for row in new_questions:
        if row["question"] not in PINNED_DEV:
            by_kind[str(row["kind"])].append(str(row["question"]))
    chosen: set[str] = set()
    for kind, texts in by_kind.items():
        ordered = sorted(texts)
        random.Random(f"{SEED}:{kind}").shuffle(ordered)
        chosen.update(ordered[: TEST_COUNTS[kind]])
    return frozenset(chosen)


def check(dev: Sequence[dict[str, object]], test: Sequence[dict[str, object]]) -> list[str]:
    """Return how dev and dev2 (`test`, issue #11's test) depart from the draw (empty: none)."""
    new = [row for row in [*dev, *test] if is_new(row)]
    expected = draw(new)
    actual = {str(row["question"]) for row in test}
    return [f"in test, not drawn: {q}" for q in sorted(actual - expected)] + [
        f"drawn, not in test: {q}" for q in sorted(expected - actual)
    ]


def main() -> int:
    """Check the split files against the draw and print the result."""
    problems = check(read(DEV), read(DEV2))
    for problem in problems:
        print(problem)
    print("split follows the draw" if not problems else f"{len(problems)} departures")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
