"""Answer quality on the evaluation questions: Hit@1, Hit@3, and handling of unanswerable ones.

Builds an index (in a temporary folder) from the Wikinews articles of
`../shared/corpus/wikinews-gum/articles.jsonl`, the project's `seeds/` and the Reuters-21578
stories the questions name (for the test split also its fixed Reuters distractors, about 12,000
sentences in all: `bench/eval_corpus.py`; all of Reuters with `--reuters`), gives it sentence
vectors (the build's own when it made them, else embedded here with
`index.semantic.vectors.embedding_text`), asks each
question of `bench/questions/<split>.jsonl` with `NewsIndex.ask(question, k=3)`, and reports per
kind (lexical, paraphrase, headline, absent, offtopic):

- Hit@1 / Hit@3: the first answer / one of the first three answers shows the gold sentence
  (whitespace normalized) in its passage *as the bot shows it*: cut to the bot's
  `PASSAGE_LIMIT` around its best sentence by the bot's own `index.answers.excerpts.shown_passage`
  (`bot/render.py`), so a gold sentence the cut hides is a miss;
- strict Hit@1 / Hit@3: the same, but the answer's best `sentence` must equal the gold sentence;
- refused: share of questions that get no answer (the "closest passages" button may still be
  offered): wrong for answerable kinds, right for absent and off-topic ones.

    python bench/quality.py                               # dev split, the product's ranking
    python bench/quality.py --split dev2                  # issue #11's test split, a dev split now
    python bench/quality.py --split test                  # the frozen split: report, never tune
    python bench/quality.py --lexical-only --min-coverage 0 0.2 0.3 0.4  # sweep BM25's floor
    python bench/quality.py --sweep                       # fusion rules and floors, dev only
    python bench/quality.py --misses                      # list what was missed
    python bench/quality.py --reuters                     # with 19k Reuters distractor articles
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/quality.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_corpus import WIKINEWS  # noqa: E402
from bench.eval_index import attach_vectors, build_dev_index, corpus_of, evaluate  # noqa: E402
from bench.eval_questions import SPLITS, DevQuestion, Outcome, load_questions  # noqa: E402
from bench.fusion_sweep import chosen_rule, sweep_floors, sweep_rules, sweep_unmatched_words  # noqa: E402
from bench.measures import VARIANT_HEADER, variant_questions, variant_row  # noqa: E402
from bench.quality_scores import KIND_HEADER, SUMMARY_HEADER, kind_rows, misses, summary_row  # noqa: E402
from index.answers.policy import MIN_COVERAGE  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402

Runs = list[tuple[str, list[Outcome]]]


def command_line() -> argparse.ArgumentParser:
    """The command line's flags (quoted in docs/quality.md: add, never rename)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-coverage",
        type=float,
        nargs="+",
        default=[MIN_COVERAGE],
        help=f"answer floor(s) as a share of the ideal score (product: {MIN_COVERAGE})",
    )
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--questions", type=Path, help="another question file than the split's")
    parser.add_argument("--lexical-only", action="store_true", help="BM25 alone, as before")
    parser.add_argument(
        "--sweep", action="store_true", help="compare fusion rules and decision floors (dev only)"
    )
    parser.add_argument("--misses", action="store_true", help="list missed questions")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also ask every typing variant of each question (bench/variants.py), per kind",
    )
    parser.add_argument(
        "--reuters",
        action="store_true",
        help="also index all of Reuters-21578 (19k articles) as distractors",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = command_line().parse_args(argv)
    if not WIKINEWS.is_file():
        print(f"Wikinews corpus not found at {WIKINEWS}", file=sys.stderr)
        return 2
    path = args.questions or SPLITS[args.split]
    if args.sweep and path.name == "test.jsonl":
        print("test.jsonl is frozen: sweep on dev", file=sys.stderr)
        return 2
    questions = load_questions(path)
    with tempfile.TemporaryDirectory(prefix="newsbot-quality-") as tmp:
        index = build_dev_index(
            Path(tmp) / "index",
            distractors=args.reuters,
            questions=questions,
            corpus=corpus_of(path),
        )
        semantic = not args.lexical_only and attach_vectors(index)
        print(
            f"Index: {index.n_articles} articles, {index.n_sentences:,} sentences; "
            f"{len(questions)} questions ({path.name}), k=3, "
            f"{'BM25 + sentence vectors' if semantic else 'BM25 alone'}\n"
        )
        if args.sweep and semantic:
            ranked = sweep_rules(index, questions)
            sweep_floors(ranked[chosen_rule()])
            sweep_unmatched_words(index, ranked[chosen_rule()])
            print()
        runs = rankings(index, questions, args.min_coverage, semantic)
        # The first run is the product's path (BM25 alone with --lexical-only).
        first_floor = MIN_COVERAGE if semantic else args.min_coverage[0]
        variant_tables = [
            (label, typing_variants(index, questions, outcomes, semantic, first_floor))
            for label, outcomes in runs[:1]
            if args.variants
        ]
    print_tables(runs, variant_tables, with_misses=args.misses)
    return 0


def rankings(
    index: NewsIndex, questions: Sequence[DevQuestion], floors: Sequence[float], semantic: bool
) -> Runs:
    """The product's ranking (when `semantic`), then BM25 alone at each of `floors`."""
    runs: Runs = []
    if semantic:
        runs.append(("BM25 + vectors (product)", evaluate(index, questions, MIN_COVERAGE)))
    for min_coverage in floors:
        outcomes = evaluate(index, questions, min_coverage, lexical_only=True)
        runs.append((f"BM25 alone, min coverage {min_coverage:g}", outcomes))
    return runs


def print_tables(
    runs: Runs, variant_tables: Sequence[tuple[str, list[str]]], *, with_misses: bool
) -> None:
    """Print the summary and per-kind tables of `runs`, the variant tables, the misses."""
    print(SUMMARY_HEADER)
    print("\n".join(summary_row(label, outcomes) for label, outcomes in runs))
    print(f"\n{KIND_HEADER}")
    print("\n".join(row for label, outcomes in runs for row in kind_rows(label, outcomes)))
    for label, table in variant_tables:
        print(f"\nTyping variants, {label}:\n{VARIANT_HEADER}\n" + "\n".join(table))
    if with_misses:
        for label, outcomes in runs:
            print(f"\nMisses, {label}:")
            print("\n".join(misses(outcomes)) or "(none)")


def typing_variants(
    index: NewsIndex,
    questions: Sequence[DevQuestion],
    written: Sequence[Outcome],
    semantic: bool,
    min_coverage: float,
) -> list[str]:
    """Ask every typing variant of `questions` as `written` was asked; one row per kind."""
    row_of = {index.article(a).id: a for a in range(index.n_articles)}

    def text(article_id: str | None) -> str:
        """The article's headline and sentences as indexed (its metadata holds no text)."""
        if (article_id or "") not in row_of:
            return ""
        row = row_of[article_id or ""]
        first, last = index.article_rows(row)
        sentences = (index.sentence(r) for r in range(first, last + 1))
        return "\n".join([index.article(row).title, *sentences])

    by_id = {o.question.id: o for o in written}
    rows = []
    for kind, pairs in variant_questions(questions, text).items():
        originals = [by_id[q.id] for q, _ in pairs]
        typed = evaluate(index, [v for _, v in pairs], min_coverage, lexical_only=not semantic)
        rows.append(variant_row(kind, originals, typed))
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
