"""Standing questions matched against the sentences an update added: a percolator.

Elasticsearch's percolator stores queries and runs each new document against them; here the
stored queries are the questions users follow (`/follow`), analyzed and embedded once, when
followed, and the documents are the sentences of the articles one index update added. A new
sentence answers a standing question when it passes, for that question, the decision a question
asked now would get (`index.answers.fusion.is_answered`, with the names check of
`index.text.names`), scored with the whole index's statistics:

- BM25: the question's scored terms (`NewsIndex.ideal_score`'s: the rarest `MAX_QUERY_TERMS`
  known ones, by the new generation's document frequencies) weighed with the generation's idf
  and average length, rank_bm25's per-term weights (`index.lexical.bm25.tf_norm`); its
  coverage of the question's ideal score against `MIN_COVERAGE`. The inverted index from term to
  standing questions is a sparse matrix, and the new sentences' weights times it is every score
  at once (`index.follow.term_scores`), so a sentence meets only the questions sharing a term.
- vectors (when the generation has them): the cosine of the sentence's int8 vector with each
  question's vector, against `FUSION.min_similarity`, by blocks of whole articles in a matrix
  product reduced per article before anything leaves numpy (`index.follow.cosine_floor`).
- names: a question naming something ("Chile") is answered only by an article that mentions it
  (`index.text.mentions.missing_names`), checked for the pairs the first two let through.

As `NewsIndex.ask` does, the names check and the cosine belong to the semantic path; an index
without vectors decides by BM25 coverage alone. One rule more, for alerts only: with vectors,
the sentence's cosine must also reach the off-topic floor (`FUSION.min_similarity`). Asked now,
a question is answered from its best sentence in the whole index, where BM25 coverage alone is
good evidence; meeting every new article on its own, the same coverage admits articles sharing
only the question's common half ("Paralympics in the United States" matched four stories that
only say "United States"): on the Wikinews set of `bench/follow_precision.py` the alerts'
precision was 0.667 (20 of 30) without this rule and 0.909 (20 of 22) with it. With vectors,
as `ask` judges its candidates, a sentence that says nothing of its own (a dateline, a sign-off,
a line repeating its headline) is never evidence, and a cosine counts only as
`index.answers.fusion.own_similarity` counts it (`_evidence`): 0.952 (20 of 21) on that set,
and no alert's sentence is a dateline any more (docs/follow.md). A question only gets the best
sentence of each new article (one alert per article and question; `bot.alerts` makes it one
per story and user).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import sparse

from index.answers import passages
from index.answers.fusion import Candidate, coverage, is_answered, own_similarity
from index.answers.policy import FUSION, MIN_COVERAGE, Question
from index.answers.search import NewsIndex
from index.follow.cosine_floor import floor_pairs
from index.follow.term_scores import Scores, bm25_scores
from index.model import Answer
from index.text.gazetteer import countries
from index.text.mentions import ArticleWords, missing_names
from index.text.names import question_names

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
        decision = _Decision(index, compiled)
        scores = bm25_scores(
            index, compiled.inverted, compiled.ideal, rows, shared=decision.semantic
        )
        if decision.semantic:
            found = _semantic_matches(index, compiled, rows, scores, decision)
        else:
            found = _lexical_matches(index, compiled, rows, scores, decision)
        return sorted(found, key=lambda m: (m.article, m.standing_id))

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


class _Decision:
    """The decision for one pair, as `NewsIndex.ask` decides, and the alerts' cosine floor.

    Whether an article mentions a name is kept by (name, article): many questions ask about the
    same names ("U.S."), and on the Reuters bench the names check was most of the match's time.
    """

    def __init__(self, index: NewsIndex, compiled: _Compiled) -> None:
        self.index = index
        self.compiled = compiled
        self.semantic = compiled.vectors is not None and index.vectors is not None
        self._mentioned: dict[tuple[str, int], bool] = {}
        self._words: dict[int, ArticleWords] = {}

    def named(self, slot: int, article: int) -> bool:
        """Return whether `article` mentions every name question `slot` asks about."""
        return all(self._mentions(name, article) for name in self.compiled.names[slot])

    def _mentions(self, name: str, article: int) -> bool:
        if (name, article) not in self._mentioned:
            if article not in self._words:
                self._words[article] = _article_words(self.index, article)
            missing = missing_names((name,), self._words[article], countries())
            self._mentioned[name, article] = not missing
        return self._mentioned[name, article]

    def passes(self, slot: int, article: int, similarity: float, covered: float) -> bool:
        """Return whether a sentence of `article` answers question `slot` (module docstring).

        Monotone in `similarity` and `covered` (`is_answered` and the floor are): a group whose
        best cosine and best coverage fail together holds no pair that passes.
        """
        named = True
        if self.semantic and self.compiled.names[slot]:
            with_names = is_answered(similarity, covered, True, MIN_COVERAGE, FUSION)
            without = is_answered(similarity, covered, False, MIN_COVERAGE, FUSION)
            if with_names != without:  # only then is the (costly) names check needed
                named = self.named(slot, article)
        if not is_answered(similarity, covered, named, MIN_COVERAGE, FUSION):
            return False
        # BM25's coverage alone answers a question, not an alert (module docstring).
        return not (self.semantic and similarity < FUSION.min_similarity)

    def best(
        self, slot: int, article: int, pairs: Sequence[tuple[int, float, float, float]]
    ) -> tuple[int, float, float] | None:
        """Return the pair (position, cosine, score) of highest (cosine, coverage) that passes.

        Args:
            slot: The question.
            article: The article of every pair.
            pairs: (position, cosine, score, evidence: the cosine as `_evidence` counts it).

        Returns:
            The pair; ties go to the first of `pairs` (ascending positions); None when no pair
            passes.
        """
        ideal = float(self.compiled.ideal[slot])
        kept: tuple[int, float, float] | None = None
        for position, similarity, score, evidence in pairs:
            covered = coverage(score, ideal)
            if not self.passes(slot, article, evidence, covered):
                continue
            if kept is None or (similarity, covered) > (kept[1], coverage(kept[2], ideal)):
                kept = (position, similarity, score)
        return kept

    def matched(
        self, rows: IntArray, slot: int, article: int, found: tuple[int, float, float]
    ) -> Match:
        """Return the match of question `slot` by the pair `found` (position, cosine, score)."""
        position, similarity, score = found
        covered = coverage(score, float(self.compiled.ideal[slot]))
        standing_id = int(self.compiled.ids[slot])
        return Match(standing_id, int(rows[position]), article, score, covered, similarity)


def _lexical_matches(
    index: NewsIndex, compiled: _Compiled, rows: IntArray, scores: Scores, decision: _Decision
) -> list[Match]:
    """Return the best passing sentence of each (article, question), by BM25 coverage alone."""
    position, slot = scores.pairs()
    articles = index.archive.articles_of(rows[position])
    groups: dict[tuple[int, int], list[tuple[int, float, float, float]]] = {}
    for p, s, a, v in zip(
        position.tolist(), slot.tolist(), articles.tolist(), scores.values.tolist(), strict=True
    ):
        groups.setdefault((a, s), []).append((p, 0.0, v, 0.0))
    out = []
    for (article, s), pairs in groups.items():
        found = decision.best(s, article, pairs)
        if found is not None:
            out.append(decision.matched(rows, s, article, found))
    return out


def _semantic_matches(
    index: NewsIndex, compiled: _Compiled, rows: IntArray, scores: Scores, decision: _Decision
) -> list[Match]:
    """Return the best passing sentence of each (article, question) among pairs at the floor.

    With vectors every match reaches the cosine floor, so the pairs below it are never looked
    at (`index.follow.cosine_floor`). In each group the pair of highest cosine decides when it
    is the only one at that cosine and passes; otherwise the group's pairs are walked as the
    decision walks them (ties, or a best pair refused by the names check).

    As `NewsIndex.ask` judges its candidates, a sentence that says nothing of its own (a
    sign-off, a dateline, a table row: `index.text.boilerplate`) is never evidence, and a cosine
    counts only as `_evidence` has it.
    """
    assert index.vectors is not None and compiled.vectors is not None
    content = np.flatnonzero(~index.says_nothing[rows])
    found = floor_pairs(
        index.vectors,
        rows[content],
        index.archive.articles_of(rows[content]),
        compiled.vectors,
        FUSION.min_similarity,
    )
    found = replace(found, position=content[found.position])
    best, tied = found.best()
    slots = compiled.vector_slots[found.column]
    group_scores = scores.of(found.position[best], slots)
    group_shares = scores.shares(found.position[best], slots)
    # Groups by the names their question asks about, then by article: the names check's regular
    # expressions then come from `re`'s cache (512 patterns) instead of being compiled again.
    asked = {names: n for n, names in enumerate(sorted(set(compiled.names)))}
    by_names = np.asarray([asked[names] for names in compiled.names], dtype=np.int64)
    order = np.lexsort((found.article, by_names[slots]))
    out = []
    for g, slot, article, pick, similarity, score, shares, ties in zip(
        order.tolist(),
        slots[order].tolist(),
        found.article[order].tolist(),
        found.position[best][order].tolist(),
        found.cosine[best][order].tolist(),
        group_scores[order].tolist(),
        group_shares[order].tolist(),
        tied[order].tolist(),
        strict=True,
    ):
        ideal = float(compiled.ideal[slot])
        evidence = _evidence(similarity, shares)
        if ties == 1 and decision.passes(slot, article, evidence, coverage(score, ideal)):
            out.append(decision.matched(rows, slot, article, (pick, similarity, score)))
            continue
        first, end = int(found.start[g]), int(found.start[g + 1])
        positions = found.position[first:end]
        group = scores.of(positions, np.full(len(positions), slot))
        if not decision.passes(slot, article, similarity, coverage(float(group.max()), ideal)):
            continue  # its best cosine and best coverage together fail: so does every pair
        shared = scores.shares(positions, np.full(len(positions), slot)).tolist()
        cosines = found.cosine[first:end].tolist()
        pairs = [
            (p, c, v, _evidence(c, t))
            for p, c, v, t in zip(positions.tolist(), cosines, group.tolist(), shared, strict=True)
        ]
        chosen = decision.best(slot, article, pairs)
        if chosen is not None:
            out.append(decision.matched(rows, slot, article, chosen))
    return out


def _evidence(similarity: float, shares: bool) -> float:
    """Return the cosine a sentence gives as evidence (`index.answers.fusion.own_similarity`).

    A sentence sharing no scored term with the question may owe its cosine to its headline
    (it is embedded as "title: sentence"), and counts only from `FUSION.alone_similarity`.
    """
    candidate = Candidate(row=0, bm25=1.0 if shares else 0.0, similarity=similarity)
    return own_similarity([candidate], FUSION.alone_similarity)


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
