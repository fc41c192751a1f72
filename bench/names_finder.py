"""Which finder of a question's names errs less on questions as people type them (issue #19).

For every dev question and its typing variants (`bench.variants`), the names each finder
finds, and whether the question's article mentions them
(`index.text.mentions.ArticleWords.mentions`, the product's matching):

- answerable questions: *false alarms*, a name the answering article never mentions (the names
  check would doubt a right answer);
- absent-fact questions: *caught*, a name the on-topic article never mentions (what lets the
  names check say the news lacks the fact).

Finders: the product's rule-based `index.text.names.question_names`, and the entities of spaCy's
small English pipeline computed elsewhere (`bench/spacy_entities.py`; `--entities`).

    python bench/names_finder.py --dump questions.jsonl      # the variants, for spaCy
    python bench/names_finder.py --entities entities.jsonl   # both finders' figures
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/names_finder.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_index import read_articles  # noqa: E402
from bench.eval_questions import ANSWERABLE_KINDS, DevQuestion, load_questions  # noqa: E402
from index.text.analysis import Analyzer  # noqa: E402
from index.text.gazetteer import countries  # noqa: E402
from index.text.mentions import ArticleWords  # noqa: E402
from index.text.names import question_names  # noqa: E402

Finder = Callable[[str], Sequence[str]]


def articles_by_id(questions: Sequence[DevQuestion]) -> dict[str, ArticleWords]:
    """Each question's article as names are looked up in it; the seed's as "seed"."""
    analyzer = Analyzer()
    out = {}
    for article in read_articles(questions).articles:
        words = ArticleWords(f"{article.title}\n{article.text}", analyzer)
        out[article.id] = words
        if article.path and "/seeds/" in article.path:
            out["seed"] = words
    return out


def typed(question: str, article: str) -> dict[str, str]:
    """Return the question as written ("original") and its typing variants (`bench.variants`)."""
    from bench.variants import variants

    made = variants(question, article)
    return {"original": question, **{k: v for k, v in made.items() if v is not None}}


def table(
    label: str,
    finder: Finder,
    questions: Sequence[DevQuestion],
    articles: dict[str, ArticleWords],
    *,
    tolerant: bool = False,
) -> list[str]:
    """One row per variant kind: false alarms on answerable questions, absent facts caught."""
    gazetteer = countries()
    counts: dict[str, list[int]] = {}  # kind -> [answerable, alarms, absent, caught]
    seconds: list[float] = []
    for question in questions:
        article = articles.get(question.article_id or "")
        if article is None or question.kind == "offtopic":
            continue
        for kind, text in typed(question.question, article.text).items():
            start = time.perf_counter()
            names = finder(text)
            seconds.append(time.perf_counter() - start)
            missing = any(not article.mentions(n, gazetteer, tolerant=tolerant) for n in names)
            row = counts.setdefault(kind, [0, 0, 0, 0])
            if question.kind in ANSWERABLE_KINDS:
                row[0] += 1
                row[1] += missing
            elif question.kind == "absent":
                row[2] += 1
                row[3] += missing
    seconds.sort()
    out = []
    for kind, (n, alarms, absent, caught) in counts.items():
        out.append(
            f"| {label} | {kind} | {n} | {alarms / max(1, n):.1%} "
            f"| {absent} | {caught / max(1, absent):.1%} |"
        )
    out.append(f"(finding the names: p50 {seconds[len(seconds) // 2] * 1e3:.3f} ms a question)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", help="dev or dev2 (never test)")
    parser.add_argument("--dump", type=Path, help="write the variants here, one JSON string a line")
    parser.add_argument("--entities", type=Path, help="spaCy's names (bench/spacy_entities.py)")
    args = parser.parse_args(argv)
    if args.split == "test":
        print("test.jsonl is evaluated once, by someone else: use dev or dev2", file=sys.stderr)
        return 2
    questions = load_questions(ROOT / "bench" / "questions" / f"{args.split}.jsonl")
    articles = articles_by_id(questions)
    if args.dump:
        texts = dict.fromkeys(
            t
            for q in questions
            if (q.article_id or "") in articles
            for t in typed(q.question, articles[q.article_id or ""].text).values()
        )
        args.dump.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
        return 0
    print(
        "| finder | variant | answerable | false alarms | absent | caught |\n"
        "|---|---|---|---|---|---|"
    )
    rules: Finder = lambda t: question_names(t, countries())  # noqa: E731
    print("\n".join(table("rules", rules, questions, articles)))
    print("\n".join(table("rules, one typo tolerated", rules, questions, articles, tolerant=True)))
    if args.entities:
        with args.entities.open(encoding="utf-8") as f:
            found = [json.loads(line) for line in f if line.strip()]
        spacy_names = {e["question"]: e["names"] for e in found}
        spacy: Finder = lambda t: spacy_names[t]  # noqa: E731
        print("\n".join(table("spaCy", spacy, questions, articles)))
        print(
            "\n".join(table("spaCy, one typo tolerated", spacy, questions, articles, tolerant=True))
        )
        spacy_seconds = sorted(e["seconds"] for e in found)
        print(f"(spaCy's nlp(): p50 {spacy_seconds[len(spacy_seconds) // 2] * 1e3:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
