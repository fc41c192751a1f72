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
# sha256 of the frozen test split; change it only together with a line in README.md's changelog.
TEST_SHA256 = "bace2d87b6b9db1c2c8fd3423c8a82ce974e4263ef1160c3e0ffa081a8bd94dc"

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
def test_split() -> list[Row]:
    return read("test.jsonl")


@pytest.fixture(scope="module")
def articles(dev: list[Row], test_split: list[Row]) -> dict[str, str]:
    """Whitespace-normalized text of every article a question names, by article id."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpora not found at {CORPUS}")
    wanted = {str(row["article_id"]) for row in [*dev, *test_split] if row["article_id"]}
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


def test_every_row_is_well_formed(dev: list[Row], test_split: list[Row]) -> None:
    for row in [*dev, *test_split]:
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


def test_ids_run_in_order_in_each_split(dev: list[Row], test_split: list[Row]) -> None:
    assert [row["id"] for row in dev] == [f"dev-{n:03d}" for n in range(1, len(dev) + 1)]
    assert [row["id"] for row in test_split] == [
        f"test-{n:03d}" for n in range(1, len(test_split) + 1)
    ]


def test_dev_and_test_share_no_question(dev: list[Row], test_split: list[Row]) -> None:
    def texts(rows: list[Row]) -> Counter[str]:
        return Counter(re.sub(r"\W+", " ", str(row["question"])).strip().casefold() for row in rows)

    both = texts(dev) + texts(test_split)
    assert [text for text, n in both.items() if n > 1] == []
    assert {row["id"] for row in dev}.isdisjoint(row["id"] for row in test_split)


def test_whole_set_meets_the_issue_minimums(dev: list[Row], test_split: list[Row]) -> None:
    rows = [*dev, *test_split]
    kinds = Counter(str(row["kind"]) for row in rows)
    assert len(rows) >= 250
    assert kinds["paraphrase"] * 3 >= len(rows)
    assert kinds["absent"] >= 30
    assert kinds["offtopic"] >= 20
    assert kinds["headline"] >= 20
    sources = {str(row["article_id"]).split("-")[0].split("_")[0] for row in rows}
    assert {"seed", "GUM", "reuters21578"} <= sources


def test_test_split_can_measure_every_target(test_split: list[Row]) -> None:
    kinds = Counter(str(row["kind"]) for row in test_split)
    assert kinds == {"paraphrase": 42, "lexical": 18, "headline": 16, "absent": 27, "offtopic": 15}
    reuters = [row for row in test_split if str(row["article_id"]).startswith("reuters21578-")]
    assert len(reuters) >= 10


def test_split_follows_the_seeded_draw(dev: list[Row], test_split: list[Row]) -> None:
    assert check(dev, test_split) == []


def test_test_split_is_frozen() -> None:
    digest = hashlib.sha256((QUESTIONS / "test.jsonl").read_bytes()).hexdigest()
    assert digest == TEST_SHA256, "test.jsonl changed: see the rule in bench/questions/README.md"


def test_every_gold_sentence_is_in_its_article(
    dev: list[Row], test_split: list[Row], articles: dict[str, str]
) -> None:
    missing = [
        row["id"]
        for row in [*dev, *test_split]
        if row["gold"] is not None
        and normalize(str(row["gold"])) not in articles.get(str(row["article_id"]), "")
    ]
    assert missing == []
