"""Answer quality on the development questions: Hit@1, Hit@3, and handling of unanswerable ones.

Builds an index (in a temporary folder) from the Wikinews articles of
`../shared/corpus/wikinews-gum/articles.jsonl` plus the project's `seeds/`, asks each question of
`bench/questions/dev.jsonl` with `NewsIndex.ask(question, k=3)`, and reports:

- Hit@1 / Hit@3: the first answer / one of the first three answers shows the gold sentence
  (whitespace normalized) in its passage *as the bot shows it*: cut to the bot's
  `PASSAGE_LIMIT` by the bot's own `shorten` (`bot/render.py`), so a gold sentence the cut hides
  is a miss;
- strict Hit@1 / Hit@3: the same, but the answer's best `sentence` must equal the gold sentence;
- empty: share of answerable questions that wrongly get no answer;
- rejected: share of unanswerable questions that rightly get no answer.

    python bench/quality.py                               # the product's MIN_COVERAGE
    python bench/quality.py --min-coverage 0 0.2 0.3 0.4  # sweep the floor
    python bench/quality.py --misses                      # list what was missed
    python bench/quality.py --reuters                     # with 19k Reuters distractor articles
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/quality.py`
    sys.path.insert(0, str(ROOT))

from bot.render import PASSAGE_LIMIT, shorten  # noqa: E402
from index.build import BuildSettings, build_from_articles  # noqa: E402
from index.ingest import read_sources  # noqa: E402
from index.model import Answer  # noqa: E402
from index.search import MIN_COVERAGE, NewsIndex  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
WIKINEWS = CORPUS / "wikinews-gum" / "articles.jsonl"
REUTERS = CORPUS / "reuters21578" / "articles.jsonl"
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "bench" / "questions" / "dev.jsonl"
STYLES = ("lexical", "paraphrase")


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
    """

    question: DevQuestion
    answers: tuple[Answer, ...]
    hit_rank: int
    strict_rank: int


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


def normalize(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def shown(answer: Answer) -> str:
    """Return the answer's passage as the bot shows it: cut to `PASSAGE_LIMIT`, normalized."""
    return normalize(shorten(answer.passage, PASSAGE_LIMIT))


def load_questions(path: Path = QUESTIONS) -> list[DevQuestion]:
    """Read the development questions (JSON Lines)."""
    with path.open(encoding="utf-8") as f:
        return [DevQuestion(**json.loads(line)) for line in f if line.strip()]


def build_dev_index(
    index_dir: Path, settings: BuildSettings | None = None, *, distractors: bool = False
) -> NewsIndex:
    """Index the Wikinews articles and the seeds (plus Reuters-21578) and load the result."""
    sources = [WIKINEWS, SEEDS, *([REUTERS] if distractors else [])]
    # Reuters is 26 MB; its ~2.5k title-only items are skipped by the reader.
    ingested = read_sources(sources, max_bytes=100_000_000)
    build_from_articles(ingested, index_dir, settings or BuildSettings())
    return NewsIndex.load(index_dir)


def ask(index: NewsIndex, question: DevQuestion, min_coverage: float, k: int = 3) -> Outcome:
    """Ask one question and find the rank of its gold sentence among the answers."""
    answers = index.ask(question.question, k=k, min_coverage=min_coverage).answers
    hit_rank = strict_rank = 0
    if question.gold is not None:
        gold = normalize(question.gold)
        hit_rank = next((i for i, a in enumerate(answers, 1) if gold in shown(a)), 0)
        strict_rank = next(
            (i for i, a in enumerate(answers, 1) if normalize(a.sentence) == gold), 0
        )
    return Outcome(question, answers, hit_rank, strict_rank)


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


def evaluate(
    index: NewsIndex, questions: Sequence[DevQuestion], min_coverage: float
) -> list[Outcome]:
    """Ask every question with answers floored at `min_coverage`."""
    return [ask(index, q, min_coverage) for q in questions]


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
        if q.answerable and not o.hit_rank:
            got = o.answers[0].sentence[:90] if o.answers else "(no answer)"
            lines.append(f"- {q.id} [{q.style}] {q.question}\n    got: {got}")
        elif not q.answerable and o.answers:
            a = o.answers[0]
            lines.append(f"- {q.id} [unanswerable] {q.question}\n    got: {a.sentence[:90]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-coverage",
        type=float,
        nargs="+",
        default=[MIN_COVERAGE],
        help=f"answer floor(s) as a share of the ideal score (product: {MIN_COVERAGE})",
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--misses", action="store_true", help="list missed questions")
    parser.add_argument(
        "--reuters",
        action="store_true",
        help="also index Reuters-21578 (19k articles) as distractors",
    )
    args = parser.parse_args(argv)
    if not WIKINEWS.is_file():
        print(f"Wikinews corpus not found at {WIKINEWS}", file=sys.stderr)
        return 2
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="newsbot-quality-") as tmp:
        index = build_dev_index(Path(tmp) / "index", distractors=args.reuters)
        print(
            f"Index: {index.n_articles} articles, {index.n_sentences:,} sentences; "
            f"{len(questions)} questions ({args.questions.name}), k=3\n"
        )
        print(TABLE_HEADER)
        missed, sweep = [], []
        for min_coverage in args.min_coverage:
            outcomes = evaluate(index, questions, min_coverage)
            print("\n".join(table_rows(min_coverage, outcomes)))
            missed.append((min_coverage, misses(outcomes)))
            sweep.append(sweep_row(min_coverage, outcomes))
    if len(sweep) > 1:
        print(f"\n{SWEEP_HEADER}")
        print("\n".join(sweep))
    if args.misses:
        for min_coverage, lines in missed:
            print(f"\nMisses at min coverage {min_coverage:g}:")
            print("\n".join(lines) or "(none)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
