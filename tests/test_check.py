"""`newsbot check`: the index's answers against rank_bm25 built over its own sentences."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from index.answers.check import best_positive, questions, relative_difference
from index.answers.search import NewsIndex
from index.store import layout
from index.store.generations import current_generation
from tests.conftest import SEEDS, SEGMENT, locate

REPORT_KEYS = {
    "sentences",
    "k",
    "questions",
    "agreed",
    "largest_relative_difference",
    "tolerance",
    "disagreements",
    "seconds",
}


def damaged_copy(
    index_dir: Path, copy: Path, name: str, change: Callable[[np.ndarray], np.ndarray]
) -> Path:
    """Copy an index folder and rewrite one array of its generation, as a faulty build would.

    The header's file sizes and checksums are written afresh, as the build writes them, so that
    loading accepts the damaged generation and only the scores can tell.
    """
    shutil.copytree(index_dir, copy)
    generation = current_generation(copy)
    path = locate(generation, f"{name}.npy")
    if not path.exists():  # an array of the BM25 segment
        path = locate(generation, f"{SEGMENT}{name}.npy")
    np.save(path, change(np.load(path)))
    header_path = generation / layout.HEADER
    header = json.loads(header_path.read_text(encoding="utf-8"))
    header["files"] = layout.describe_files(generation)
    header_path.write_text(json.dumps(header), encoding="utf-8")
    return copy


def check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    status = main(["check", "--json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_the_seed_index_agrees_with_rank_bm25(
    seed_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--index-dir", str(seed_index), "--sample", "20"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "20 of 20 questions agree with rank_bm25 (top 10 rows and scores, 30 sentences); "
        "largest relative score difference 0 (tolerance 1e-09); "
    )
    assert len(out.splitlines()) == 1


def test_json_report(seed_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = check_json(capsys, "--index-dir", str(seed_index), "--sample", "12", "-k", "3")
    assert status == 0
    assert set(report) == REPORT_KEYS
    assert (report["sentences"], report["k"], report["questions"]) == (30, 3, 12)
    assert report["agreed"] == 12
    assert report["largest_relative_difference"] == 0.0
    assert report["disagreements"] == []


def test_damaged_weights_are_a_disagreement(
    seed_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every tf = 1 weight 0.1% too high: the same rows, every score off.
    damaged = damaged_copy(seed_index, tmp_path / "damaged", "tf1_norms", lambda a: a * 1.001)
    status, report = check_json(capsys, "--index-dir", str(damaged), "--sample", "10")
    assert status == 1
    assert report["agreed"] == 0
    assert report["largest_relative_difference"] == pytest.approx(0.001 / 1.001, rel=1e-6)
    first = report["disagreements"][0]  # type: ignore[index]
    assert first["newsbot"]["rows"] == first["rank_bm25"]["rows"]
    assert first["newsbot"]["scores"] != first["rank_bm25"]["scores"]
    # The original, untouched, still agrees.
    assert check_json(capsys, "--index-dir", str(seed_index), "--sample", "10")[0] == 0


def test_swapped_sentences_are_a_disagreement_on_rows(
    seed_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two sentences of the same length swap places in the rank order: every load check holds,
    # but the index answers each one's postings with the other's row.
    (segment,) = NewsIndex.load(seed_index).bm25.segments
    postings = segment.postings
    lengths = postings.length_of_rank.tolist()
    rank = next(r for r in range(len(lengths) - 1) if 0 < lengths[r] == lengths[r + 1])
    a, b = postings.row_of_rank[rank].item(), postings.row_of_rank[rank + 1].item()

    def swap(row_of_rank: np.ndarray) -> np.ndarray:
        swapped = row_of_rank.copy()
        swapped[[rank, rank + 1]] = swapped[[rank + 1, rank]]
        return swapped

    damaged = damaged_copy(seed_index, tmp_path / "damaged", "row_of_rank", swap)
    status, report = check_json(capsys, "--index-dir", str(damaged), "--sample", "30")
    assert status == 1
    disagreements = report["disagreements"]
    assert isinstance(disagreements, list) and disagreements
    for d in disagreements:
        exchanged = [{a: b, b: a}.get(row, row) for row in d["newsbot"]["rows"]]
        assert exchanged == d["rank_bm25"]["rows"]


def test_a_missing_index_is_a_usage_error_and_is_not_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main(["check", "--index-dir", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"newsbot: error: no index in {missing}; run `newsbot index` first\n"
    assert not missing.exists()


def test_sample_must_be_positive(seed_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--index-dir", str(seed_index), "--sample", "0"])
    assert exit_.value.code == 2
    assert "expected at least 1, got 0" in capsys.readouterr().err


def test_questions_are_drawn_by_seed(seed_index: Path) -> None:
    news = NewsIndex.load(seed_index)
    first = questions(news, 5, seed=0)
    assert questions(news, 5, seed=0) == first
    assert questions(news, 5, seed=1) != first
    assert len(set(first)) == 5
    assert all(1 <= len(q.split()) <= 8 for q in first)


def test_best_positive_breaks_ties_by_row_and_drops_zero() -> None:
    scores = np.array([0.0, 2.0, 1.0, 2.0, -1.0, 0.5])
    ranking = best_positive(scores, 3)
    assert ranking.rows == (1, 3, 2)
    assert ranking.scores == (2.0, 2.0, 1.0)
    assert best_positive(scores, 10).rows == (1, 3, 2, 5)


def test_relative_difference() -> None:
    assert relative_difference(0.0, 0.0) == 0.0
    assert relative_difference(2.0, 2.0) == 0.0
    assert relative_difference(1.0, 0.0) == 1.0
    assert relative_difference(1.001, 1.0) == pytest.approx(0.001 / 1.001)


def test_an_updated_index_of_several_segments_agrees_on_its_live_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", "50%")  # 4 of 9 articles leave the file
    sources, index_dir = tmp_path / "news", str(tmp_path / "idx")
    shutil.copytree(SEEDS, sources)
    wire = sources / "wire.jsonl"
    stories = [
        {
            "id": f"s{n}",
            "title": f"Port report {n}",
            "text": f"The port of Ostend handled {n} "
            f"ships on Monday. Trade with Russia and China grew by {n} percent.",
        }
        for n in range(12)
    ]
    wire.write_text("".join(json.dumps(s) + "\n" for s in stories[:8]))
    assert main(["index", str(sources), "--index-dir", index_dir]) == 0
    wire.write_text("".join(json.dumps(s) + "\n" for s in stories[4:]))  # 4 gone, 4 new
    assert main(["index", str(sources), "--index-dir", index_dir]) == 0
    news = NewsIndex.load(Path(index_dir), semantic=False)
    assert len(news.bm25.segments) == 2 and news.bm25.n_rows > news.n_sentences
    capsys.readouterr()
    status, report = check_json(capsys, "--index-dir", index_dir, "--sample", "40")
    assert status == 0
    assert report["sentences"] == news.n_sentences
    assert report["agreed"] == 40
