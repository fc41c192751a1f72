"""Sentences that say nothing of their own (index.text.boilerplate): found by shape, never
answers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.answers.search import NewsIndex
from index.model import Article
from index.sources.ingest import read_sources
from index.store import layout
from index.store.build import build_from_articles
from index.store.generations import current_generation
from index.text import boilerplate
from index.text.analysis import Analyzer, AnalyzerSettings
from index.text.boilerplate import (
    ASIDE,
    BORROWED,
    FRAGMENT,
    REPEAT_ARTICLES,
    REPEATED,
    TABLE,
    article_flags,
    is_boilerplate,
    shape_flags,
)
from index.text.sentences import split_sentences
from tests.conftest import SEEDS

ANALYZER = Analyzer(AnalyzerSettings())
TITLE = "COFFEE PRICES FALL AFTER BRAZIL FROST"
# Distinct words: numbers are equal for `line_key` ("Story 1" and "Story 2" are one line).
NAMES = [f"Port {a}{b}" for a in "ABCDE" for b in "fghij"]


@pytest.mark.parametrize(
    ("sentence", "flag"),
    [
        ("Reuter", FRAGMENT),
        ("REUTER", FRAGMENT),
        ("Reuter...", FRAGMENT),
        ("12 mths", FRAGMENT),
        ("Year", FRAGMENT),
        ("Ltd>.", FRAGMENT),
        ("Read more", FRAGMENT),
        ("NEW YORK, March 3 -", FRAGMENT),
        ("By Jane Doe", FRAGMENT),
        ("Photo: John Smith/Reuters", FRAGMENT),
        ("Shr 12 cts vs 10 cts", TABLE),
        ("Net loss 1,247,000 vs profit 454,000", TABLE),
        ("Qtly div 12 cts vs 12 cts prior", TABLE),
        ("(Reporting by Jane Doe; Editing by John Roe)", ASIDE),
        ("[Photo credit: Jane Doe]", ASIDE),
    ],
)
def test_wire_boilerplate_is_found_by_its_shape(sentence: str, flag: int) -> None:
    assert shape_flags(sentence) & flag
    assert is_boilerplate(sentence, TITLE, ANALYZER)


@pytest.mark.parametrize(
    "sentence",
    [
        "Coffee prices fell 12 pct after frost hit Brazil's main growing areas, traders said.",
        "He resigned.",
        "Prices fell.",
        "The company had 10,855 of the 5-7/8 pct preferred shares outstanding, it said.",
        "(The company declined to comment on the sale.)",  # a sentence, though in parentheses
        '"We will not sell at these prices," he said.',
    ],
)
def test_real_sentences_are_not_flagged(sentence: str) -> None:
    assert not is_boilerplate(sentence, TITLE, ANALYZER)


def test_a_line_saying_nothing_beyond_its_headline_is_borrowed() -> None:
    (flags,) = [article_flags([TITLE], [["Coffee prices fall.", "Brazil frost."]], ANALYZER)]
    assert flags.tolist() == [BORROWED, BORROWED]
    assert not is_boilerplate("Frost hit Brazil's coffee crop in Minas Gerais.", TITLE, ANALYZER)


def test_a_title_only_article_is_content() -> None:
    # A feed item with a headline alone: its one sentence is its title, and may be an answer.
    title = "Fed raises rates"
    assert article_flags([title], [[title]], ANALYZER).tolist() == [0]


def test_a_line_in_many_articles_of_a_source_is_repeated() -> None:
    n = REPEAT_ARTICLES
    bodies = [
        [f"The harbour of {NAMES[i]} reopened.", "Follow us for more updates."] for i in range(n)
    ]
    lines = boilerplate.line_hashes([s for b in bodies for s in b])
    rows = np.repeat(np.arange(n), 2)
    found = boilerplate.repeated(lines, rows, np.zeros(n, dtype=np.int64), np.ones(2 * n, bool))
    assert found.tolist() == [False, True] * n
    # Spread over as many sources, no source repeats it.
    apart = boilerplate.repeated(lines, rows, np.arange(n, dtype=np.int64), np.ones(2 * n, bool))
    assert not apart.any()


def test_no_sentence_of_the_seed_is_flagged_but_its_headline_line() -> None:
    (article,) = read_sources([SEEDS]).articles
    sentences = split_sentences(article.text)
    flags = article_flags([article.title], [sentences], ANALYZER)
    flagged = [s for s, f in zip(sentences, flags.tolist(), strict=True) if f]
    # The headline repeated as the first line says nothing of its own; every other line does.
    assert flagged == ["Xi Jinping's Diplomatic Calls with Putin and Trump"]


def test_real_wikinews_sentences_are_rarely_flagged() -> None:
    wikinews = SEEDS.parent.parent / "shared" / "corpus" / "wikinews-gum" / "articles.jsonl"
    if not wikinews.is_file():
        pytest.skip(f"Wikinews corpus not found at {wikinews}")
    articles = read_sources([wikinews]).articles
    sentences = [split_sentences(a.text) for a in articles]
    flags = article_flags([a.title for a in articles], sentences, ANALYZER)
    rows = [s for article in sentences for s in article]
    long_ones = [s for s, f in zip(rows, flags.tolist(), strict=True) if f and len(s.split()) >= 8]
    # Long flagged lines are headlines repeated in the text, results of a match, a note in
    # brackets, an interrupted line: none is an article's statement (docs/quality.md).
    assert len(long_ones) <= 30, long_ones


WIRE = [
    Article(
        id=f"wire-{i}",
        title=title,
        text=f"{body}\n\nReuter",
        source="Wire",
    )
    for i, (title, body) in enumerate(
        [
            (
                "COFFEE PRICES FALL",
                "Coffee prices fell 12 pct after rains in Brazil, dealers said.",
            ),
            ("COCOA TALKS RESUME", "Cocoa producers and consumers resumed talks in London."),
            ("ACME CORP 4TH QTR NET", "Shr 12 cts vs 10 cts\n\nNet 1,247,000 vs 986,000"),
            ("STEEL OUTPUT RISES", "Steel output rose three pct in February, the institute said."),
            ("GOLD MINE OPENS", "A new gold mine opened in Nevada with 300 workers."),
        ]
    )
]


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    folder = tmp_path_factory.mktemp("wire") / "index"
    build_from_articles(WIRE, folder)
    return NewsIndex.load(folder)


@pytest.mark.parametrize(
    "question",
    [
        "latest news about coffee",
        "what is the news about coffee prices fall?",
        "what is the news about cocoa talks resume?",
        "what did acme corp earn?",
        "Who won the Super Bowl?",
    ],
)
def test_the_first_answer_is_never_a_sign_off(wire: NewsIndex, question: str) -> None:
    for lexical_only in (False, True):
        found = wire.ask(question, k=3, lexical_only=lexical_only)
        assert all(a.sentence != "Reuter" for a in found.answers), found.answers


def test_the_story_answers_not_its_sign_off(wire: NewsIndex) -> None:
    # Before index.text.boilerplate, "Reuter" (cosine of "COFFEE PRICES FALL: Reuter") came first.
    (first, *_) = wire.ask("what is the news about coffee prices fall?", k=3).answers
    assert first.sentence.startswith("Coffee prices fell 12 pct")


def test_flags_are_kept_through_an_update(wire: NewsIndex, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    build_from_articles(WIRE[:3], folder)
    build_from_articles(WIRE, folder, full=False)
    updated = NewsIndex.load(folder)
    assert updated.says_nothing.tolist() == wire.says_nothing.tolist()
    stored = layout.load_array(updated.folder, "sentence_flags")
    assert int(stored[updated.n_sentences - 1]) & FRAGMENT  # the last "Reuter"
    assert REPEATED not in stored.tolist()  # 5 articles: fewer than REPEAT_ARTICLES


def test_flags_are_reused_only_from_a_generation_of_the_same_format(tmp_path: Path) -> None:
    build_from_articles(WIRE, tmp_path / "index")
    written = current_generation(tmp_path / "index")
    previous = tmp_path / "previous"
    shutil.copytree(written, previous)
    # Marked so that a reuse shows: every row of the previous generation flagged as a fragment.
    n = len(layout.load_array(previous, "sentence_flags"))
    (previous / "sentence_flags.npy").unlink()
    layout.save_array(previous, "sentence_flags", np.full(n, FRAGMENT, dtype=np.uint8))
    boilerplate.save_flags(written, AnalyzerSettings(), previous)
    assert set(layout.load_array(written, "sentence_flags").tolist()) == {FRAGMENT}
    header = json.loads((previous / layout.HEADER).read_text(encoding="utf-8"))
    header["format_version"] = layout.FORMAT_VERSION - 1  # flags of other rules
    (previous / layout.HEADER).write_text(json.dumps(header), encoding="utf-8")
    boilerplate.save_flags(written, AnalyzerSettings(), previous)
    assert set(layout.load_array(written, "sentence_flags").tolist()) == {
        0,
        FRAGMENT,
        TABLE | FRAGMENT,
    }


def test_flags_follow_the_rows_through_a_compaction(tmp_path: Path) -> None:
    # Two of five stories removed: over a quarter of the rows dead, so the update compacts.
    build_from_articles(WIRE, tmp_path / "updated")
    report = build_from_articles(WIRE[2:], tmp_path / "updated", full=False)
    build_from_articles(WIRE[2:], tmp_path / "full")
    updated = NewsIndex.load(tmp_path / "updated")
    assert report.removed == 2 and updated.archive.live_sentences is None  # compacted
    full = NewsIndex.load(tmp_path / "full")
    assert updated.says_nothing.tolist() == full.says_nothing.tolist()
    assert [updated.sentence(r) for r in np.flatnonzero(updated.says_nothing)] == [
        "Shr 12 cts vs 10 cts",
        "Net 1,247,000 vs 986,000",
        "Reuter",
        "Reuter",
        "Reuter",
    ]


def test_a_line_repeated_once_an_update_adds_articles_is_flagged_in_every_article(
    tmp_path: Path,
) -> None:
    stories = [
        Article(
            id=f"feed-{i}",
            title=f"{name} harbour news",
            text=f"The harbour of {name} reopened after the storm.\n\nRead the full story at Feed.",
            source="Feed",
        )
        for i, name in enumerate(NAMES[:REPEAT_ARTICLES])
    ]
    folder = tmp_path / "index"
    build_from_articles(stories[:-1], folder)  # one article short of repeated
    assert not NewsIndex.load(folder).says_nothing.any()
    build_from_articles(stories, folder, full=False)
    news = NewsIndex.load(folder)
    assert [news.sentence(r) for r in np.flatnonzero(news.says_nothing)] == [
        "Read the full story at Feed."
    ] * REPEAT_ARTICLES
    assert set(layout.load_array(news.folder, "sentence_flags").tolist()) == {0, REPEATED}


def test_a_table_row_with_its_numbers_spelled_out_is_found_beside_the_others() -> None:
    table = [
        "Acme Corp said its fourth quarter profit rose on higher sales.",
        "Oper shr profit six cts vs loss two cts",
        "Shr 12 cts vs 10 cts",
        "Sales fell in Europe, the company said.",
    ]
    flags = article_flags(["ACME CORP 4TH QTR NET"], [table], ANALYZER).tolist()
    assert [bool(f & TABLE) for f in flags] == [False, True, True, False]
    # Alone, with no table row beside it, the line is not a table row.
    assert not shape_flags("Oper shr profit six cts vs loss two cts") & TABLE
