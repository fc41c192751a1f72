"""The test split's evaluation corpus (bench/eval_corpus.py): fixed, within budget, fair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval_corpus import (
    NEAR_COPY,
    REUTERS,
    TEST_SENTENCE_BUDGET,
    _copies,
    _words,
    read_corpus,
    sentence_count,
)
from index.text.sentences import split_sentences

QUESTIONS = Path(__file__).resolve().parents[1] / "bench" / "questions" / "test.jsonl"


def test_a_near_copy_is_one() -> None:
    gold = [_words("Market sources put the total value of CCF's privatisation at four billion.")]
    assert _copies("Market sources have put the total value of CCF's privatisation at four", gold)
    assert not _copies("CCF's privatisation will be launched on April 27.", gold)
    assert 0 < NEAR_COPY < 1


def test_the_test_corpus_is_within_budget_and_holds_every_story_asked_about() -> None:
    if not REUTERS.is_file():
        pytest.skip(f"shared corpora not found at {REUTERS}")
    rows = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line]
    named = {r["article_id"] for r in rows if r["article_id"]}
    golds = [r["gold"] for r in rows if r["gold"]]
    articles = read_corpus(named, golds, corpus="test").articles
    ids = [a.id for a in articles]
    assert named <= set(ids)
    assert len(ids) == len(set(ids))
    total = sum(sentence_count(a) for a in articles)
    assert TEST_SENTENCE_BUDGET - 500 <= total <= TEST_SENTENCE_BUDGET
    gold_words = [_words(g) for g in golds]
    distractors = [a for a in articles if a.id.startswith("reuters") and a.id not in named]
    assert len(distractors) > 1000
    copies = [
        a.id for a in distractors if any(_copies(s, gold_words) for s in split_sentences(a.text))
    ]
    assert copies == []
