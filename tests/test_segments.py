"""An index updated in segments scores exactly as rank_bm25 over its live sentences (issue #12).

Random corpora go through random sequences of updates (articles added, changed, removed), each
appended by `index.store.update` with merges and compactions forced often by a small merge policy.
After every update the index is checked against `rank_bm25.BM25Okapi` built over the live
sentences in row order: every row's score bit for bit, and the top-k rows and scores.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.answers.search import NewsIndex
from index.model import Article
from index.store import update
from index.store.build import build_from_articles
from index.store.build_report import BuildReport
from index.store.build_settings import BuildSettings
from index.store.generations import current_generation, read_header
from index.text.timeframe import Period

WORDS = [f"W{i}" for i in range(12)] + [f"w{i}" for i in range(50)]
BM25_ONLY = BuildSettings(semantic=False, workers=1)


def story(rng: random.Random, article_id: str) -> Article:
    """An article of 1-4 sentences of words drawn from a small vocabulary (repeats common).

    Most sentences hold `w0`, so that its idf is below zero and floored at epsilon times the
    mean idf: the floor then depends on every live term, in order of first appearance.
    """
    sentences = [
        " ".join(
            [rng.choice(WORDS[:12])]
            + [rng.choice(WORDS) for _ in range(rng.randint(0, 8))]
            + ["w0"] * (rng.random() < 0.7)
        )
        + "."
        for _ in range(rng.randint(1, 4))
    ]
    date = rng.choice([None, f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"])
    return Article(id=article_id, title=f"Story {article_id}", text=" ".join(sentences), date=date)


def assert_exactly_rank_bm25(news: NewsIndex, rng: random.Random, questions: int = 15) -> None:
    """Compare every score and the top 5 of random questions with rank_bm25 over live rows."""
    live = news.live_rows
    okapi = BM25Okapi([news.analyzer.terms(news.sentence(int(row))) for row in live])
    for _ in range(questions):
        terms = news.analyzer.terms(" ".join(rng.choices(WORDS, k=rng.randint(1, 5))))
        expected = np.zeros(news.bm25.n_rows)
        expected[live] = okapi.get_scores(terms)
        assert np.array_equal(news.bm25.scores(terms), expected)
        rows, scores = news.bm25.top_k(terms, 5)
        positive = np.flatnonzero(expected > 0)
        best = positive[np.lexsort((positive, -expected[positive]))][:5]
        assert rows.tolist() == best.tolist()
        assert np.array_equal(scores, expected[best])


@pytest.fixture
def small_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A merge policy that keeps few segments of a few sentences, so merges happen often."""
    monkeypatch.setattr(update, "MAX_SEGMENTS", 3)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), compact=st.sampled_from([0.25, 0.6, 2.0]))
def test_every_update_scores_exactly_as_rank_bm25_over_the_live_sentences(
    tmp_path_factory: pytest.TempPathFactory, seed: int, compact: float
) -> None:
    rng = random.Random(seed)
    index_dir = tmp_path_factory.mktemp("segments") / "index"
    articles = {f"a{i}": story(rng, f"a{i}") for i in range(rng.randint(1, 12))}
    segment_counts = set()
    saved = update.COMPACT_DEAD, update.MAX_SEGMENTS
    update.COMPACT_DEAD, update.MAX_SEGMENTS = compact, 3  # 2.0: never compacted
    try:
        build_from_articles(list(articles.values()), index_dir, BM25_ONLY, full=False)
        for _ in range(6):
            for _ in range(rng.randint(0, 5)):  # new, or a new version of an existing one
                article_id = f"a{rng.randint(0, 20)}"
                articles[article_id] = story(rng, article_id)
            for article_id in rng.sample(
                sorted(articles), min(len(articles) - 1, rng.randint(0, 3))
            ):
                del articles[article_id]
            report = build_from_articles(list(articles.values()), index_dir, BM25_ONLY, full=False)
            news = NewsIndex.load(index_dir, semantic=False)
            assert not report.full
            assert news.n_articles == report.articles == len(articles)
            assert {a.id for a in news.articles_newest_first(0, 100)} == set(articles)
            stored = [news.archive.article(row) for row in range(news.archive.n_articles)]
            assert news.archive.dates == [a.date for a in stored]  # kept through every update
            segment_counts.add(len(read_header(current_generation(index_dir))["segments"]))
            assert_exactly_rank_bm25(news, rng)
    finally:
        update.COMPACT_DEAD, update.MAX_SEGMENTS = saved
    assert max(segment_counts) <= 3


