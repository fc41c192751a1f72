"""Issue #20's newcomer formats: legacy encodings detected, CSV with a header, title-only items."""

from __future__ import annotations

import json
from pathlib import Path

from index.sources.ingest import read_sources


def test_a_latin1_text_file_is_read_in_the_detected_encoding_with_a_note(tmp_path: Path) -> None:
    # Regression: skipped as "not valid UTF-8 text".
    path = tmp_path / "cafe.txt"
    path.write_bytes(
        "Café reopens\nThe café in München reopened, naïve as ever.\n".encode("latin-1")
    )
    result = read_sources([path])
    assert [(a.title, a.text) for a in result.articles] == [
        ("Café reopens", "The café in München reopened, naïve as ever.")
    ]
    assert result.skipped == []
    assert result.notes == [f"{path} is not UTF-8: read as cp1252 (detected)"]


def test_cp1252_markdown_and_html_without_a_charset_are_read(tmp_path: Path) -> None:
    (tmp_path / "quote.md").write_bytes(
        "# “Prices rise”\n\nThe bank’s chief said rates stay – for now.\n".encode("cp1252")
    )
    (tmp_path / "page.html").write_bytes(
        "<html><body><article><h1>Déjà vu</h1><p>The minister’s second résumé of the year "
        "came out on Monday, to the surprise of nobody in the chamber.</p></article></body>"
        "</html>".encode("cp1252")
    )
    result = read_sources([tmp_path])
    assert sorted(a.title for a in result.articles) == ["Déjà vu", "“Prices rise”"]
    assert any("The minister’s second résumé" in a.text for a in result.articles)
    assert len(result.notes) == 2 and result.skipped == []


def test_a_cyrillic_windows_1251_file_is_read_as_such(tmp_path: Path) -> None:
    path = tmp_path / "novosti.txt"
    path.write_bytes(
        "Новости дня\nПравительство утвердило бюджет на следующий год.\n".encode("cp1251")
    )
    result = read_sources([path])
    assert [a.title for a in result.articles] == ["Новости дня"]
    assert result.notes == [f"{path} is not UTF-8: read as cp1251 (detected)"]


def test_a_csv_with_a_header_is_read_one_article_a_row(tmp_path: Path) -> None:
    path = tmp_path / "wire.csv"
    path.write_text(
        "Headline,Body,Published,Link,Source,ID\n"
        '"Council backs budget","The council voted 7-2, ""a good day"" said the mayor.\n'
        'Second paragraph.",2026-01-05,https://x.example/a,City Wire,c1\n'
        "Wire brief without a body,,6 Mar 1987,,,c2\n"
        "too,few\n"
        ",,,,,\n"
        "Third story,Text three.,,,,c3\n"
    )
    result = read_sources([path])
    assert [(a.id, a.title, a.text, a.date, a.url, a.source) for a in result.articles] == [
        (
            "c1",
            "Council backs budget",
            'The council voted 7-2, "a good day" said the mayor.\nSecond paragraph.',
            "2026-01-05",
            "https://x.example/a",
            "City Wire",
        ),
        ("c2", "Wire brief without a body", "Wire brief without a body", "1987-03-06", None, None),
        ("c3", "Third story", "Text three.", None, None, None),
    ]
    assert [(s.line, s.reason) for s in result.skipped] == [(5, "row has 2 fields, the header 6")]


def test_a_semicolon_csv_and_a_long_body_are_read(tmp_path: Path) -> None:
    body = "A long story. " * 20_000  # 280,000 characters: over the csv module's default limit
    path = tmp_path / "long.csv"
    path.write_text(f'title;text\nLong;"{body}"\n')
    (article,) = read_sources([path]).articles
    assert article.text == body.strip()


def test_a_csv_without_a_usable_header_is_skipped_with_the_reason(tmp_path: Path) -> None:
    # Regression: a .csv was ignored without a word.
    from index.sources.formats.tables import NO_HEADER

    path = tmp_path / "numbers.csv"
    path.write_text("a,b,c\n1,2,3\n")
    result = read_sources([tmp_path])
    assert result.articles == []
    assert [(s.where, s.line, s.reason) for s in result.skipped] == [(str(path), None, NO_HEADER)]


def test_a_title_only_jsonl_record_is_indexed_by_its_title(tmp_path: Path) -> None:
    # Regression: skipped as "no article text (text, body or content)".
    path = tmp_path / "briefs.jsonl"
    lines = [{"id": "r1", "title": "OPEC ministers meet in Vienna"}, {"id": "r2", "body": None}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = read_sources([path])
    assert [(a.id, a.title, a.text) for a in result.articles] == [
        ("r1", "OPEC ministers meet in Vienna", "OPEC ministers meet in Vienna")
    ]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (2, "no article text (text, body or content)")
    ]


def test_a_csv_header_without_rows_is_said(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("title,text\n\n")
    result = read_sources([path])
    assert result.articles == []
    assert [(s.line, s.reason) for s in result.skipped] == [(None, "no rows under the CSV header")]
