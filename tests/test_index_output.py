"""Issue #20: what a newcomer reads: skips counted by reason, notes, dates and record sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

COCOA = {
    "id": "reuters-7",
    "title": "Bahia cocoa review",
    "text": "Showers continued throughout the week in the Bahia cocoa zone, easing the drought.",
    "date": "1987-03-06T14:44:08",
}


@pytest.fixture
def lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build and answer by BM25 alone: these tests are about the words printed."""
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")


def write_news(folder: Path) -> Path:
    """Write a JSON Lines file of one story, three records without text or title, one broken."""
    folder.mkdir()
    records = [json.dumps(COCOA), *[json.dumps({"id": f"b{n}"}) for n in range(3)], "{oops"]
    (folder / "wire.jsonl").write_text("\n".join(records) + "\n")
    others = [
        {"title": "Port strike ends", "text": "Dock workers ended a strike after a pay deal."},
        {"title": "Rates unchanged", "text": "The central bank kept its rates at 4.5 percent."},
        {"title": "Council budget", "text": "The city council approved the budget on Tuesday."},
        {"title": "Rail fares", "text": "Train fares will rise by three percent next year."},
    ]
    (folder / "other.json").write_text(json.dumps(others))
    (folder / "cafe.txt").write_bytes(
        "Café reopens\nThe café reopened on Monday.\n".encode("latin-1")
    )
    return folder / "wire.jsonl"


def test_skips_are_counted_by_reason_and_named_with_verbose(
    tmp_path: Path, lexical: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: one "skipped ..." line per item (239 of them for title-only wire briefs).
    wire = write_news(tmp_path / "news")
    assert main(["index", "--index-dir", str(tmp_path / "index"), str(tmp_path / "news")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "3 skipped: no article text",
        "1 skipped: invalid JSON",
        f"note: {tmp_path / 'news' / 'cafe.txt'} is not UTF-8: read as cp1252 (detected)",
    ]
    assert main(["index", "--full", "--verbose", "--index-dir", str(tmp_path / "index")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:5] == [
        "3 skipped: no article text",
        f"  {wire}:2: no article text (text, body or content)",
        f"  {wire}:3: no article text (text, body or content)",
        f"  {wire}:4: no article text (text, body or content)",
        "1 skipped: invalid JSON",
    ]
    assert err[5].startswith(f"  {wire}:5: invalid JSON (")


def test_the_terminal_shows_a_day_and_a_record_by_its_id(
    tmp_path: Path, lexical: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: "1987-03-06T14:44:08" and the bare path of a file of many records.
    wire = write_news(tmp_path / "news")
    index = ["--index-dir", str(tmp_path / "index")]
    assert main(["index", *index, str(tmp_path / "news")]) == 0
    capsys.readouterr()
    assert main(["ask", *index, "showers in the Bahia cocoa zone"]) == 0
    out = capsys.readouterr().out
    assert f"— Bahia cocoa review · 6 Mar 1987 · reuters-7 in {wire}" in out
    assert "1987-03-06T" not in out
    # --json is the public contract: the date and path as stored.
    assert main(["ask", "--json", *index, "showers in the Bahia cocoa zone"]) == 0
    article = json.loads(capsys.readouterr().out)["answers"][0]["article"]
    assert (article["id"], article["date"], article["path"]) == (
        "reuters-7",
        "1987-03-06T14:44:08",
        str(wire),
    )
