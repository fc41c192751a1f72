"""A damaged generation is refused at load (IndexFormatError), before the kernel reads it.

Every file of a generation x {missing, truncated, values corrupted} is caught by the header's
checksums; the kernel's invariants are also checked on their own, as a writer bug (checksums
that match wrong arrays) would get past the checksums. No test here queries a damaged index:
`NewsIndex.load` must refuse it first (issue #9.5).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.answers.search import NewsIndex
from index.store import layout
from index.store.build import build_index
from index.store.generations import IndexFormatError, current_generation, read_header
from tests.conftest import SEED_QUESTION, SEEDS, SEGMENT, locate, segment_folder

# The arrays of a segment (BM25); the others are the generation's own.
SEGMENT_ARRAYS = frozenset({*layout.POSTING_ARRAYS, "doc_len", "idf", "tokens"})
GENERATION_FILES = (
    "article_dates.json",
    "article_first.npy",
    "article_ids.npy",
    "article_keys.npy",
    "article_offsets.npy",
    "articles.jsonl",
    "bodies.bin",
    "body_offsets.npy",
    "segment/blocks.npy",
    "segment/bm25.json",
    "segment/bounds.npy",
    "segment/codes.npy",
    "segment/dir_offsets.npy",
    "segment/dir_shard.npy",
    "segment/dir_start.npy",
    "segment/doc_len.npy",
    "segment/idf.npy",
    "segment/length_of_rank.npy",
    "segment/offsets.npy",
    "segment/ranks.npy",
    "segment/row_of_rank.npy",
    "segment/tf1_norms.npy",
    "segment/tf2.npy",
    "segment/tf_norms.npy",
    "segment/tokens.npy",
    "sentence_flags.npy",
    "sentence_lines.npy",
    "sentence_offsets.npy",
    "sentences.bin",
    "vector_codes.npy",
    "vector_keys.npy",
    "vector_scales.npy",
    "vector_signs.npy",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    # Bulletins whose words recur in 150 sentences: posting lists of several blocks.
    bulletins = folder / "bulletins.jsonl"
    with bulletins.open("w") as out:
        for n in range(150):
            text = f"Harbour weather bulletin {n}: calm seas and light winds along the coast."
            out.write(json.dumps({"id": f"w{n}", "title": f"Bulletin {n}", "text": text}) + "\n")
    build_index([SEEDS, bulletins], folder / "index")
    return folder / "index"


@pytest.fixture
def seed_copy(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "index"))


def test_the_list_names_every_file_a_build_writes(built: Path) -> None:
    generation = current_generation(built)
    (segment,) = read_header(generation)["segments"]
    names = [n.replace(segment["name"] + "/", SEGMENT) for n in layout.describe_files(generation)]
    assert sorted(names) == list(GENERATION_FILES)


def test_the_intact_copy_loads_and_answers(seed_copy: Path) -> None:
    (answer,) = NewsIndex.load(seed_copy).ask(SEED_QUESTION, 1).answers
    assert "228.1" in answer.sentence


def corrupt(path: Path) -> None:
    """Invert a run of bytes in the middle of the file's values (past a .npy header)."""
    data = bytearray(path.read_bytes())
    start = 128 if path.suffix == ".npy" and len(data) > 136 else 0
    middle = start + (len(data) - start) // 2
    for at in range(middle, min(middle + 8, len(data))):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "missing": lambda path: path.unlink(),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
    "corrupted": corrupt,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", GENERATION_FILES)
def test_a_damaged_file_is_refused_with_a_rebuild_hint(
    seed_copy: Path, name: str, damage: str
) -> None:
    path = locate(current_generation(seed_copy), name)
    before = path.read_bytes()
    DAMAGE[damage](path)
    assert not path.exists() or path.read_bytes() != before
    with pytest.raises(IndexFormatError, match=r"(damaged|not a newsbot index) .*run `newsbot"):
        NewsIndex.load(seed_copy)


def test_a_changed_file_is_named_by_its_checksum(seed_copy: Path) -> None:
    corrupt(locate(current_generation(seed_copy), SEGMENT + "ranks.npy"))
    with pytest.raises(IndexFormatError, match=r"ranks\.npy does not match its checksum"):
        NewsIndex.load(seed_copy)


def test_an_extra_file_is_refused(seed_copy: Path) -> None:
    (current_generation(seed_copy) / "stray.npy").write_bytes(b"")
    with pytest.raises(IndexFormatError, match=r"unexpected \['stray.npy'\]"):
        NewsIndex.load(seed_copy)


