"""Standing questions against the sentences an update added (`index.follow.percolate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.answers.search import NewsIndex
from index.follow.percolate import Match, Percolator, Standing, answer_of
from index.store.build import build_index

ARTICLES = {
    "ferry.md": (
        "Ferry strike in Zanzibar",
        "Zanzibar ferry operators went on strike over the rising price of fuel. "
        "Passengers waited at the port for hours. The union asked for talks with the ministry.",
    ),
    "copper.md": (
        "Copper climbs",
        "Copper prices in Chile rose to a record as mines cut output after floods. "
        "Traders expect the rise to last until the summer.",
    ),
    "council.md": (
        "Council passes the budget",
        "The Springfield council passed the budget for the new library. "
        "The vote was close, and the mayor thanked the librarians.",
    ),
}


def write_news(folder: Path, articles: dict[str, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, (name, (title, text)) in enumerate(sorted(articles.items())):
        (folder / name).write_text(f"---\ntitle: {title}\ndate: 2026-02-1{n}\n---\n{text}\n")
    return folder


@pytest.fixture(scope="module")
def news_index(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    root = tmp_path_factory.mktemp("percolate")
    build_index([write_news(root / "news", ARTICLES)], root / "index")
    return NewsIndex.load(root / "index")


def standing(index: NewsIndex, qid: int, text: str, *, semantic: bool = True) -> Standing:
    vector = index.embed_question(text) if semantic else None
    return Standing(qid, text, tuple(index.analyzer.terms(text)), vector)


def all_articles(index: NewsIndex) -> list[int]:
    return list(range(index.archive.n_articles))


def test_bm25_scores_are_the_index_scores(news_index: NewsIndex) -> None:
    question = "Why did the Zanzibar ferry operators strike?"
    percolator = Percolator([standing(news_index, 1, question)])
    (match,) = percolator.match(news_index, all_articles(news_index))
    hits = {h.sentence: h.score for h in news_index.search(question, 50)}
    assert match.bm25 == pytest.approx(hits[match.row], rel=1e-12)
    assert news_index.sentence(match.row).startswith("Zanzibar ferry operators went on strike")


def test_a_match_is_what_ask_answers_and_a_refusal_is_no_match(news_index: NewsIndex) -> None:
    asked = {
        1: "copper prices in Chile",
        2: "Why did the Zanzibar ferry operators strike?",
        3: "What did the Zanzibar ferry operators say about Japan?",  # never mentioned
        4: "volcano eruption in Iceland",
    }
    percolator = Percolator(standing(news_index, q, text) for q, text in asked.items())
    matched = {m.standing_id for m in percolator.match(news_index, all_articles(news_index))}
    answered = {q for q, text in asked.items() if news_index.ask(text).answers}
    assert matched == answered == {1, 2}


def test_only_the_new_articles_are_matched(news_index: NewsIndex) -> None:
    percolator = Percolator([standing(news_index, 1, "copper prices in Chile")])
    titles = [news_index.article(a).title for a in all_articles(news_index)]
    others = [a for a, t in enumerate(titles) if t != "Copper climbs"]
    assert percolator.match(news_index, others) == []
    (match,) = percolator.match(news_index, all_articles(news_index))
    answer = answer_of(news_index, match, percolator_terms(news_index, "copper prices in Chile"))
    assert answer.article.title == "Copper climbs"
    assert answer.sentence.startswith("Copper prices in Chile rose")


def percolator_terms(index: NewsIndex, text: str) -> tuple[str, ...]:
    return tuple(index.analyzer.terms(text))


def test_without_vectors_bm25_coverage_decides(news_index: NewsIndex) -> None:
    asked = {1: "copper prices in Chile", 2: "library budget vote", 3: "price of gold"}
    percolator = Percolator(standing(news_index, q, t, semantic=False) for q, t in asked.items())
    matched = {m.standing_id for m in percolator.match(news_index, all_articles(news_index))}
    lexical = {q for q, t in asked.items() if news_index.ask(t, lexical_only=True).answers}
    assert matched == lexical == {1, 2}
    assert all(m.similarity == 0.0 for m in percolator.match(news_index, all_articles(news_index)))


def test_the_sparse_product_finds_every_pair_at_the_floor_with_its_score(
    news_index: NewsIndex,
) -> None:
    from index.answers.policy import MIN_COVERAGE
    from index.follow.percolate import compile_questions, new_rows
    from index.follow.term_scores import bm25_scores

    words = ["copper", "prices", "Chile", "ferry", "strike", "the", "council", "budget", "fuel"]
    texts = [" ".join(words[i : i + n]) for n in (1, 2, 3, 4) for i in range(len(words) - n + 1)]
    questions = [standing(news_index, q, t, semantic=False) for q, t in enumerate(texts)]
    compiled = compile_questions(news_index, questions)
    rows = new_rows(news_index, all_articles(news_index))
    kept = bm25_scores(news_index, compiled.inverted, compiled.ideal, rows)
    positions, slots = (a.tolist() for a in kept.pairs())
    found = dict(zip(zip(positions, slots, strict=True), kept.values.tolist(), strict=True))
    expected = {}
    for slot, question in enumerate(questions):
        scores = news_index.bm25.scores(
            [
                news_index.bm25.vocabulary[t]
                for t in news_index.bm25.rarest(news_index.bm25.query_terms(question.terms))
            ]
        )
        for position, row in enumerate(rows.tolist()):
            if scores[row] > 0 and scores[row] >= MIN_COVERAGE * compiled.ideal[slot] - 1e-12:
                expected[position, slot] = float(scores[row])
    assert found.keys() == expected.keys() and len(found) > 10
    for key, score in expected.items():
        assert found[key] == pytest.approx(score, rel=1e-9)


@pytest.fixture(scope="module")
def wikinews(wikinews_index_once: Path) -> NewsIndex:
    return NewsIndex.load(wikinews_index_once)


def full_product(index: NewsIndex, questions: list[Standing], articles: list[int]) -> list[Match]:
    """The percolator's decision taken pair by pair over every cosine and every BM25 score.

    As `ask` judges: a sentence that says nothing is never evidence, and one sharing no scored
    term with the question counts by its cosine only from `FUSION.alone_similarity`.
    """
    from index.answers.fusion import coverage, is_answered
    from index.answers.policy import FUSION, MIN_COVERAGE, Question
    from index.follow.percolate import new_rows
    from index.text.gazetteer import countries
    from index.text.mentions import ArticleWords, missing_names
    from index.text.names import question_names

    rows = new_rows(index, articles)
    vectors = index.vectors
    assert vectors is not None
    codes = vectors.codes_file.rows(rows) if vectors.codes_file else vectors.codes[rows]
    sentences = codes.astype(np.float32) * vectors.scales[rows, None]
    asked_vectors = [q.vector for q in questions if q.vector is not None]
    cosines = sentences @ np.stack(asked_vectors).astype(np.float32).T
    bm25 = index.bm25
    best: dict[tuple[int, int], Match] = {}
    for slot, question in enumerate(questions):
        known = tuple(t for t in question.terms if t in bm25.terms)
        ideal = index.ideal_score(Question(question.text, question.terms, known))
        scored = [bm25.vocabulary[t] for t in bm25.rarest(bm25.query_terms(known))]
        scores = bm25.scores(scored) if scored else np.zeros(bm25.n_rows)
        asked = question_names(question.text, countries())
        for position, row in enumerate(rows.tolist()):
            if index.says_nothing[row]:
                continue
            score = float(scores[row])
            shares = score > 0
            if not (score > 0 and score >= MIN_COVERAGE * ideal - 1e-12):
                score = 0.0
            similarity = float(cosines[position, slot])
            evidence = similarity if shares or similarity >= FUSION.alone_similarity else 0.0
            article = index.article_of(row)
            first, last = index.article_rows(article)
            text = [index.article(article).title]
            text += [index.sentence(r) for r in range(first, last + 1)]
            named = not asked or not missing_names(
                asked, ArticleWords("\n".join(text), index.analyzer), countries()
            )
            covered = coverage(score, ideal)
            if evidence < FUSION.min_similarity:
                continue
            if not is_answered(evidence, covered, named, MIN_COVERAGE, FUSION):
                continue
            found = Match(question.id, row, article, score, covered, similarity)
            kept = best.get((article, question.id))
            if kept is None or (similarity, covered) > (kept.similarity, kept.coverage):
                best[article, question.id] = found
    return [best[key] for key in sorted(best)]


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_are_those_of_the_full_product_on_wikinews(
    wikinews: NewsIndex, data: st.DataObject
) -> None:
    """Regression: the cosines stage was a full product kept pair by pair in a dict (268 s on
    the Reuters bench); the one reduced per article must match exactly what the full product
    decides, for questions made of the corpus's own words and titles."""
    n_articles = wikinews.archive.n_articles
    titles = [wikinews.article(a).title for a in range(n_articles)]
    words = sorted({w for t in titles for w in t.split() if w.isalpha()})
    texts = data.draw(
        st.lists(
            st.one_of(
                st.sampled_from(titles),
                st.lists(st.sampled_from(words), min_size=1, max_size=5).map(" ".join),
            ),
            min_size=1,
            max_size=8,
        )
    )
    articles = data.draw(
        st.lists(st.integers(0, n_articles - 1), min_size=1, max_size=12, unique=True)
    )
    questions = [standing(wikinews, 100 + q, text) for q, text in enumerate(texts)]
    found = Percolator(questions).match(wikinews, articles)
    expected = full_product(wikinews, questions, articles)
    assert [(m.standing_id, m.article, m.row) for m in found] == [
        (m.standing_id, m.article, m.row) for m in expected
    ]
    for got, want in zip(found, expected, strict=True):
        assert got.similarity == pytest.approx(want.similarity, abs=1e-6)
        assert got.bm25 == pytest.approx(want.bm25, rel=1e-9)