def test_several_segments_and_dead_rows_are_what_the_updates_made(
    tmp_path: Path, small_merges: None
) -> None:
    """The property above is not vacuous: updates leave several segments and masked rows."""
    rng = random.Random(7)
    index_dir = tmp_path / "index"
    articles = {f"a{i}": story(rng, f"a{i}") for i in range(40)}
    build_from_articles(list(articles.values()), index_dir, BM25_ONLY, full=False)
    articles["a3"] = story(rng, "a3")  # changed
    del articles["a5"]  # removed
    articles["b1"] = story(rng, "b1")  # new
    report = build_from_articles(list(articles.values()), index_dir, BM25_ONLY, full=False)
    assert (report.full, report.added, report.removed, report.segments) == (False, 2, 2, 2)
    news = NewsIndex.load(index_dir, semantic=False)
    assert len(news.bm25.segments) == 2
    assert news.archive.live_sentences is not None
    assert news.bm25.n_rows > news.n_sentences
    assert_exactly_rank_bm25(news, rng, questions=40)
    # Flags of a period (what `within` gets) never hold a removed row: BM25 and the vectors
    # take them as they are.
    always = Period(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), "")
    flags = news.sentences_in(always)
    assert flags.any() and not flags[~news.archive.live_sentences].any()


def test_an_unchanged_source_appends_nothing(tmp_path: Path) -> None:
    rng = random.Random(3)
    articles = [story(rng, f"a{i}") for i in range(10)]
    build_from_articles(articles, tmp_path / "index", BM25_ONLY)
    report = build_from_articles(articles, tmp_path / "index", BM25_ONLY, full=False)
    assert (report.full, report.added, report.removed, report.segments) == (False, 0, 0, 1)
    news = NewsIndex.load(tmp_path / "index", semantic=False)
    assert news.archive.live_sentences is None and news.n_articles == 10


def test_the_merge_policy_keeps_segments_few() -> None:
    assert update.tail_to_merge([100]) == 1
    assert update.tail_to_merge([1000, 10]) == 1  # the big one stays alone
    assert update.tail_to_merge([1000, 30, 10]) == 2  # 30 < 4 x 10: merged
    assert update.tail_to_merge([1000, 250, 10, 10]) == 2  # 10 < 4 x 10; 250 >= 4 x 20
    sizes: list[int] = []
    for _ in range(500):  # 500 appends of 30 rows: O(log) segments, never more than the cap
        sizes.append(30)
        n = update.tail_to_merge(sizes)
        sizes[-n:] = [sum(sizes[-n:])]
        assert len(sizes) <= update.MAX_SEGMENTS
    assert sum(sizes) == 15_000


def test_the_report_reads_back_whole_from_its_json(tmp_path: Path) -> None:
    """The bot reads its build child's report from JSON: nothing may be lost on the way."""
    rng = random.Random(5)
    articles = [story(rng, f"a{i}") for i in range(6)]
    build_from_articles(articles[:4], tmp_path / "index", BM25_ONLY)
    report = build_from_articles(articles[2:], tmp_path / "index", BM25_ONLY, full=False)
    read_back = BuildReport.from_json(report.to_json())
    assert read_back == replace(report, seconds=round(report.seconds, 3))


def test_what_rows_cannot_mask_is_built_in_full(tmp_path: Path) -> None:
    """An article without a sentence, or an id given twice: the update builds in full."""
    rng = random.Random(9)
    articles = [story(rng, f"a{i}") for i in range(5)]
    empty = Article(id="empty", title="Nothing", text="")
    build_from_articles([*articles, empty], tmp_path / "index", BM25_ONLY)
    report = build_from_articles(articles, tmp_path / "index", BM25_ONLY, full=False)
    assert report.full and NewsIndex.load(tmp_path / "index", semantic=False).n_articles == 5
    twice = [*articles, articles[0]]
    report = build_from_articles(twice, tmp_path / "index", BM25_ONLY, full=False)
    assert report.full and NewsIndex.load(tmp_path / "index", semantic=False).n_articles == 6
