"""Answers on real wire text: sign-offs, datelines and tables as first answers; off-topic refusals.

Indexes the project's `seeds/`, the Wikinews articles and Reuters-21578 stories as they come
(their "Reuter" sign-offs, tables and ticker lines kept) into `bench/out/wire/index` with sentence
vectors, reusing that folder across runs (a rebuild embeds only new text), then asks:

- `headline`: "what is the news about <headline>?" for 40 Reuters stories of the index (every
  `len // 40`-th story with a headline of three words or more, in file order);
- `offtopic`: `OFFTOPIC`, questions about sport, recipes, gadgets and celebrities that a business
  newswire of 1987, Wikinews and the seed do not answer;
- the dev split (`bench/questions/dev.jsonl`; never test.jsonl), as `bench/quality.py` scores it;

and scores the index's flags against 300 Reuters sentences labelled by hand (`LABELS`).

The Reuters stories are the first `REUTERS_STORIES` with a body in file order, plus those the dev
questions name. For each first answer it prints the sentence and whether `index.text.boilerplate`
finds it says nothing of its own; those lines were also checked by hand (docs/quality.md,
"Wire text").

    python bench/wire.py                  # build (first run: several minutes), then ask
    python bench/wire.py --show 40        # also print the first answers
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/wire.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_corpus import REUTERS, SEEDS, WIKINEWS  # noqa: E402
from bench.eval_index import evaluate  # noqa: E402
from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, load_questions, of_kind  # noqa: E402
from bench.quality_scores import refused, score  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402
from index.model import Article, Findings, Ingested  # noqa: E402
from index.sources.ingest import read_sources  # noqa: E402
from index.store.build import build_from_articles  # noqa: E402
from index.store.build_settings import BuildSettings  # noqa: E402

OUT = ROOT / "bench" / "out" / "wire"
DEV = ROOT / "bench" / "questions" / "dev.jsonl"
LABELS = ROOT / "bench" / "boilerplate_labels.json"
REUTERS_STORIES = 2766
HEADLINE_QUESTIONS = 40
OFFTOPIC = (
    "Who won the Super Bowl?",
    "Who won the World Cup final?",
    "How many goals did Messi score this season?",
    "Which team won the NBA championship?",
    "Who won the Wimbledon men's singles title?",
    "What is a good recipe for banana bread?",
    "How long should I boil an egg?",
    "How do I make pizza dough at home?",
    "What spices go into a chicken curry?",
    "How do you make a chocolate cake without eggs?",
    "Is the new iPhone camera better than the Pixel's?",
    "How long does the battery of the Galaxy Watch last?",
    "Which gaming laptop has the best graphics card?",
    "Should I buy a PlayStation or an Xbox?",
    "How do I reset my wifi router?",
    "Who is Taylor Swift dating?",
    "Did Beyonce win a Grammy?",
    "What movie is Tom Cruise filming next?",
    "Which celebrity couple got married in Italy?",
    "What is Kim Kardashian's new business?",
)


def wire_articles(dev: Sequence[DevQuestion]) -> tuple[Ingested, list[Article]]:
    """Return what the index holds, and its Reuters stories in file order."""
    ingested = read_sources([WIKINEWS, SEEDS], max_bytes=100_000_000)
    named = {q.article_id for q in dev if (q.article_id or "").startswith("reuters")}
    reuters = read_sources([REUTERS], max_bytes=100_000_000).articles  # bodies only
    kept = [a for i, a in enumerate(reuters) if i < REUTERS_STORIES or a.id in named]
    ingested.articles += kept
    return ingested, kept


def headline_questions(reuters: Sequence[Article]) -> list[str]:
    """Return "what is the news about <headline>?" for `HEADLINE_QUESTIONS` spread stories.

    Every `len // HEADLINE_QUESTIONS`-th story (every 69th of the 2,783) whose headline has three
    words or more, the headline in lower case.
    """
    titled = [a for a in reuters if len(a.title.split()) >= 3]
    step = max(1, len(titled) // HEADLINE_QUESTIONS)
    return [f"what is the news about {a.title.lower()}?" for a in titled[::step]][
        :HEADLINE_QUESTIONS
    ]


def first_answers(index: NewsIndex, questions: Sequence[str]) -> list[tuple[str, Findings]]:
    """Ask each question (k=3) and return it with its findings."""
    return [(q, index.ask(q, k=3)) for q in questions]


def says_nothing(index: NewsIndex, findings: Findings) -> bool:
    """Whether the first answer is a sentence `index.text.boilerplate` flags (False if none)."""
    if not findings.answers:
        return False
    try:
        from index.text.boilerplate import is_boilerplate
    except ImportError:  # the code before index.text.boilerplate: judged by hand
        return False
    answer = findings.answers[0]
    return is_boilerplate(answer.sentence, answer.article.title)


def report_asked(
    index: NewsIndex, label: str, asked: list[tuple[str, Findings]], show: int
) -> dict[str, object]:
    """Print and return how many were answered and how many first answers say nothing."""
    answered = [(q, f) for q, f in asked if f.answers]
    empty = [(q, f) for q, f in answered if says_nothing(index, f)]
    print(
        f"{label}: {len(asked)} questions, {len(answered)} answered, "
        f"{len(asked) - len(answered)} refused, {len(empty)} first answers flagged as boilerplate"
    )
    for q, f in asked[:show]:
        first = f.answers[0] if f.answers else None
        what = (
            "(refused)"
            if first is None
            else f"{first.sentence[:90]!r} cos {first.similarity or 0:.2f} bm25 {first.score:.1f}"
        )
        print(f"  {q[:70]:70} -> {what}")
    return {
        "questions": len(asked),
        "answered": len(answered),
        "refused": len(asked) - len(answered),
        "first_flagged": len(empty),
        "first": [
            {"question": q, "first": f.answers[0].sentence if f.answers else None} for q, f in asked
        ],
    }


def flag_accuracy(index: NewsIndex) -> dict[str, object]:
    """Print and return the precision and recall of the index's flags on `LABELS` (by hand).

    Both samples: `labels` (200 sentences) and `heldout` (100 more, labelled after a rule was
    drawn from the first sample's misses).
    """
    samples = json.loads(LABELS.read_text(encoding="utf-8"))
    first_row = {
        index.article(a).id: index.article_rows(a)[0] for a in range(index.archive.n_articles)
    }
    results: dict[str, object] = {}
    for name in ("labels", "heldout"):
        tp = fp = fn = 0
        for article_id, position, boilerplate in samples[name]:
            row = first_row[article_id] + position
            flagged = bool(index.says_nothing[row])
            tp += flagged and boilerplate
            fp += flagged and not boilerplate
            fn += boilerplate and not flagged
            if flagged != boilerplate:
                what = "missed" if boilerplate else "wrongly flagged"
                print(f"  {name}, {what}: {index.sentence(row)!r}")
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        print(
            f"flags on {len(samples[name])} hand-labelled Reuters sentences ({name}, "
            f"{tp + fn} boilerplate): precision {precision:.3f}, recall {recall:.3f}"
        )
        results[name] = {"n": len(samples[name]), "precision": precision, "recall": recall}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="index and results folder")
    parser.add_argument("--show", type=int, default=0, help="print this many first answers")
    parser.add_argument("--no-build", action="store_true", help="ask the existing index")
    args = parser.parse_args(argv)
    dev = load_questions(DEV)
    ingested, reuters = wire_articles(dev)
    index_dir = args.out / "index"
    if not args.no_build:
        report = build_from_articles(ingested, index_dir, BuildSettings())
        print(report.summary())
    index = NewsIndex.load(index_dir)
    print(f"Index: {index.n_articles} articles, {index.n_sentences:,} sentences")
    results: dict[str, object] = {"flags": flag_accuracy(index)}
    for label, questions in (
        ("headline", headline_questions(reuters)),
        ("offtopic", list(OFFTOPIC)),
    ):
        results[label] = report_asked(index, label, first_answers(index, questions), args.show)
    outcomes = evaluate(index, dev, 0.5)
    answerable = of_kind(outcomes, *ANSWERABLE_KINDS)
    s = score(answerable)
    dev_row = {
        "hit1": round(s.hit1, 3),
        "hit3": round(s.hit3, 3),
        "answerable_refused": round(s.empty, 3),
        "offtopic_refused": round(refused(of_kind(outcomes, "offtopic")), 3),
        "absent_refused": round(refused(of_kind(outcomes, "absent")), 3),
        "n": s.n,
    }
    results["dev"] = dev_row
    print(f"dev ({s.n} answerable): {json.dumps(dev_row)}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
