"""Standing questions matched against the sentences an update added: a percolator.

Elasticsearch's percolator stores queries and runs each new document against them; here the
stored queries are the questions users follow (`/follow`), analyzed and embedded once, when
followed, and the documents are the sentences of the articles one index update added. A new
sentence answers a standing question when it passes, for that question, the decision a question
asked now would get (`index.answers.fusion.is_answered`, with the names check of `index.text.names`), scored
with the whole index's statistics:

- BM25: the question's scored terms (`NewsIndex.ideal_score`'s: the rarest `MAX_QUERY_TERMS`
  known ones, by the new generation's document frequencies) weighed with the generation's idf
  and average length, rank_bm25's per-term weights (`index.lexical.bm25.tf_norm`); its coverage of the
  question's ideal score against `MIN_COVERAGE`. The inverted index from term to standing
  questions is a sparse matrix, and the new sentences' weights times it is every score at once
  (scipy's sparse product), so a sentence meets only the questions that share a term with it.
- vectors (when the generation has them): the cosine of the sentence's int8 vector with each
  question's vector, against `FUSION.min_similarity`, by blocks of a matrix product.
- names: a question naming something ("Chile") is answered only by an article that mentions it
  (`index.text.mentions.missing_names`), checked for the pairs the first two let through.

As `NewsIndex.ask` does, the names check and the cosine belong to the semantic path; an index
without vectors decides by BM25 coverage alone. One rule more, for alerts only: with vectors,
the sentence's cosine must also reach the off-topic floor (`FUSION.min_similarity`). Asked now,
a question is answered from its best sentence in the whole index, where BM25 coverage alone is
good evidence; meeting every new article on its own, the same coverage admits articles sharing
only the question's common half ("Paralympics in the United States" matched four stories that
only say "United States"): on the Wikinews set of `bench/follow_precision.py` the alerts'
precision was 0.667 (20 of 30) without this rule and 0.909 (20 of 22) with it. A question only
gets the best sentence of each new article (one alert per article and question; `bot.alerts`
makes it one per story and user).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from index.answers import passages
from index.answers.fusion import coverage, is_answered
from index.answers.policy import FUSION, MIN_COVERAGE, Question
from index.answers.search import NewsIndex
from index.lexical.bm25 import tf_norm
from index.model import Answer
from index.store import layout
from index.text.gazetteer import countries
from index.text.mentions import ArticleWords, missing_names
from index.text.names import question_names

# Sentences whose cosines with every standing question are computed in one matrix product.
VECTOR_BLOCK = 2048
# Sentences whose BM25 scores for every standing question are computed in one sparse product.
SPARSE_BLOCK = 2048

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Standing:
    """A standing question as the percolator keeps it.

    Attributes:
        id: Its id (the state file's).
        text: As followed.
        terms: Analyzed when followed.
        vector: Its unit vector, embedded when followed (None: BM25 alone).
    """

    id: int
    text: str
    terms: tuple[str, ...]
    vector: npt.NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A new sentence that answers a standing question.

    Attributes:
        standing_id: The question's id.
        row: The sentence's row in the generation.
        article: Its article's row.
        bm25: rank_bm25's score of the sentence for the question.
        coverage: That score over the question's ideal score.
        similarity: The cosine of their vectors (0 without vectors).
    """

    standing_id: int
    row: int
    article: int
    bm25: float
    coverage: float
    similarity: float


@dataclass(frozen=True, slots=True)
class _Compiled:
    """The standing questions against one generation: weighed, and inverted by term.

    Attributes:
        ids: Slot -> standing question id.
        ideal: Slot -> the question's ideal score (`NewsIndex.ideal_score`).
        inverted: The inverted index, a sparse (term id x slot) matrix in CSR form: each
            term's row lists the questions that score it, and how often.
        vectors: The questions' vectors (slots with one), one row each.
        vector_slots: Row of `vectors` -> slot.
        names: Slot -> the names the question asks about (`index.text.names.question_names`).
    """

    ids: IntArray
    ideal: FloatArray
    inverted: sparse.csr_matrix
    vectors: npt.NDArray[np.float32] | None
    vector_slots: IntArray
    names: tuple[tuple[str, ...], ...]


class Percolator:
    """The standing questions of every user, matched against each update's new articles."""

    def __init__(self, questions: Iterable[Standing] = ()) -> None:
        self._questions: dict[int, Standing] = {q.id: q for q in questions}
        self._compiled: tuple[str, int, _Compiled] | None = None  # generation, version
        self._version = 0  # changes with every add and remove
        # /follow adds on the event loop while a match runs in a worker thread.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._questions)

    def add(self, question: Standing) -> None:
        """Follow one more question."""
        with self._lock:
            self._questions[question.id] = question
            self._version += 1

    def remove(self, standing_id: int) -> None:
        """Stop following a question (nothing when it is not followed)."""
        with self._lock:
            if self._questions.pop(standing_id, None) is not None:
                self._version += 1

    def match(self, index: NewsIndex, articles: Sequence[int]) -> list[Match]:
        """Return, for each standing question and new article, its best answering sentence.

        Args:
            index: The generation the articles are in (its statistics score them).
            articles: Article rows an update added.

        Returns:
            Matches ordered by article, then question id.
        """
        rows = new_rows(index, articles)
        if not self._questions or not len(rows):
            return []
        compiled = self._compile(index)
        bm25 = _bm25_scores(index, compiled, rows)
        cosines = _cosines(index, compiled, rows)
        semantic = compiled.vectors is not None and index.vectors is not None
        pairs = set(bm25) | set(cosines)
        best: dict[tuple[int, int], Match] = {}
        # By (names, article): many questions ask about the same names ("U.S.").
        names_ok: dict[tuple[tuple[str, ...], int], bool] = {}
        words: dict[int, ArticleWords] = {}
        for position, slot in sorted(pairs):
            row = int(rows[position])
            score = bm25.get((position, slot), 0.0)
            covered = coverage(score, float(compiled.ideal[slot]))
            similarity = cosines.get((position, slot), 0.0)
            article = index.article_of(row)
            named = True
            asked = compiled.names[slot]
            if semantic and asked:
                if (asked, article) not in names_ok:
                    if article not in words:
                        words[article] = _article_words(index, article)
                    missing = missing_names(asked, words[article], countries())
                    names_ok[asked, article] = not missing
                named = names_ok[asked, article]
            if not is_answered(similarity, covered, named, MIN_COVERAGE, FUSION):
                continue
            if semantic and similarity < FUSION.min_similarity:
                continue  # BM25's coverage alone answers a question, not an alert (docstring)
            standing_id = int(compiled.ids[slot])
            found = Match(standing_id, row, article, score, covered, similarity)
            kept = best.get((article, standing_id))
            if kept is None or (similarity, covered) > (kept.similarity, kept.coverage):
                best[article, standing_id] = found
        return [best[key] for key in sorted(best)]

    def _compile(self, index: NewsIndex) -> _Compiled:
        key = str(index.folder)
        with self._lock:
            compiled, version = self._compiled, self._version
            questions = list(self._questions.values())
        if compiled is None or compiled[:2] != (key, version):
            compiled = (key, version, compile_questions(index, questions))
            with self._lock:
                if self._version == version:  # no question came or went meanwhile
                    self._compiled = compiled
        return compiled[2]


def compile_questions(index: NewsIndex, questions: Sequence[Standing]) -> _Compiled:
    """Weigh standing questions with a generation's statistics, and invert them by term."""
    bm25 = index.bm25
    ideal = np.zeros(len(questions), dtype=np.float64)
    terms: list[int] = []
    slots: list[int] = []
    repeats: list[int] = []
    gazetteer = countries()
    names = []
    for slot, question in enumerate(questions):
        known = tuple(t for t in question.terms if t in bm25.terms)
        ideal[slot] = index.ideal_score(Question(question.text, question.terms, known))
        scored = Counter(bm25.rarest(bm25.query_terms(known)))
        terms.extend(scored)
        repeats.extend(scored.values())
        slots.extend([slot] * len(scored))
        names.append(question_names(question.text, gazetteer))
    inverted = sparse.csr_matrix(
        (np.asarray(repeats, dtype=np.float64), (terms, slots)),
        shape=(len(bm25.vocabulary) + 1, len(questions)),
    )
    with_vector = [slot for slot, q in enumerate(questions) if q.vector is not None]
    vectors = None
    if with_vector:
        vectors = np.stack([questions[s].vector for s in with_vector]).astype(np.float32)  # type: ignore[misc]
    return _Compiled(
        ids=np.asarray([q.id for q in questions], dtype=np.int64),
        ideal=ideal,
        inverted=inverted,
        vectors=vectors,
        vector_slots=np.asarray(with_vector, dtype=np.int64),
        names=tuple(names),
    )


def new_rows(index: NewsIndex, articles: Sequence[int]) -> IntArray:
    """Return the live sentence rows of `articles`, ascending."""
    spans = [index.article_rows(a) for a in sorted(set(articles))]
    rows = (
        np.concatenate([np.arange(first, last + 1) for first, last in spans])
        if spans
        else np.zeros(0, dtype=np.int64)
    )
    live = index.archive.live_sentences
    return rows if live is None else rows[live[rows]]


def sentence_terms(index: NewsIndex, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Return each sentence's distinct terms: (position in `rows`, term id, term frequency).

    Read from the segments' stored analysis (`tokens.npy`), so nothing is analyzed again.
    """
    bm25 = index.bm25
    positions, terms = [], []
    segment_of = np.searchsorted(bm25.starts, rows, side="right") - 1
    for s in np.unique(segment_of).tolist():
        segment = bm25.segments[s]
        name = index.header["segments"][s]["name"]
        tokens = np.asarray(layout.load_array(index.folder / name, "tokens"))
        ends = np.cumsum(segment.doc_len.astype(np.int64))
        to_global = np.asarray([bm25.terms.get(t, -1) for t in segment.vocabulary], np.int64)
        mine = np.flatnonzero(segment_of == s)
        local = rows[mine] - int(bm25.starts[s])
        lengths = segment.doc_len[local].astype(np.int64)
        firsts = ends[local] - lengths
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        picked = tokens[np.repeat(firsts, lengths) + within]
        positions.append(np.repeat(mine, lengths))
        terms.append(to_global[picked])
    position = np.concatenate(positions)
    term = np.concatenate(terms)
    keep = term >= 0
    width = len(bm25.vocabulary) + 1
    keys, tf = np.unique(position[keep] * width + term[keep], return_counts=True)
    return keys // width, keys % width, tf.astype(np.int64)


def _bm25_scores(
    index: NewsIndex, compiled: _Compiled, rows: IntArray
) -> dict[tuple[int, int], float]:
    """Return rank_bm25's score of each (position in `rows`, question slot) at its floor or more.

    A sparse product, by blocks of sentences: the new sentences' term weights (idf times
    `tf_norm`, by term id) times the inverted index (how often each question scores each
    term). A sentence meets only the questions filed under one of its terms.
    """
    if not compiled.inverted.nnz:
        return {}
    bm25 = index.bm25
    position, term, tf = sentence_terms(index, rows)
    weights = bm25.idf[term] * tf_norm(
        tf, bm25.doc_len[rows[position]], bm25.avgdl, bm25.params.k1, bm25.params.b
    )
    width = len(bm25.vocabulary) + 1
    sentences = sparse.csr_matrix((weights, (position, term)), shape=(len(rows), width))
    floor = MIN_COVERAGE * compiled.ideal - 1e-12
    out: dict[tuple[int, int], float] = {}
    for start in range(0, len(rows), SPARSE_BLOCK):
        product = (sentences[start : start + SPARSE_BLOCK] @ compiled.inverted).tocoo()
        keep = (product.data >= floor[product.col]) & (product.data > 0)
        for p, q, v in zip(
            product.row[keep].tolist(),
            product.col[keep].tolist(),
            product.data[keep].tolist(),
            strict=True,
        ):
            out[start + p, q] = v
    return out


def _cosines(index: NewsIndex, compiled: _Compiled, rows: IntArray) -> dict[tuple[int, int], float]:
    """Return the cosine of each (position in `rows`, question slot) at `min_similarity` or more."""
    vectors = index.vectors
    if compiled.vectors is None or vectors is None:
        return {}
    out: dict[tuple[int, int], float] = {}
    questions = compiled.vectors.T.copy()
    for start in range(0, len(rows), VECTOR_BLOCK):
        block = rows[start : start + VECTOR_BLOCK]
        codes = (
            vectors.codes[block] if vectors.codes_file is None else vectors.codes_file.rows(block)
        )
        sentences = codes.astype(np.float32) * vectors.scales[block, None]
        cosine = sentences @ questions
        where, which = np.nonzero(cosine >= FUSION.min_similarity)
        for p, v, c in zip(
            where.tolist(), which.tolist(), cosine[where, which].tolist(), strict=True
        ):
            out[start + p, int(compiled.vector_slots[v])] = float(c)
    return out


def _article_words(index: NewsIndex, article: int) -> ArticleWords:
    """Return article row `article`'s title and sentences, as names are looked up in them."""
    first, last = index.article_rows(article)
    text = "\n".join(
        [index.article(article).title] + [index.sentence(r) for r in range(first, last + 1)]
    )
    return ArticleWords(text, index.analyzer)


def answer_of(index: NewsIndex, match: Match, terms: Sequence[str]) -> Answer:
    """Return the match as an answer: its sentence with a neighbour each side, and its article."""
    (span,) = passages.assemble(
        [(match.row, match.bm25)],
        article_of=index.article_of,
        article_rows=index.article_rows,
        terms_of=lambda row: frozenset(index.analyzer.terms(index.sentence(row))),
        is_heading=lambda row: passages.is_heading(index.sentence(row)),
        limit=1,
    )
    return Answer(
        sentence=index.sentence(span.best),
        passage=passages.join([index.sentence(r) for r in range(span.first, span.last + 1)]),
        score=match.bm25,
        article=index.article(span.article),
        terms=tuple(t for t in terms if t in index.bm25.terms),
        similarity=match.similarity if index.vectors is not None else None,
    )
