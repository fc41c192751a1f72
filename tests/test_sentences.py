"""Sentence splitting: news-text literals, the Wikinews gold sentences, properties on any text."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import random
import re
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.text.sentences import split_sentences

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GOLD = CORPUS / "wikinews-gum" / "articles.jsonl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. economy grew. Trade rose on Feb. 6 to $228.1 billion, Dr. Smith said.",
            ["The U.S. economy grew.", "Trade rose on Feb. 6 to $228.1 billion, Dr. Smith said."],
        ),
        (
            "He lives in the U.S. The economy grew.",
            ["He lives in the U.S.", "The economy grew."],
        ),
        (
            'J. K. Rowling wrote it. "Is it true?" he asked. "Yes." She left.',
            ["J. K. Rowling wrote it.", '"Is it true?" he asked.', '"Yes."', "She left."],
        ),
        (
            "He met Gen. Smith at 5 p.m. on Monday. Apple Inc. said sales rose 3.5 pct.",
            ["He met Gen. Smith at 5 p.m. on Monday.", "Apple Inc. said sales rose 3.5 pct."],
        ),
        (
            'He said: "We will win." Then he left. "We will," she said.',
            ['He said: "We will win."', "Then he left.", '"We will," she said.'],
        ),
        (
            "It was Smith vs. Jones in court. The jury agreed.",
            ["It was Smith vs. Jones in court.", "The jury agreed."],
        ),
        # Bling Fire alone splits after a title that opens a sentence.
        (
            "The vaccine works. Dr. Anthony Fauci said so. It passed. Sen. Elizabeth Warren voted.",
            [
                "The vaccine works.",
                "Dr. Anthony Fauci said so.",
                "It passed.",
                "Sen. Elizabeth Warren voted.",
            ],
        ),
        # Bling Fire alone keeps these together: a period after a plain lower-case word.
        (
            "She said it. J. K. Rowling wrote it. Mr. Trump said so. Mr. Biden disagreed.",
            [
                "She said it.",
                "J. K. Rowling wrote it.",
                "Mr. Trump said so.",
                "Mr. Biden disagreed.",
            ],
        ),
        (
            "Food prices fell 1-1/2 pct. Production of capital goods rose 0.7 pct.",
            ["Food prices fell 1-1/2 pct.", "Production of capital goods rose 0.7 pct."],
        ),
        ("First paragraph ends\nSecond one. Two.", ["First paragraph ends", "Second one.", "Two."]),
        ("One.\r\n\r\n  Two. Three.\r\n", ["One.", "Two.", "Three."]),
        ("Trade\x00rose. Prices\x07fell.", ["Trade rose.", "Prices fell."]),
        ("A lone \ud800 surrogate. Next.", ["A lone \ufffd surrogate.", "Next."]),
        ("", []),
        ("\n\n  \t\n", []),
    ],
)
def test_news_text(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@cache
def gold_paragraphs() -> list[list[str]]:
    """Every gold paragraph of the Wikinews articles, as its list of sentences."""
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    return [paragraph for line in lines for paragraph in json.loads(line)["paragraphs"]]


def need_gold() -> None:
    if not GOLD.is_file():
        pytest.skip(f"Wikinews gold sentences not found at {GOLD}")


def ends(sentences: list[str]) -> list[int]:
    """Offsets, counted in non-whitespace characters, where each sentence ends."""
    offsets, position = [], 0
    for sentence in sentences:
        position += len(squeeze(sentence))
        offsets.append(position)
    return offsets


def boundary_scores(paragraphs: list[list[str]], separators: list[str]) -> tuple[float, float]:
    """Precision and F1 of the boundaries found in the paragraphs' gold sentences, joined with
    the separators in turn, paragraphs with line breaks; paragraph ends are not boundaries."""
    joined = [
        "".join(s + separators[i % len(separators)] for i, s in enumerate(p)) for p in paragraphs
    ]
    paragraph_ends = set(ends(joined))
    gold = set(ends([s for p in paragraphs for s in p])) - paragraph_ends
    found = set(ends(split_sentences("\n".join(joined)))) - paragraph_ends
    precision, recall = len(gold & found) / len(found), len(gold & found) / len(gold)
    return precision, 2 * precision * recall / (precision + recall)


def test_boundary_f1_on_wikinews_gold() -> None:
    need_gold()
    precision, f1 = boundary_scores(gold_paragraphs(), [" "])
    # Measured F1 0.9594, precision 0.9836: docs/sentences.md.
    assert f1 >= 0.955
    assert precision >= 0.98


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.lists(st.sampled_from([" ", "  ", "\t", " \u00a0", "\u2009", " \u3000 "]), min_size=1),
)
def test_gold_sentences_in_any_order_and_spacing(seed: int, separators: list[str]) -> None:
    need_gold()
    # Shuffled by a drawn seed: a shuffle drawn from Hypothesis's own data is too large to shrink.
    rng = random.Random(seed)
    sentences = [s for p in gold_paragraphs() for s in p]
    rng.shuffle(sentences)
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(1, 6)
        paragraphs.append(sentences[start : start + size])
        start += size
    precision, f1 = boundary_scores(paragraphs, separators)
    # Lower than in the articles: headlines, datelines and captions, which end without a period,
    # now sit inside paragraphs. Measured over 100 shuffles: F1 0.914 to 0.93, precision >= 0.985.
    assert f1 >= 0.905
    assert precision >= 0.98


def squeeze(text: str) -> str:
    return "".join(text.split())


def cleaned(text: str) -> str:
    """`text` as split_sentences reads it: control characters as spaces, lone surrogates U+FFFD."""
    return re.sub(r"[\ud800-\udfff]", "\ufffd", re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text))


ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()))
NEWS_LIKE_TEXT = st.text(alphabet=st.sampled_from(list("Ab. U.S.?!\"'“”()\n\t$1,9-:;")))


@settings(max_examples=1000, deadline=None)
@given(st.one_of(ANY_TEXT, NEWS_LIKE_TEXT))
def test_any_text_splits_without_loss_or_empty_sentences(text: str) -> None:
    sentences = split_sentences(text)
    assert all(s and s == s.strip() for s in sentences)
    assert squeeze("".join(sentences)) == squeeze(cleaned(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(ANY_TEXT, NEWS_LIKE_TEXT).map(lambda t: "".join(t.splitlines()))))
def test_no_sentence_crosses_a_paragraph_break(paragraphs: list[str]) -> None:
    expected = [s for p in paragraphs for s in split_sentences(p)]
    assert split_sentences("\n".join(paragraphs)) == expected
    assert split_sentences("\n\n \n".join(paragraphs)) == expected


def test_huge_paragraph() -> None:
    text = "The U.S. economy grew 3.5 pct on Feb. 6, Dr. Smith said. " * 50_000
    sentences = split_sentences(text)
    assert len(sentences) == 50_000
    assert set(sentences) == {"The U.S. economy grew 3.5 pct on Feb. 6, Dr. Smith said."}


def test_usable_in_worker_processes() -> None:
    assert pickle.loads(pickle.dumps(split_sentences)) is split_sentences
    texts = ["The U.S. economy grew. Dr. Smith said so.", "One.\nTwo. Three."] * 4
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        assert list(pool.map(split_sentences, texts)) == [split_sentences(t) for t in texts]


def test_bling_fire_failure_falls_back_without_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bling Fire returns "" when its C function reports an error.
    monkeypatch.setattr("index.text.sentences.blingfire.text_to_sentences", lambda text: "")
    assert split_sentences('He said "Yes." Then, at 5 p.m., he left.\nNext') == [
        'He said "Yes."',
        "Then, at 5 p.m., he left.",
        "Next",
    ]