@pytest.mark.slow
def test_an_alert_is_never_a_dateline_nor_a_headline_echo(wikinews: NewsIndex) -> None:
    """Regression: alerts judged every sentence, where `ask` judges only those that say
    something and counts a cosine without a shared term only from 0.45: "homeopathy death
    prosecution" was alerted with "Friday, May 8, 2009", and "Paralympics in the United States"
    matched a robotics contest (bench/follow_precision.py)."""
    asked = {1: "homeopathy death prosecution", 2: "Paralympics in the United States"}
    titles = {wikinews.article(a).id: a for a in all_articles(wikinews)}
    articles = [titles["GUM_news_homeopathic"], titles["GUM_news_afghan"]]
    percolator = Percolator(standing(wikinews, q, text) for q, text in asked.items())
    matches = percolator.match(wikinews, articles)
    assert [(m.standing_id, wikinews.article(m.article).id) for m in matches] == [
        (1, "GUM_news_homeopathic")
    ]
    assert not wikinews.says_nothing[matches[0].row]
    assert wikinews.sentence(matches[0].row).startswith("Homeopathy is")


def test_article_blocks_hold_whole_articles() -> None:
    from index.follow.cosine_floor import article_blocks

    articles = np.asarray([0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 4], dtype=np.int64)
    assert list(article_blocks(articles, 4)) == [(0, 3), (3, 6), (6, 11), (11, 12)]
    assert list(article_blocks(articles, 100)) == [(0, 12)]
    assert list(article_blocks(np.zeros(0, dtype=np.int64), 4)) == []


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=12),
    questions=st.integers(1, 6),
    block=st.integers(1, 20),
    seed=st.integers(0, 2**32 - 1),
)
def test_floor_pairs_are_every_pair_at_the_floor(
    sizes: list[int], questions: int, block: int, seed: int
) -> None:
    from index.follow.cosine_floor import floor_pairs
    from index.semantic.vectors import SentenceVectors

    rng = np.random.default_rng(seed)
    n = sum(sizes)
    raw = rng.normal(size=(n + 3, 16)).astype(np.float32)
    raw[-1] = raw[3]  # the first sentence again: tied cosines when both are in one article
    vectors = SentenceVectors.from_vectors(raw / np.linalg.norm(raw, axis=1, keepdims=True))
    asked = rng.normal(size=(questions, 16)).astype(np.float32)
    asked /= np.linalg.norm(asked, axis=1, keepdims=True)
    rows = np.arange(3, n + 3, dtype=np.int64)
    articles = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    found = floor_pairs(vectors, rows, articles, asked, 0.2, block)
    cosines = (vectors.codes[rows].astype(np.float32) * vectors.scales[rows, None]) @ asked.T
    expected = {(int(articles[p]), q, p) for p, q in zip(*np.nonzero(cosines >= 0.2), strict=True)}
    got = set()
    for g in range(len(found)):
        for i in range(int(found.start[g]), int(found.start[g + 1])):
            p = int(found.position[i])
            assert int(articles[p]) == int(found.article[g])
            assert found.cosine[i] == pytest.approx(cosines[p, found.column[g]], abs=1e-6)
            got.add((int(found.article[g]), int(found.column[g]), p))
    assert got == expected
    best, tied = found.best()
    for g in range(len(found)):
        group = found.cosine[int(found.start[g]) : int(found.start[g + 1])]
        assert found.cosine[best[g]] == group.max()
        assert tied[g] == int((group == group.max()).sum())
