"""The newest headlines, on a topic or on everything (the bot's /latest).

Without a topic: the newest articles of the index. With one: articles holding a sentence that
matches the topic as a question would be answered (BM25, at least `MIN_COVERAGE` of the topic's
ideal score, `index.answers.policy`), newest first. Newest means by the instant `Article.date`
names (`index.store.archive.newest_first_key`, read once a generation: mixed offsets sort by
time), undated articles last, as `/sources` lists them; articles of one date keep their best
sentence's rank.
A time in the topic ("/latest storms this week", "/latest yesterday") keeps only the articles
dated then, as a question's does (docs/live.md).
"""

from __future__ import annotations

from datetime import datetime

from index.answers.policy import MIN_COVERAGE
from index.answers.search import NewsIndex
from index.model import Article
from index.text.timeframe import find_period, timezone_from_env

LATEST_LIMIT = 10
# BM25 candidates read for a topic: the newest matching articles are among the best-scoring
# sentences only if enough of them are read.
TOPIC_CANDIDATES = 500


def latest(
    index: NewsIndex,
    topic: str = "",
    limit: int = LATEST_LIMIT,
    *,
    candidates: int = TOPIC_CANDIDATES,
    min_coverage: float = MIN_COVERAGE,
    now: datetime | None = None,
) -> list[Article]:
    """Return up to `limit` articles, newest first, matching `topic` when one is given.

    Args:
        index: The index to read.
        topic: Words to match; blank lists the newest articles of the whole index. A time in
            it ("storms this week", "yesterday") keeps only the articles dated then
            (`index.text.timeframe.find_period`, read at `now`).
        limit: Most articles returned.
        candidates: Best-scoring sentences read for a topic.
        min_coverage: Share of the topic's ideal score a sentence must reach to count.
        now: The current time; by default, now in `$NEWSBOT_TIMEZONE`.
    """
    dated = find_period(topic, now or datetime.now(timezone_from_env())) if topic else None
    period = dated.period if dated is not None else None
    topic = dated.question if dated is not None else topic
    if not topic.strip() or (period is not None and index.asks_for_headlines(topic)):
        flagged = index.articles_in(period) if period is not None else None
        newest = index.archive.newest_first
        kept = newest if flagged is None else [a for a in newest if flagged[a]]
        return [index.article(row) for row in kept[:limit]]
    question = index.analyze(topic)
    if not question.known:
        return []
    floor = min_coverage * index.ideal_score(question)
    within = index.sentences_in(period) if period is not None else None
    rows: dict[int, None] = {}  # article rows in rank order, each once
    for hit in index.search(question, candidates, within):
        if hit.score < floor:
            break  # hits come best first
        rows.setdefault(index.article_of(hit.sentence))
    keys = index.archive.date_keys
    newest = sorted(rows, key=lambda row: float(keys[row]), reverse=True)  # stable: rank on ties
    return [index.article(row) for row in newest[:limit]]
