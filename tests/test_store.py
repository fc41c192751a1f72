"""Index generations on disk: atomic replacement, versioning, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.store.generations import (
    GenerationWriter,
    IndexFormatError,
    IndexMissingError,
    current_generation,
    read_header,
)
from index.store.layout import FORMAT_VERSION


def write_generation(index_dir: Path, marker: str) -> Path:
    with GenerationWriter(index_dir) as writer:
        (writer.folder / "marker.txt").write_text(marker)
        return writer.commit({"marker": marker})


def test_commit_makes_the_new_generation_current_and_drops_the_old(tmp_path: Path) -> None:
    first = write_generation(tmp_path, "one")
    second = write_generation(tmp_path, "two")
    assert current_generation(tmp_path) == second
    assert (second / "marker.txt").read_text() == "two"
    assert read_header(second)["format_version"] == FORMAT_VERSION
    # The generation a running bot may still serve is kept; only those older than two go.
    assert first.exists()
    third = write_generation(tmp_path, "three")
    assert not first.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["CURRENT", "LOCK", second.name, third.name]
    )


def test_failed_build_leaves_the_previous_generation_current(tmp_path: Path) -> None:
    first = write_generation(tmp_path, "one")
    with pytest.raises(RuntimeError), GenerationWriter(tmp_path) as writer:
        (writer.folder / "marker.txt").write_text("half")
        raise RuntimeError("killed mid-build")
    assert current_generation(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "LOCK", first.name]


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
