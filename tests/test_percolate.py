"""Standing questions against the sentences an update added (`index.follow.percolate`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.answers.search import NewsIndex
from index.follow.percolate import Percolator, Standing, answer_of
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
    from index.follow.percolate import _bm25_scores, compile_questions, new_rows

    words = ["copper", "prices", "Chile", "ferry", "strike", "the", "council", "budget", "fuel"]
    texts = [" ".join(words[i : i + n]) for n in (1, 2, 3, 4) for i in range(len(words) - n + 1)]
    questions = [standing(news_index, q, t, semantic=False) for q, t in enumerate(texts)]
    compiled = compile_questions(news_index, questions)
    rows = new_rows(news_index, all_articles(news_index))
    found = _bm25_scores(news_index, compiled, rows)
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
