"""Copies of one story (`index.follow.stories`): shingles, MinHash, numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from index.follow.stories import jaccard, numbers, numbers_agree, same_story, signature

WIRE = (
    "Zanzibar ferry operators went on strike over the rising price of fuel. Passengers waited "
    "at the port of Stone Town for hours while the union asked the ministry for talks. The "
    "operators said the fuel price had doubled since January, to 3,200 shillings a litre."
)


def story(text: str) -> tuple[object, frozenset[str]]:
    return signature(text), numbers(text)


def test_a_copy_with_a_new_title_lead_and_paragraphs_is_the_same_story() -> None:
    copy = (
        "Ferries stop in Zanzibar\nFerry crews in Zanzibar walked out on Monday. "
        + WIRE
        + "\nTourism officials said 40 hotels had cancellations. It is the first strike since 2019."
    )
    assert jaccard(WIRE, copy) > 0.5
    assert same_story(signature(WIRE), numbers(WIRE), signature(copy), numbers(copy))


def test_templated_stories_that_differ_by_their_numbers_are_not_one() -> None:
    def town(n: int) -> str:
        return (
            f"Springfield council story {n}\nThe Springfield council decided on measure {n} "
            f"after a long debate. Residents of district {n} welcomed the decision. The mayor "
            f"said the vote on item {n} was close."
        )

    assert jaccard(town(1), town(2)) >= 0.3  # the words alone would group them
    assert not same_story(
        signature(town(1)), numbers(town(1)), signature(town(2)), numbers(town(2))
    )


def test_numbers_agree_by_the_share_of_the_fewer() -> None:
    assert numbers("3,200 shillings in 2019.") == frozenset({"3,200", "2019"})
    assert numbers_agree(frozenset({"3,200"}), frozenset({"3,200", "40", "2019"}))
    assert not numbers_agree(frozenset({"1"}), frozenset({"2"}))
    assert numbers_agree(frozenset(), frozenset({"2"}))


def test_ask_json_lists_the_copies_of_each_answers_story(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    news = tmp_path / "news"
    news.mkdir()
    copies = {
        "wire.md": ("Ferry strike in Zanzibar", "Wire", WIRE),
        "daily.md": ("Zanzibar ferries stop", "Daily", "Ferry crews walked out on Monday. " + WIRE),
        "council.md": ("Council passes the budget", "Town", "The council passed the budget."),
    }
    for name, (title, source, text) in copies.items():
        (news / name).write_text(f"---\ntitle: {title}\nsource: {source}\n---\n{text}\n")
    index_dir = tmp_path / "index"
    assert main(["index", str(news), "--index-dir", str(index_dir)]) == 0
    capsys.readouterr()
    question = "Why did the Zanzibar ferry operators strike?"
    assert main(["ask", "--index-dir", str(index_dir), "--json", "-k", "1", question]) == 0
    (answer,) = json.loads(capsys.readouterr().out)["answers"]
    (also,) = answer["also"]
    assert {answer["article"]["source"], also["source"]} == {"Wire", "Daily"}
    assert set(also) == {"title", "source", "url", "date"}
