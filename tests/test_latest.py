"""/latest's index side: the newest articles, or the newest matching a topic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index.answers.latest import latest
from index.answers.search import NewsIndex
from index.model import Article
from index.store.build import build_index

STORIES = {
    "old-budget.md": ("2026-01-05", "Council passes the budget", "The council passed the budget."),
    "new-budget.md": ("2026-02-10", "Budget row deepens", "The council budget row deepened."),
    "bridge.md": ("2026-02-11", "Bridge reopens", "The river bridge reopened to traffic."),
    "mid-budget.md": ("2026-01-20", "Budget vote delayed", "The budget vote was delayed again."),
    "undated.md": (None, "Budget explainer", "What the budget means for you."),
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    root = tmp_path_factory.mktemp("latest")
    news = root / "news"
    news.mkdir()
    for name, (date, title, text) in STORIES.items():
        front = f"title: {title}\n" + (f"date: {date}\n" if date else "")
        (news / name).write_text(f"---\n{front}---\n{text}\n")
    build_index([news], root / "index")
    return NewsIndex.load(root / "index", semantic=False)


def titles(articles: list[Article]) -> list[str]:
    return [a.title for a in articles]


def test_no_topic_lists_the_newest_articles_undated_last(index: NewsIndex) -> None:
    assert titles(latest(index)) == [
        "Bridge reopens",
        "Budget row deepens",
        "Budget vote delayed",
        "Council passes the budget",
        "Budget explainer",
    ]
    assert titles(latest(index, "  ", limit=2)) == ["Bridge reopens", "Budget row deepens"]


def test_a_topic_lists_matching_articles_newest_first(index: NewsIndex) -> None:
    assert titles(latest(index, "budget")) == [
        "Budget row deepens",
        "Budget vote delayed",
        "Council passes the budget",
        "Budget explainer",
    ]
    assert titles(latest(index, "budget", limit=1)) == ["Budget row deepens"]
    assert titles(latest(index, "bridge traffic")) == ["Bridge reopens"]


def test_a_topic_must_be_matched_like_a_question(index: NewsIndex) -> None:
    # "council" is in two stories, "zebra" in none: half the topic's weight is not reached.
    assert titles(latest(index, "zebra council")) == []
    assert titles(latest(index, "zebra")) == []


def test_a_time_in_the_topic_keeps_the_articles_dated_then(index: NewsIndex) -> None:
    now = datetime(2026, 2, 11, 15, 0, tzinfo=UTC)
    assert titles(latest(index, "budget this month", now=now)) == ["Budget row deepens"]
    assert titles(latest(index, "budget in January", now=now)) == [
        "Budget vote delayed",
        "Council passes the budget",
    ]
    assert titles(latest(index, "yesterday", now=now)) == ["Budget row deepens"]
    assert titles(latest(index, "what happened this week", now=now)) == [
        "Bridge reopens",
        "Budget row deepens",
    ]
    assert titles(latest(index, "budget last year", now=now)) == []  # undated never matches
