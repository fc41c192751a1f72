"""Dates are dates (issue 18): no unparseable or far-future date pins an article to the top.

An unparseable date ("Tue, 31 Feb 2026", "Breaking") makes an article undated; a date more than a
day after the read (2099) is the read time; lists sort by the instant a date names, so mixed
offsets sort by time. Each of these failed on the code before: dates were sorted as text.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.answers.latest import latest
from index.answers.search import NewsIndex
from index.sources.formats.dates import clamp_date, utc_seconds
from index.sources.ingest import read_sources
from index.store.build import build_index

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Dates News</title>
{items}
</channel></rss>
"""
ITEM = (
    "<item><title>{title}</title><link>https://news.example/{n}</link><guid>dates-{n}</guid>"
    "<pubDate>{date}</pubDate><description>{text}</description></item>"
)
# (title, pubDate, words of the story); the instants in UTC are in the comments.
STORIES = [
    ("Impossible day", "Tue, 31 Feb 2026 10:00:00 GMT", "The harbour crane was repaired."),
    ("Shouted headline", "Breaking", "The harbour ferry was delayed by fog."),
    ("From the future", "Thu, 01 Jan 2099 00:00:00 GMT", "The harbour tunnel plan was filed."),
    ("Eastern morning", "Fri, 06 Feb 2026 10:00:00 +0500", "The harbour fish market opened."),
    ("Western dawn", "Fri, 06 Feb 2026 06:00:00 +0000", "The harbour lighthouse was lit."),
    ("Older story", "Thu, 05 Feb 2026 23:00:00 -0300", "The harbour pier was painted."),
]
# 05:00 UTC < 06:00 UTC; 5 Feb 23:00 -03:00 is 6 Feb 02:00 UTC: as text it would be first.


def write_feed(folder: Path) -> Path:
    items = "\n".join(
        ITEM.format(n=n, title=title, date=date, text=text)
        for n, (title, date, text) in enumerate(STORIES)
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dates.xml"
    path.write_text(FEED.format(items=items), encoding="utf-8")
    return path


def test_unreadable_dates_are_none_and_future_ones_the_read_time(tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    articles = {a.title: a for a in read_sources([write_feed(tmp_path / "news")]).articles}
    after = datetime.now(UTC)
    assert articles["Impossible day"].date is None
    assert articles["Shouted headline"].date is None
    clamped = articles["From the future"].date
    assert clamped is not None and before <= datetime.fromisoformat(clamped) <= after
    # The date field keeps its ISO form, with the source's own offset.
    assert articles["Eastern morning"].date == "2026-02-06T10:00:00+05:00"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    root = tmp_path_factory.mktemp("dates")
    write_feed(root / "news")
    build_index([root / "news"], root / "index")
    return NewsIndex.load(root / "index", semantic=False)


NEWEST_FIRST = [
    "From the future",  # dated when it was read: today
    "Western dawn",  # 6 Feb 06:00 UTC
    "Eastern morning",  # 6 Feb 05:00 UTC
    "Older story",  # 6 Feb 02:00 UTC
    "Impossible day",  # undated, last, in the feed's order
    "Shouted headline",
]


def test_newest_first_is_by_the_instant_undated_last(index: NewsIndex) -> None:
    assert [a.title for a in index.articles_newest_first(0, 10)] == NEWEST_FIRST
    assert [a.title for a in latest(index)] == NEWEST_FIRST


def test_a_topic_lists_its_articles_by_the_instant_too(index: NewsIndex) -> None:
    assert [a.title for a in latest(index, "harbour")] == NEWEST_FIRST


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2026-02-06", datetime(2026, 2, 6, tzinfo=UTC).timestamp()),
        ("2026-02-06T10:00:00+05:00", datetime(2026, 2, 6, 5, tzinfo=UTC).timestamp()),
        ("2026-02-06T10:00:00", datetime(2026, 2, 6, 10, tzinfo=UTC).timestamp()),  # naive: UTC
        (None, -math.inf),
        ("Breaking", -math.inf),  # stored by an index built before dates were checked
    ],
)
def test_the_sort_key_is_the_instant_in_utc(value: str | None, seconds: float) -> None:
    assert utc_seconds(value) == seconds


def test_only_dates_past_a_day_ahead_are_clamped() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    tomorrow = (now + timedelta(hours=20)).isoformat()
    assert clamp_date(tomorrow, now) == tomorrow  # time zones ahead of UTC, small clock errors
    assert clamp_date("2026-12-08", now) == "2026-12-08"
    assert clamp_date("2026-12-09", now) == "2026-12-07T12:00:00+00:00"
    assert clamp_date("2099-01-01T00:00:00+00:00", now) == "2026-12-07T12:00:00+00:00"
    assert clamp_date(None, now) is None