# -- the kernel's invariants, past matching checksums (a writer bug) ------------------------------


Change = Callable[[np.ndarray[Any, Any], Path], Any]


def rewrite(generation: Path, name: str, change: Change) -> None:
    """Change array `name` in place and write checksums that match the change."""
    path = locate(generation, (SEGMENT if name in SEGMENT_ARRAYS else "") + f"{name}.npy")
    values = np.load(path).copy()
    result = change(values, path.parent)
    np.save(path, values if result is None else result)
    header = json.loads((generation / layout.HEADER).read_text())
    header["files"] = layout.describe_files(generation)
    (generation / layout.HEADER).write_text(json.dumps(header))


def set_at(where: int, value: int | float) -> Change:
    def change(values: np.ndarray[Any, Any], _: Path) -> None:
        values[where] = value

    return change


def swap_first_two_ranks(values: np.ndarray[Any, Any], _: Path) -> None:
    values[0], values[1] = values[1], values[0]


def raise_a_later_bound(values: np.ndarray[Any, Any], folder: Path) -> None:
    """Make the second block of the first list of several blocks outweigh the first."""
    blocks = np.load(layout.array_path(folder, "blocks"))
    first = blocks[int(np.flatnonzero(np.diff(blocks) >= 2)[0])]
    values[first + 1] = values[first] + 1.0


BROKEN: dict[str, tuple[str, Change, str]] = {
    # case: (array, change, what the message says)
    "offsets fall": ("offsets", set_at(1, 10**9), "offsets.npy runs from|not ascending"),
    "offsets short": ("offsets", lambda v, _: v[:-1], "entries in offsets.npy"),
    "ranks unsorted": ("ranks", swap_first_two_ranks, "ranks.npy is not ascending"),
    "rank past the end": ("ranks", set_at(-1, 65535), "rank past the last sentence"),
    "directory past the lists": ("dir_offsets", set_at(-2, 10**9), "dir_offsets.npy"),
    "shard out of range": ("dir_shard", set_at(0, 9), "shard past the last sentence"),
    "entry misplaced": ("dir_start", set_at(1, 0), "dir_start.npy"),
    "code past its table": ("codes", set_at(0, 65535), "codes.npy points past"),
    "norms cut": ("tf_norms", lambda v, _: v[:1], "codes.npy points past"),
    "length past its table": ("length_of_rank", set_at(-1, 255), "past tf1_norms"),
    "lengths unsorted": ("length_of_rank", set_at(0, 200), "length_of_rank.npy"),
    "row past the end": ("row_of_rank", set_at(0, 10**6), "past the last sentence"),
    "row twice": ("row_of_rank", set_at(0, 1), "repeats a sentence"),
    "blocks shifted": ("blocks", lambda v, _: v + np.int64(v > 0), "blocks.npy"),
    "bound rises": ("bounds", raise_a_later_bound, "bounds.npy is not ascending"),
    "bound not a number": ("bounds", set_at(0, float("nan")), "bounds.npy holds a value"),
    "idf short": ("idf", lambda v, _: v[:-1], "entries in idf.npy"),
    "idf infinite": ("idf", set_at(0, float("inf")), "idf.npy holds a value"),
    "lengths disagree": ("doc_len", set_at(0, 99), "disagrees with doc_len.npy"),
    "sentence offsets past the text": ("sentence_offsets", set_at(-1, 10**9), "sentence_offsets"),
    "articles past the sentences": ("article_first", set_at(-1, 10**6), "article_first.npy"),
    "ranks as floats": (
        "ranks",
        lambda v, _: v.astype(np.float64),
        "ranks.npy holds a 1-d float64",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_an_array_that_would_misguide_the_kernel_is_refused(seed_copy: Path, case: str) -> None:
    name, change, message = BROKEN[case]
    rewrite(current_generation(seed_copy), name, change)
    with pytest.raises(IndexFormatError, match=message):
        NewsIndex.load(seed_copy)


def test_the_seed_index_has_what_the_cases_above_damage(built: Path) -> None:
    """The cases assume several directory entries, tf >= 2 postings and short sentences."""
    folder = segment_folder(built)
    arrays = {name: np.load(layout.array_path(folder, name)) for name in SEGMENT_ARRAYS}
    assert len(arrays["dir_start"]) > 2
    assert len(arrays["codes"]) > 0
    assert arrays["length_of_rank"].dtype == np.uint8
    assert int(arrays["length_of_rank"].max()) < 200
    assert int(np.diff(arrays["blocks"]).max()) >= 2
