"""The evaluation index: built from the evaluation corpus, given vectors, asked each question.

`build_dev_index` indexes what `read_articles` reads (`bench.eval_corpus`); `attach_vectors`
embeds it when its build made no vectors; `evaluate` asks every question with `NewsIndex.ask` and
ranks its gold sentence among the answers as the bot shows them (`shown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.eval_corpus import read_corpus
from bench.eval_questions import SPLITS, DevQuestion, Outcome, normalize
from index.answers.excerpts import shown_passage
from index.answers.fusion import Fusion
from index.answers.policy import FUSION
from index.answers.search import NewsIndex
from index.model import Answer, Ingested
from index.store.build import build_from_articles
from index.store.build_settings import BuildSettings


def shown(answer: Answer) -> str:
    """Return the answer's passage as shown (`index.answers.excerpts.shown_passage`), normalized."""
    return normalize(shown_passage(answer))


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
