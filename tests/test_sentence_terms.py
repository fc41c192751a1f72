"""A hit's terms read from the stored tokens (issue #20): the very terms analysis gives.

The answer path once analyzed each hit sentence again (its near-duplicate check, the BM25 score
of a sentence only the vectors found); it now reads the segment's `tokens.npy`. These tests pin
that nothing an answer says changed: on the seed and Wikinews corpus (the development questions'
articles), in an index of two segments, every row's stored terms are its analyzed terms, and every
development question gets the same findings from both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.eval_index import read_articles
from bench.eval_questions import load_questions
from index.answers.search import NewsIndex
from index.lexical.sentence_terms import SentenceTerms
from index.store.build import build_from_articles
from index.store.build_settings import BuildSettings


class AnalyzedTerms(SentenceTerms):
    """The old way, as the oracle: each sentence analyzed again from its text."""

    def __init__(self, news: NewsIndex) -> None:
        self._news = news

    def terms(self, row: int) -> list[str]:
        return self._news.analyzer.terms(self._news.sentence(row))

    def warm(self) -> None:
        pass


def analyzing(news: NewsIndex) -> NewsIndex:
    """`news` again, its hits' terms analyzed from their text."""
    twin = NewsIndex(
        news.folder,
        news.header,
        news.bm25,
        news.archive,
        news.vectors,
        news.encoder,
        news.says_nothing,
    )
    twin.sentence_terms = AnalyzedTerms(twin)
    return twin


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    """The seed and Wikinews articles, BM25 only, in two segments (built, then 8 appended)."""
    articles = read_articles().articles
    folder = tmp_path_factory.mktemp("terms") / "index"
    settings = BuildSettings(workers=1, semantic=False)
    build_from_articles(articles[:-8], folder, settings)  # the second segment small: not merged
    build_from_articles(articles, folder, settings, full=False)
    news = NewsIndex.load(folder, semantic=False)
    assert len(news.bm25.segments) == 2
    return news


def test_stored_terms_are_the_analyzed_terms(two_segments: NewsIndex) -> None:
    news = two_segments
    rows = news.live_rows.tolist()
    assert len(rows) > 1000
    for row in rows:
        assert news.sentence_terms.terms(row) == news.analyzer.terms(news.sentence(row)), row


def test_bm25_answers_are_those_of_analysis(two_segments: NewsIndex) -> None:
    oracle = analyzing(two_segments)
    answered = 0
    for question in load_questions():
        found = two_segments.ask(question.question, 10, lexical_only=True)
        assert found == oracle.ask(question.question, 10, lexical_only=True), question.id
        answered += bool(found.answers)
    assert answered > 50


@pytest.mark.slow
def test_fused_answers_are_those_of_analysis(wikinews_index_once: Path) -> None:
    news = NewsIndex.load(wikinews_index_once)
    assert news.vectors is not None
    oracle = analyzing(news)
    for question in load_questions():
        found = news.ask(question.question, 10)
        assert found == oracle.ask(question.question, 10), question.id
