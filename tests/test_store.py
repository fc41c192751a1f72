"""Index generations on disk: atomic replacement, versioning, clear refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.search import NewsIndex
from index.store import (
    FORMAT_VERSION,
    GenerationWriter,
    IndexFormatError,
    IndexMissingError,
    current_generation,
    read_header,
)
from tests.conftest import SEED_QUESTION, SEEDS


def write_generation(index_dir: Path, marker: str) -> Path:
    with GenerationWriter(index_dir) as writer:
        (writer.folder / "marker.txt").write_text(marker)
        return writer.commit({"marker": marker})


def test_commit_makes_the_new_generation_current_and_drops_the_old(tmp_path: Path) -> None:
    first = write_generation(tmp_path, "one")
    second = write_generation(tmp_path, "two")
    assert current_generation(tmp_path) == second
    assert (second / "marker.txt").read_text() == "two"
    assert not first.exists()
    assert read_header(second)["format_version"] == FORMAT_VERSION


def test_failed_build_leaves_the_previous_generation_current(tmp_path: Path) -> None:
    first = write_generation(tmp_path, "one")
    with pytest.raises(RuntimeError), GenerationWriter(tmp_path) as writer:
        (writer.folder / "marker.txt").write_text("half")
        raise RuntimeError("killed mid-build")
    assert current_generation(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", first.name]


def test_missing_index_says_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="run `newsbot index`"):
        current_generation(tmp_path)


def test_other_format_version_is_refused_with_reindex_hint(tmp_path: Path) -> None:
    folder = write_generation(tmp_path, "one")
    header = json.loads((folder / "index.json").read_text())
    header["format_version"] = FORMAT_VERSION + 1
    (folder / "index.json").write_text(json.dumps(header))
    with pytest.raises(IndexFormatError, match=r"format version .* rebuild"):
        read_header(folder)


def test_pointer_to_a_missing_generation_is_refused(tmp_path: Path) -> None:
    write_generation(tmp_path, "one")
    (tmp_path / "CURRENT").write_text("gen-gone\n")
    with pytest.raises(IndexFormatError, match="missing index"):
        current_generation(tmp_path)


# -- a damaged generation --------------------------------------------------------------------

GENERATION_FILES = (
    "article_first.npy",
    "article_offsets.npy",
    "articles.jsonl",
    "bm25.json",
    "idf.npy",
    "offsets.npy",
    "ranks.npy",
    "row_of_rank.npy",
    "sentence_offsets.npy",
    "sentences.bin",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("built") / "index"
    build_index([SEEDS], index_dir)
    return index_dir


@pytest.fixture
def seed_copy(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "index"))


@pytest.mark.parametrize("damage", ["missing", "truncated"])
@pytest.mark.parametrize("name", GENERATION_FILES)
def test_a_damaged_generation_is_refused_with_a_rebuild_hint(
    seed_copy: Path, name: str, damage: str
) -> None:
    path = current_generation(seed_copy) / name
    if damage == "missing":
        path.unlink()
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - max(1, len(data) // 3)])
    with pytest.raises(IndexFormatError, match=rf"damaged .*{damage_hint(damage)}.*rebuild it"):
        NewsIndex.load(seed_copy)


def damage_hint(damage: str) -> str:
    """What the message names: the missing file, or only that something disagrees."""
    return "No such file" if damage == "missing" else ""


def test_the_intact_copy_loads_and_answers(seed_copy: Path) -> None:
    (answer,) = NewsIndex.load(seed_copy).ask(SEED_QUESTION, 1)
    assert "228.1" in answer.sentence
