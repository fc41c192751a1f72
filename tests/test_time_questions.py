"""Questions about time, answered: periods restrict answers, scores stay the whole index's.

`tests/test_timeframe.py` checks which period a question names; here `NewsIndex.ask` and
`NewsIndex.search` answer from the articles of that period (rank_bm25 over every sentence as
the oracle), calendar dates fall back to the whole index, a question naming only a time gets
that time's headlines, and tied answers come newest first.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError
from index.answers.check import best_positive, oracle
from index.answers.fusion import Candidate, newer_first_on_ties
from index.answers.search import NewsIndex
from index.semantic.vectors import EXHAUSTIVE_ROWS, SentenceVectors
from index.store.archive import newest_first_key
from index.store.build import build_index
from index.store.build_settings import BuildSettings
from index.text.timeframe import Period, find_period, period_between
from tests.fake_telegram import FakeTelegram, Message
from tests.harness import USER, bot_settings, running_bot

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
NO_VECTORS = BuildSettings(semantic=False)
EVERYTHING = Period(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), "")

STORIES = [
    (
        "storm-sun",
        "2026-11-29",
        "Storm hits the coast",
        "A storm hit the northern coast. Power failed.",
    ),
    ("storm-fri", "2026-11-27", "Storm warning", "Forecasters warned of a storm on the coast."),
    (
        "budget",
        "2026-11-30T08:00:00+00:00",
        "Budget passed",
        "Parliament passed the budget this morning.",
    ),
    ("trade-old", "2026-01-15", "Trade figures", "Trade between the two countries grew in 2025."),
    ("trade-2025", "2025-06-02", "Mid-year trade", "Trade between the two countries slowed."),
    ("trade-2024", "2026-02-01", "Trade report", "Their trade grew by a tenth in 2024."),
    ("undated", None, "Storm explainer", "Why a storm hits the coast in winter."),
    (
        "wire-a",
        "2026-11-20",
        "Dam opens",
        "The new dam on the river opened to visitors. Crowds came.",
    ),
    (
        "wire-b",
        "2026-11-25",
        "Dam opens (update)",
        "The new dam on the river opened to visitors. It rained.",
    ),
]


def write_stories(folder: Path, stories: list[tuple[str, str | None, str, str]]) -> Path:
    folder.mkdir(parents=True)
    lines = [
        json.dumps({"id": sid, "title": title, "text": text, **({"date": day} if day else {})})
        for sid, day, title, text in stories
    ]
    path = folder / "news.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    root = tmp_path_factory.mktemp("time")
    build_index([write_stories(root / "src", STORIES)], root / "index", NO_VECTORS)
    return NewsIndex.load(root / "index", semantic=False)


def titles(found: object) -> list[str]:
    return [a.article.title for a in found.answers]  # type: ignore[attr-defined]


def test_yesterday_answers_only_from_yesterdays_articles(news: NewsIndex) -> None:
    found = news.ask("Which storm hit the coast yesterday?", now=NOW)
    assert titles(found) == ["Storm hits the coast"]
    assert found.period is not None and found.period.text == "yesterday"
    # Without the time, the undated copy and Friday's warning answer too.
    everything = titles(news.ask("Which storm hit the coast?", k=10, now=NOW))
    assert {"Storm explainer", "Storm warning"} <= set(everything)


def test_a_period_with_no_answer_says_so_beside_answers_from_other_dates(
    news: NewsIndex,
) -> None:
    found = news.ask("budget this morning", now=NOW - timedelta(days=1))
    assert found.elsewhere and found.period is not None and found.period.strict
    assert titles(found) == ["Budget passed"]  # of 30 Nov, asked on the 29th
    nothing = news.ask("volcano this morning", now=NOW)
    assert nothing.answers == () and nothing.period is not None and nothing.elsewhere


def test_explicit_bounds_never_answer_from_other_dates(news: NewsIndex) -> None:
    period = period_between("2026-11-01", "2026-11-02", NOW)
    found = news.ask("budget", period=period)
    assert found.answers == () and found.period == period and not found.elsewhere


def test_an_undated_article_never_answers_a_dated_question(news: NewsIndex) -> None:
    for question in ("storm in the past year", "storm since 2020", "storm in the past week"):
        found = news.ask(question, k=10, now=NOW)
        assert "Storm explainer" not in titles(found), question


def test_a_calendar_date_prefers_its_period_then_falls_back(news: NewsIndex) -> None:
    found = news.ask("How did trade between the two countries change in 2025?", now=NOW)
    assert titles(found)[0] == "Mid-year trade"  # the 2025 article, though the 2026 one says 2025
    assert found.period is not None and not found.period.strict
    # No 2024 article answers: the question is answered as if it named no time.
    fallback = news.ask("By how much their trade grew in 2024?", now=NOW)
    unrestricted = news.ask("By how much their trade grew in 2024?", period=EVERYTHING)
    assert fallback.period is None and titles(fallback) == titles(unrestricted)
    assert titles(fallback)[0] == "Trade report"


def test_a_question_naming_only_a_time_gets_its_headlines_newest_first(news: NewsIndex) -> None:
    found = news.ask("What happened in the past week?", now=NOW)
    assert found.headlines
    assert titles(found) == ["Budget passed", "Storm hits the coast", "Storm warning"]
    assert found.answers[0].passage == "Parliament passed the budget this morning."
    later = news.ask("What happened in the past week?", k=2, offset=2, now=NOW)
    assert titles(later) == ["Storm warning", "Dam opens (update)"]


def test_of_tied_answers_the_newest_is_shown(news: NewsIndex) -> None:
    # The same wire sentence in two articles: equal scores, the older one at the lower row (which
    # would win the tie), and only one copy is shown (passages drop near-duplicates).
    found = news.ask("new dam on the river", now=NOW)
    assert titles(found)[0] == "Dam opens (update)"
    assert "Dam opens" not in titles(found)


def test_explicit_bounds_restrict_like_a_question(news: NewsIndex) -> None:
    period = period_between("2026-11-26", "2026-11-28", NOW)
    found = news.ask("storm coast", k=10, period=period)
    assert titles(found) == ["Storm warning"]
    assert found.period == period


def test_filtered_scores_are_the_whole_indexs(news: NewsIndex) -> None:
    whole = {a.sentence: a.score for a in news.ask("storm coast", k=10, now=NOW).answers}
    period = news.ask("storm coast in the past week", k=10, now=NOW)
    assert period.answers
    for answer in period.answers:
        assert answer.score == whole[answer.sentence]


# -- search within a period against rank_bm25 --------------------------------------------------

WORDS = [f"w{i}" for i in range(60)]


@pytest.fixture(scope="module")
def random_news(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    rng = random.Random(7)
    stories = []
    for i in range(300):
        day = None if i % 10 == 0 else f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        sentences = [
            " ".join(rng.choices(WORDS[: rng.randint(5, 60)], k=rng.randint(3, 12))) + "."
            for _ in range(rng.randint(1, 5))
        ]
        stories.append((f"s{i}", day, f"Story {i}", " ".join(s.capitalize() for s in sentences)))
    root = tmp_path_factory.mktemp("random-time")
    build_index([write_stories(root / "src", stories)], root / "index", NO_VECTORS)
    return NewsIndex.load(root / "index", semantic=False)


@pytest.mark.parametrize("seed", range(12))
def test_search_within_a_period_is_rank_bm25_over_all_sentences_masked(
    random_news: NewsIndex, seed: int
) -> None:
    rng = random.Random(seed)
    okapi = oracle(random_news)
    start = datetime(2026, rng.randint(1, 11), rng.randint(1, 28), tzinfo=UTC)
    period = Period(start, start + timedelta(days=rng.randint(1, 90)), "test")
    within = random_news.archive.sentences_of(random_news.articles_in(period))
    for _ in range(5):
        question = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
        scores = okapi.get_scores(random_news.analyzer.terms(question))
        expected = best_positive(np.where(within, scores, 0.0), 10)
        hits = random_news.search(question, 10, within)
        assert tuple(h.sentence for h in hits) == expected.rows
        assert tuple(h.score for h in hits) == pytest.approx(expected.scores, rel=1e-12)
        for hit in hits:
            assert period.contains(random_news.article(random_news.article_of(hit.sentence)).date)


# -- the pieces -----------------------------------------------------------------------------------


def test_words_naming_the_news_time_are_strict_calendar_dates_soft() -> None:
    strict = ["yesterday", "this morning", "last week", "in the past 3 days", "since Monday"]
    soft = ["in 2025", "in January", "on 6 February 2026", "since 2020", "between March and May"]
    for words in strict + soft:
        dated = find_period(f"storm {words}", NOW)
        assert dated is not None, words
        assert dated.period.strict == (words in strict), words
        assert dated.question == "storm", words


def test_explicit_bounds() -> None:
    period = period_between("2026-02-01", "2026-02-06", NOW)
    assert (period.start, period.end) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 2, 7, tzinfo=UTC),
    )
    assert period.label() == "from 2026-02-01 to 2026-02-06 (1 Feb 2026 - 6 Feb 2026)"
    since = period_between("yesterday", None, NOW)
    assert since.start == datetime(2026, 11, 29, tzinfo=UTC)
    assert since.to_json()["end"] is None
    assert period_between(None, "3 days ago", NOW).to_json()["start"] is None
    with pytest.raises(ValueError, match="--since: not a date"):
        period_between("soon-ish", None, NOW)
    with pytest.raises(ValueError, match="is not before"):
        period_between("2026-02-06", "2026-02-01", NOW)


def test_ties_within_a_hair_go_newest_first_and_nothing_else_moves() -> None:
    dates = {1: "2026-01-01", 2: "2026-03-01", 3: None, 4: "2026-02-01", 5: "2026-05-01"}

    def newness(row: int) -> float:
        return newest_first_key(dates[row])

    ranked = [
        Candidate(1, 10.0, 0.5),
        Candidate(2, 10.005, 0.502),  # within 0.1% and 0.005 of the first: a tie
        Candidate(3, 10.0, 0.5),  # tied but undated: last of the run
        Candidate(4, 9.0, 0.5),  # lower: stays after the run
        Candidate(5, 9.0, 0.6),  # same BM25, another cosine: no tie, though newer
    ]
    assert [c.row for c in newer_first_on_ties(ranked, newness)] == [2, 1, 3, 4, 5]


def test_vectors_within_rank_only_flagged_rows_with_exact_cosines() -> None:
    rng = np.random.default_rng(3)
    n = EXHAUSTIVE_ROWS + 5_000  # enough flagged rows (and rows) to take the sign-bit path
    vectors = rng.standard_normal((n + 10_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = SentenceVectors.from_vectors(vectors)
    within = np.zeros(len(vectors), dtype=bool)
    within[rng.choice(len(vectors), n, replace=False)] = True
    target = int(np.flatnonzero(within)[1234])
    outside = int(np.flatnonzero(~within)[0])
    for query, small in ((vectors[target], False), (vectors[outside], True)):
        flags = within.copy()
        if small:  # a few flagged rows: every one is scored
            flags[:] = False
            flags[[target, outside + 1, outside + 2]] = True
        rows, cosines = index.top_k(query, 3, within=flags)
        assert flags[rows].all()
        assert cosines == pytest.approx(index.similarities(query, rows), abs=1e-6)
    best, _ = index.top_k(vectors[target], 1, within=within)
    assert best.tolist() == [target]


# -- through the bot --------------------------------------------------------------------------


FILLER = [
    "The council approved a new library.",
    "Farmers expect a good harvest this year.",
    "The museum opened an exhibition of maps.",
    "Rail workers agreed a pay deal.",
]


async def ask(telegram: FakeTelegram, chat: int, text: str) -> Message:
    await telegram.send_text(chat, text)
    return await telegram.next_message(chat, timeout=10)


async def test_the_bot_answers_questions_about_time_in_its_zone(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    zone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: "yesterday" there is rarely UTC's
    today = datetime.now(zone).date()
    stories = [
        ("fresh", str(today - timedelta(days=1)), "Storm hits the coast", "A storm hit the coast."),
        (
            "older",
            str(today - timedelta(days=9)),
            "Storm season",
            "Storms hit the coast at morning.",
        ),
        *[(f"other-{i}", None, f"Other {i}", text) for i, text in enumerate(FILLER)],
    ]
    source = write_stories(tmp_path / "src", stories)
    await asyncio.to_thread(build_index, [source], tmp_path / "index", NO_VECTORS)
    settings = replace(bot_settings(telegram, tmp_path / "index", [source]), timezone=zone)
    async with running_bot(telegram, settings):
        reply = await ask(telegram, USER, "Which storm hit the coast yesterday?")
        lines = (reply.text or "").splitlines()
        assert lines[1].startswith("Only articles dated yesterday (")
        assert "Storm hits the coast" in (reply.text or "")
        assert "Storm season" not in (reply.text or "")
        headlines = (await ask(telegram, USER, "What happened yesterday?")).text or ""
        assert headlines.splitlines()[1].startswith("The newest articles dated yesterday (")
        assert "Storm hits the coast" in headlines
        elsewhere = (await ask(telegram, USER, "Which storm hit the coast this morning?")).text
        assert (elsewhere or "").splitlines()[1].startswith("Nothing dated this morning (")
        nothing = (await ask(telegram, USER, "volcano this morning")).text or ""
        assert nothing.startswith("I couldn't find that in the news dated this morning (")


def test_a_bad_time_zone_is_a_settings_error() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "NEWSBOT_TIMEZONE": "Mars/Olympus"}
    with pytest.raises(SettingsError, match="NEWSBOT_TIMEZONE: unknown time zone 'Mars/Olympus'"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "NEWSBOT_TIMEZONE": "Europe/Berlin"}).timezone == ZoneInfo(
        "Europe/Berlin"
    )


# -- the command line -------------------------------------------------------------------------


def test_ask_since_until_and_the_period_in_json(
    news: NewsIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(news.folder.parent)
    asked = ["ask", "storm coast", "--json", "-k", "5", "--index-dir", folder]
    assert main([*asked, "--since", "2026-11-26", "--until", "2026-11-28"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [a["article"]["title"] for a in payload["answers"]] == ["Storm warning"]
    assert payload["period"] == {
        "start": "2026-11-26T00:00:00+00:00",
        "end": "2026-11-29T00:00:00+00:00",
        "text": "from 2026-11-26 to 2026-11-28",
        "strict": True,
    }
    assert main(asked) == 0
    assert json.loads(capsys.readouterr().out)["period"] is None
    assert main(["ask", "storm", "--since", "2026-11-26", "--index-dir", folder]) == 0
    assert capsys.readouterr().out.startswith(
        "(Only articles dated from 2026-11-26 (26 Nov 2026 on).)"
    )


def test_ask_with_a_bad_date_or_zone_is_one_line_and_status_2(
    news: NewsIndex, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(news.folder.parent)
    assert main(["ask", "storm", "--since", "whenever", "--index-dir", folder]) == 2
    assert capsys.readouterr().err == "newsbot: error: --since: not a date: 'whenever'\n"
    monkeypatch.setenv("NEWSBOT_TIMEZONE", "Mars/Olympus")
    assert main(["ask", "storm", "--index-dir", folder]) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
