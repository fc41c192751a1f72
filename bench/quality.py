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
import itertools
import json
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/quality.py`
    sys.path.insert(0, str(ROOT))

from bench.eval_corpus import CORPUS, REUTERS, SEEDS, WIKINEWS, read_corpus  # noqa: E402,F401
from bench.measures import (  # noqa: E402
    VARIANT_HEADER,
    fragment_share,
    handled_share,
    refused_share,
    variant_questions,
    variant_row,
)
from index.answers.excerpts import shown_passage  # noqa: E402
from index.answers.fusion import Fusion  # noqa: E402
from index.answers.policy import FUSION, MIN_COVERAGE, WEAK_COVERAGE  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402
from index.model import Answer, Findings, Ingested  # noqa: E402
from index.store.build import build_from_articles  # noqa: E402
from index.store.build_settings import BuildSettings  # noqa: E402

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
    """Return the answer's passage as shown (`index.answers.excerpts.shown_passage`), normalized."""
    return normalize(shown_passage(answer))


def load_questions(path: Path = QUESTIONS) -> list[DevQuestion]:
    """Read the development questions (JSON Lines)."""
    with path.open(encoding="utf-8") as f:
        return [DevQuestion(**json.loads(line)) for line in f if line.strip()]


def read_articles(
    questions: Sequence[DevQuestion] = (), *, distractors: bool = False, corpus: str = "named"
) -> Ingested:
    """Read the Wikinews articles, the seeds and the Reuters stories `questions` name.

    With `distractors`, all of Reuters-21578 (19k articles) instead of the named stories; with
    `corpus="test"`, the named stories and the test split's fixed distractors
    (`bench.eval_corpus`).
    """
    named = {q.article_id for q in questions if q.article_id}
    golds = [q.gold for q in questions if q.gold]
    return read_corpus(named, golds, corpus="all" if distractors else corpus)


def build_dev_index(
    index_dir: Path,
    settings: BuildSettings | None = None,
    *,
    distractors: bool = False,
    questions: Sequence[DevQuestion] = (),
    corpus: str = "named",
) -> NewsIndex:
    """Index what `read_articles` reads and load the result."""
    ingested = read_articles(questions, distractors=distractors, corpus=corpus)
    build_from_articles(ingested, index_dir, settings or BuildSettings())
    return NewsIndex.load(index_dir)


def corpus_of(path: Path) -> str:
    """The corpus a question file is evaluated over: the test split's, or the named stories."""
    return "test" if path.resolve() == SPLITS["test"].resolve() else "named"


def attach_vectors(index: NewsIndex) -> bool:
    """Give `index` sentence vectors and an encoder when its build made none; False: no model.

    Embeds each sentence as the build would (`index.semantic.vectors.embedding_text`) and keeps the
    vectors in memory (`SentenceVectors.from_vectors`).
    """
    from index.semantic.vectors import SentenceVectors, embedding_text, shared_encoder

    encoder = shared_encoder()
    if encoder is None:
        return False
    if getattr(index, "vectors", None) is None:
        texts = [
            embedding_text(index.article(index.article_of(row)).title, index.sentence(row))
            for row in range(index.n_sentences)
        ]
        vectors = np.asarray(encoder.encode(texts, batch_size=32), dtype=np.float32)
        index.vectors = SentenceVectors.from_vectors(vectors)
    index.encoder = encoder
    return True


def ask(
    index: NewsIndex,
    question: DevQuestion,
    min_coverage: float,
    k: int = 3,
    *,
    lexical_only: bool = False,
    fusion: Fusion = FUSION,
) -> Outcome:
    """Ask one question and find the rank of its gold sentence among the answers."""
    found = index.ask(
        question.question, k=k, min_coverage=min_coverage, lexical_only=lexical_only, fusion=fusion
    )
    # Passages shown only with the caveat naming a missing name are no answer (issue #19).
    answers = () if found.missing_names else found.answers
    hit_rank = strict_rank = 0
    if question.gold is not None:
        gold = normalize(question.gold)
        hit_rank = next((i for i, a in enumerate(answers, 1) if gold in shown(a)), 0)
        strict_rank = next(
            (i for i, a in enumerate(answers, 1) if normalize(a.sentence) == gold), 0
        )
    return Outcome(question, answers, hit_rank, strict_rank, found)


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
    index: NewsIndex,
    questions: Sequence[DevQuestion],
    min_coverage: float,
    *,
    lexical_only: bool = False,
    fusion: Fusion = FUSION,
) -> list[Outcome]:
    """Ask every question with answers floored at `min_coverage`."""
    return [
        ask(index, q, min_coverage, lexical_only=lexical_only, fusion=fusion) for q in questions
    ]


def refused(outcomes: Sequence[Outcome]) -> float:
    """Return the share of `outcomes` with no answer."""
    return sum(not o.answers for o in outcomes) / len(outcomes) if outcomes else float("nan")


def of_kind(outcomes: Sequence[Outcome], *kinds: str) -> list[Outcome]:
    """Return the outcomes of questions of the given kinds."""
    return [o for o in outcomes if o.question.kind in kinds]


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
    """Apply `index.answers.fusion.is_answered` over a grid of floors to ungated outcomes' evidence."""
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


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
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
        runs: list[tuple[str, list[Outcome]]] = []
        if semantic:
            runs.append(("BM25 + vectors (product)", evaluate(index, questions, MIN_COVERAGE)))
        for min_coverage in args.min_coverage:
            outcomes = evaluate(index, questions, min_coverage, lexical_only=True)
            runs.append((f"BM25 alone, min coverage {min_coverage:g}", outcomes))
        # The first run is the product's path (BM25 alone with --lexical-only).
        first_floor = MIN_COVERAGE if semantic else args.min_coverage[0]
        variant_tables = [
            (label, typing_variants(index, questions, outcomes, semantic, first_floor))
            for label, outcomes in runs[:1]
            if args.variants
        ]
    print(SUMMARY_HEADER)
    print("\n".join(summary_row(label, outcomes) for label, outcomes in runs))
    print(f"\n{KIND_HEADER}")
    print("\n".join(row for label, outcomes in runs for row in kind_rows(label, outcomes)))
    for label, table in variant_tables:
        print(f"\nTyping variants, {label}:\n{VARIANT_HEADER}\n" + "\n".join(table))
    if args.misses:
        for label, outcomes in runs:
            print(f"\nMisses, {label}:")
            print("\n".join(misses(outcomes)) or "(none)")
    return 0


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


if __name__ == "__main__":
    raise SystemExit(main())
