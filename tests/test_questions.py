"""The evaluation questions (bench/questions/): well formed, split as drawn, gold sentences real.

Only the gold check reads the shared corpora; it skips, saying where it looked, without them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bench.questions.split import check

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "questions"
CORPUS = ROOT.parent / "shared" / "corpus"
SEEDS = ROOT / "seeds"

FIELDS = {"id", "question", "article_id", "gold", "style", "answerable", "kind"}
ANSWERABLE_KINDS = {"lexical", "paraphrase", "headline"}
KINDS = ANSWERABLE_KINDS | {"absent", "offtopic"}
# sha256 of the frozen test split (issue #19's, t2-*); change it only together with a line in
# README.md's changelog.
TEST_SHA256 = "f80874f0bf5fa3c08fc906ac629b78ba9951bbd32aba648bf4e403fb8f841a7a"
# Issue #11's test split, now dev2: unchanged since it was frozen.
DEV2_SHA256 = "bace2d87b6b9db1c2c8fd3423c8a82ce974e4263ef1160c3e0ffa081a8bd94dc"

Row = dict[str, object]


def read(name: str) -> list[Row]:
    with (QUESTIONS / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def normalize(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def dev() -> list[Row]:
    return read("dev.jsonl")


@pytest.fixture(scope="module")
def dev2() -> list[Row]:
    """Issue #11's test split, a second dev split since issue #19 (ids test-NNN kept)."""
    return read("dev2.jsonl")


@pytest.fixture(scope="module")
def test_split() -> list[Row]:
    return read("test.jsonl")


@pytest.fixture(scope="module")
def articles(dev: list[Row], dev2: list[Row], test_split: list[Row]) -> dict[str, str]:
    """Whitespace-normalized text of every article a question names, by article id."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpora not found at {CORPUS}")
    wanted = {str(row["article_id"]) for row in [*dev, *dev2, *test_split] if row["article_id"]}
    texts = {"seed": normalize(" ".join(p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))))}
    for path, field in (
        (CORPUS / "wikinews-gum" / "articles.jsonl", "text"),
        (CORPUS / "reuters21578" / "articles.jsonl", "body"),
    ):
        with path.open(encoding="utf-8") as f:
            for line in f:
                article = json.loads(line)
                if article["id"] in wanted:
                    texts[article["id"]] = normalize(article[field])
    return texts


def test_every_row_is_well_formed(dev: list[Row], dev2: list[Row], test_split: list[Row]) -> None:
    for row in [*dev, *dev2, *test_split]:
        assert set(row) == FIELDS, row["id"]
        assert row["kind"] in KINDS, row["id"]
        assert row["style"] in {"lexical", "paraphrase"}, row["id"]
        assert isinstance(row["question"], str) and row["question"].strip(), row["id"]
        assert row["answerable"] is (row["kind"] in ANSWERABLE_KINDS), row["id"]
        assert isinstance(row["gold"], str) is row["answerable"], row["id"]
        if row["answerable"]:
            assert isinstance(row["article_id"], str), row["id"]
        if row["kind"] in {"lexical", "paraphrase"}:
            assert row["style"] == row["kind"], row["id"]
        if row["kind"] == "offtopic":
            assert row["article_id"] is None, row["id"]
        if row["kind"] == "headline":
            assert len(str(row["question"]).split()) >= 10, row["id"]


def test_ids_run_in_order_in_each_split(
    dev: list[Row], dev2: list[Row], test_split: list[Row]
) -> None:
    for rows, prefix in ((dev, "dev"), (dev2, "test"), (test_split, "t2")):
        assert [row["id"] for row in rows] == [f"{prefix}-{n:03d}" for n in range(1, len(rows) + 1)]


def test_the_splits_share_no_question(
    dev: list[Row], dev2: list[Row], test_split: list[Row]
) -> None:
    def texts(rows: list[Row]) -> Counter[str]:
        return Counter(re.sub(r"\W+", " ", str(row["question"])).strip().casefold() for row in rows)

    every = texts(dev) + texts(dev2) + texts(test_split)
    assert [text for text, n in every.items() if n > 1] == []


def test_the_new_test_split_uses_no_article_of_dev_or_dev2(
    dev: list[Row], dev2: list[Row], test_split: list[Row]
) -> None:
    tuned = {row["article_id"] for row in [*dev, *dev2]} - {None}
    assert tuned.isdisjoint(row["article_id"] for row in test_split)
    assert "seed" not in {row["article_id"] for row in test_split}


def test_whole_set_meets_the_issue_minimums(dev: list[Row], dev2: list[Row]) -> None:
    rows = [*dev, *dev2]
    kinds = Counter(str(row["kind"]) for row in rows)
    assert len(rows) >= 250
    assert kinds["paraphrase"] * 3 >= len(rows)
    assert kinds["absent"] >= 30
    assert kinds["offtopic"] >= 20
    assert kinds["headline"] >= 20
    sources = {str(row["article_id"]).split("-")[0].split("_")[0] for row in rows}
    assert {"seed", "GUM", "reuters21578"} <= sources


def test_dev2_keeps_issue_11s_test_counts(dev2: list[Row]) -> None:
    kinds = Counter(str(row["kind"]) for row in dev2)
    assert kinds == {"paraphrase": 42, "lexical": 18, "headline": 16, "absent": 27, "offtopic": 15}
    reuters = [row for row in dev2 if str(row["article_id"]).startswith("reuters21578-")]
    assert len(reuters) >= 10


def test_test_split_meets_issue_19s_minimums(test_split: list[Row]) -> None:
    kinds = Counter(str(row["kind"]) for row in test_split)
    assert kinds == {"paraphrase": 70, "lexical": 25, "headline": 15, "absent": 25, "offtopic": 20}
    assert len(test_split) >= 150
    reuters = [row for row in test_split if str(row["article_id"]).startswith("reuters21578-")]
    assert len(reuters) * 3 >= len(test_split)


def test_split_follows_the_seeded_draw(dev: list[Row], dev2: list[Row]) -> None:
    assert check(dev, dev2) == []


def test_test_split_is_frozen() -> None:
    digest = hashlib.sha256((QUESTIONS / "test.jsonl").read_bytes()).hexdigest()
    assert digest == TEST_SHA256, "test.jsonl changed: see the rule in bench/questions/README.md"
    digest = hashlib.sha256((QUESTIONS / "dev2.jsonl").read_bytes()).hexdigest()
    assert digest == DEV2_SHA256, "dev2.jsonl (issue #11's test split) changed"


def test_every_gold_sentence_is_in_its_article(
    dev: list[Row], dev2: list[Row], test_split: list[Row], articles: dict[str, str]
) -> None:
    missing = [
        row["id"]
        for row in [*dev, *dev2, *test_split]
        if row["gold"] is not None
        and normalize(str(row["gold"])) not in articles.get(str(row["article_id"]), "")
    ]
    assert missing == []
