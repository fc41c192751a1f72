"""Questions about time: which period a question names, and which articles fall in it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.text.timeframe import DatedQuestion, Period, find_period, timezone_from_env

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 11 February 2026, 14:30 in Berlin.
NOW = datetime(2026, 2, 11, 14, 30, tzinfo=BERLIN)


def period_of(question: str, now: datetime = NOW) -> tuple[str, str, str, str] | None:
    """Return (start, end, text, rest) in the zone of `now`, as ISO strings, or None."""
    found = find_period(question, now)
    if found is None:
        return None
    p = found.period
    return (p.start.isoformat(), p.end.isoformat(), p.text, found.question)


CASES = [
    (
        "What happened yesterday in Berlin?",
        ("2026-02-10T00:00:00+01:00", "2026-02-11T00:00:00+01:00", "yesterday"),
        "What happened in Berlin?",
    ),
    ("news today", ("2026-02-11T00:00:00+01:00", "2026-02-12T00:00:00+01:00", "today"), "news"),
    (
        "What did the chancellor say this morning?",
        ("2026-02-11T00:00:00+01:00", "2026-02-11T12:00:00+01:00", "this morning"),
        "What did the chancellor say?",
    ),
    (
        "What happened last week?",
        ("2026-02-02T00:00:00+01:00", "2026-02-09T00:00:00+01:00", "last week"),
        "What happened?",
    ),
    (
        "Strikes this week in France",
        ("2026-02-09T00:00:00+01:00", "2026-02-16T00:00:00+01:00", "this week"),
        "Strikes in France",
    ),
    (
        "inflation last month",
        ("2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00", "last month"),
        "inflation",
    ),
    (
        "What happened in January?",
        ("2026-01-01T00:00:00+01:00", "2026-02-01T00:00:00+01:00", "in January"),
        "What happened?",
    ),
    (  # the most recent December not in the future is last year's
        "exports in December",
        ("2025-12-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00", "in December"),
        "exports",
    ),
    (
        "What has happened since Monday?",
        ("2026-02-09T00:00:00+01:00", "2026-02-12T00:00:00+01:00", "since Monday"),
        "What has happened?",
    ),
    (
        "How much was trade between China and Russia in 2025?",
        ("2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00", "in 2025"),
        "How much was trade between China and Russia?",
    ),
    (
        "What did Xi say on 6 February 2026?",
        ("2026-02-06T00:00:00+01:00", "2026-02-07T00:00:00+01:00", "on 6 February 2026"),
        "What did Xi say?",
    ),
    (
        "Xi's calls on February 6, 2026",
        ("2026-02-06T00:00:00+01:00", "2026-02-07T00:00:00+01:00", "on February 6, 2026"),
        "Xi's calls",
    ),
    (
        "floods between March and May 2025",
        ("2025-03-01T00:00:00+01:00", "2025-06-01T00:00:00+02:00", "between March and May 2025"),
        "floods",
    ),
    (
        "What happened 2 days ago?",
        ("2026-02-09T00:00:00+01:00", "2026-02-10T00:00:00+01:00", "2 days ago"),
        "What happened?",
    ),
    (
        "the day before yesterday",
        ("2026-02-09T00:00:00+01:00", "2026-02-10T00:00:00+01:00", "the day before yesterday"),
        "",
    ),
    (
        "fires last night",
        ("2026-02-10T18:00:00+01:00", "2026-02-11T06:00:00+01:00", "last night"),
        "fires",
    ),
    (
        "markets in the past 24 hours",
        ("2026-02-10T14:30:00+01:00", "2026-02-12T00:00:00+01:00", "in the past 24 hours"),
        "markets",
    ),
    (
        "What did Apple announce on Friday?",
        ("2026-02-06T00:00:00+01:00", "2026-02-07T00:00:00+01:00", "on Friday"),
        "What did Apple announce?",
    ),
    (
        "sepsis from 2009 to 2014",
        ("2009-01-01T00:00:00+01:00", "2015-01-01T00:00:00+01:00", "from 2009 to 2014"),
        "sepsis",
    ),
    (
        "events 2026-02-06",
        ("2026-02-06T00:00:00+01:00", "2026-02-07T00:00:00+01:00", "2026-02-06"),
        "events",
    ),
    (
        "Yesterday, what happened?",
        ("2026-02-10T00:00:00+01:00", "2026-02-11T00:00:00+01:00", "Yesterday"),
        "what happened?",
    ),
    (  # Theresa May's government, then the month
        "What did May's cabinet decide in May?",
        ("2025-05-01T00:00:00+02:00", "2025-06-01T00:00:00+02:00", "in May"),
        "What did May's cabinet decide?",
    ),
]


@pytest.mark.parametrize(("question", "period", "rest"), CASES, ids=[c[0] for c in CASES])
def test_period_of_a_question(question: str, period: tuple[str, str, str], rest: str) -> None:
    assert period_of(question) == (*period, rest)


NOT_TIME = [
    "How did the May government react?",
    "What did Sun Microsystems announce?",
    "second round of talks",
    "march in Paris",
    "Is the sun a star?",
    "How many people march each year",  # "each year" is not "this year"
    "tariffs of 25%",
    "What did USA Today report?",
    "Who won the 2022 World Cup final?",  # a year naming an event, not a period
    "profits fall in 1987/88",
    "What will happen in 2030?",  # the future: no article is from then
    "Which marchers met the mayor?",
    "What is the price of oil?",
    "",
]


@pytest.mark.parametrize("question", NOT_TIME)
def test_no_period_where_there_is_no_time(question: str) -> None:
    assert find_period(question, NOW) is None


def test_yesterday_depends_on_the_time_zone_around_midnight() -> None:
    now = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)  # 00:30 on the 11th in Berlin
    in_utc = find_period("news from yesterday", now, UTC)
    in_berlin = find_period("news from yesterday", now, BERLIN)
    assert in_utc is not None and in_berlin is not None
    assert in_utc.period.start.isoformat() == "2026-02-09T00:00:00+00:00"
    assert in_berlin.period.start.isoformat() == "2026-02-10T00:00:00+01:00"
    article = "2026-02-10T22:00:00+00:00"  # 23:00 in Berlin, still the 10th there
    assert not in_utc.period.contains(article)
    assert in_berlin.period.contains(article)


def test_a_day_across_the_spring_clock_change_is_23_hours() -> None:
    now = datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN)
    found = find_period("yesterday", now)
    assert found is not None
    # Subtracting datetimes of one zone counts wall-clock hours; in UTC, the real ones.
    start, end = found.period.start.astimezone(UTC), found.period.end.astimezone(UTC)
    assert end - start == timedelta(hours=23)


def test_in_january_asked_in_december_is_this_years() -> None:
    found = find_period("in January", datetime(2026, 12, 5, tzinfo=UTC))
    assert found is not None
    assert found.period.start.isoformat() == "2026-01-01T00:00:00+00:00"


def test_which_articles_a_period_holds() -> None:
    yesterday = Period(
        datetime(2026, 2, 10, tzinfo=BERLIN), datetime(2026, 2, 11, tzinfo=BERLIN), "yesterday"
    )
    assert yesterday.contains("2026-02-10")
    assert not yesterday.contains("2026-02-11")  # the end is not part of the period
    assert not yesterday.contains("2026-02-09")
    assert yesterday.contains("2026-02-10T23:59:59+01:00")
    assert not yesterday.contains("2026-02-11T00:00:00+01:00")
    assert yesterday.contains("2026-02-10T23:30:00+00:00") is False  # 00:30 on the 11th in Berlin
    assert yesterday.contains("2026-02-10T08:00:00")  # naive: taken in the period's zone


@pytest.mark.parametrize("undated", [None, "", "last Tuesday", "2026-13-45", "n.d."])
def test_an_undated_article_never_matches_a_dated_question(undated: str | None) -> None:
    everything = Period(
        datetime(1900, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), "since 1900"
    )
    assert not everything.contains(undated)


def test_a_date_only_article_matches_a_part_of_its_day() -> None:
    found = find_period("this morning", NOW)
    assert found is not None
    assert found.period.contains("2026-02-11")


def test_time_zone_from_the_environment() -> None:
    assert timezone_from_env({}) == UTC
    assert timezone_from_env({"NEWSBOT_TIMEZONE": " Europe/Berlin "}) == BERLIN
    with pytest.raises(ValueError, match="NEWSBOT_TIMEZONE: unknown time zone 'Mars/Olympus'"):
        timezone_from_env({"NEWSBOT_TIMEZONE": "Mars/Olympus"})


TIME_WORDS = [
    "yesterday", "today", "this", "last", "past", "week", "month", "year", "in", "on", "since",
    "between", "and", "from", "to", "ago", "2", "31", "2025", "1987/88", "May", "march", "Sun",
    "Monday", "February", "the", "day", "before", "morning", "night", "weekend", "hours", "a",
    "6th", "of", ",", "?", "2026-02-29", "0", "999", "years",
]  # fmt: skip
ZONES = [UTC, BERLIN, ZoneInfo("Asia/Kathmandu"), ZoneInfo("America/Santiago")]
ZONES += [ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Pacific/Apia")]


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(TIME_WORDS) | st.text(max_size=12), max_size=8),
    now=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
)
def test_any_text_gives_a_sound_period_or_none(
    words: list[str], now: datetime, zone: ZoneInfo
) -> None:
    question = " ".join(words)
    found = find_period(question, now, zone)
    if found is not None:
        assert isinstance(found, DatedQuestion)
        assert found.period.start < found.period.end
        assert found.period.start <= now
        assert found.period.text in question
        assert len(found.question) < len(question)
