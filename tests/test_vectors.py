"""Sentence vectors: sign bits, two-step top-k against the exhaustive scan, storage, checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.semantic.embedding import quantize, similarities
from index.semantic.signs import sign_bits, sign_dot, sign_words
from index.semantic.vectors import SentenceVectors, content_keys, embedding_text
from index.store import layout


def unit_rows(n: int, dimension: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exhaustive(vectors: SentenceVectors, query: np.ndarray, k: int) -> list[int]:
    scores = similarities(query, vectors.quantized)
    return [int(r) for r in np.lexsort((np.arange(len(scores)), -scores))[:k]]


def test_the_embedded_text_is_the_title_then_the_sentence() -> None:
    assert embedding_text("Xi and Putin talk", "He outlined three points.") == (
        "Xi and Putin talk: He outlined three points."
    )
    assert embedding_text("  ", "He outlined three points.") == "He outlined three points."


def test_content_keys_are_xxhash64_of_the_text() -> None:
    keys = content_keys(["a", "b", "a"])
    assert keys.dtype == np.uint64
    assert keys[0] == keys[2] != keys[1]
    assert int(keys[0]) == 0xD24EC4F1A98C6E5B  # xxh64("a")


def test_sign_bits_set_one_bit_per_positive_dimension() -> None:
    codes = np.zeros((2, 70), dtype=np.int8)
    codes[0, [0, 3, 64]] = 5
    codes[1, [1, 69]] = 1
    codes[1, 0] = -3
    bits = sign_bits(codes)
    assert sign_words(70) == 2
    assert bits.tolist() == [[0b1001, 1], [0b10, 1 << 5]]


def test_top_k_is_the_exhaustive_scan_on_small_data() -> None:
    vectors = SentenceVectors.from_vectors(unit_rows(500))
    query = unit_rows(1, seed=1)[0]
    rows, scores = vectors.top_k(query, 10)
    assert rows.tolist() == exhaustive(vectors, query, 10)
    assert scores.tolist() == sorted(scores.tolist(), reverse=True)
    np.testing.assert_allclose(scores, vectors.similarities(query, rows), rtol=1e-6)


def test_the_three_steps_with_every_row_a_candidate_are_exhaustive() -> None:
    vectors = SentenceVectors.from_vectors(unit_rows(70_000))
    query = unit_rows(1, seed=2)[0]
    rows, _ = vectors.top_k(query, 10, sign_candidates=70_000, candidates=69_999)
    assert rows.tolist() == exhaustive(vectors, query, 10)


def test_the_sign_dot_product_ranks_like_the_query_dot_the_signs() -> None:
    codes = quantize(unit_rows(50, dimension=100)).codes
    query = unit_rows(1, dimension=100, seed=5)[0]
    estimates = sign_dot(sign_bits(codes), np.arange(50, dtype=np.int64), query)
    expected = (codes > 0).astype(np.float32) @ query
    np.testing.assert_allclose(estimates, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_sign_bits_find_near_duplicates_among_many_rows() -> None:
    """Ten rows planted near the query are the ten found through 4,096 of 100,000 candidates."""
    base = unit_rows(100_000)
    query = unit_rows(1, seed=3)[0]
    planted = [5, 17_000, 33_333, 50_001, 61_234, 70_000, 81_111, 90_000, 95_555, 99_999]
    noise = unit_rows(10, seed=4)
    for n, row in enumerate(planted):
        near = query + (0.3 + 0.05 * n) * noise[n]
        base[row] = near / np.linalg.norm(near)
    vectors = SentenceVectors.from_vectors(base)
    rows, _ = vectors.top_k(query, 10)
    assert rows.tolist() == planted


def test_ties_go_to_the_lower_row() -> None:
    vectors = SentenceVectors.from_vectors(np.repeat(unit_rows(1), 5, axis=0))
    rows, _ = vectors.top_k(unit_rows(1)[0], 3)
    assert rows.tolist() == [0, 1, 2]


def test_k_beyond_the_rows_and_zero() -> None:
    vectors = SentenceVectors.from_vectors(unit_rows(4))
    assert len(vectors.top_k(unit_rows(1)[0], 10)[0]) == 4
    assert len(vectors.top_k(unit_rows(1)[0], 0)[0]) == 0


def save_with_header(vectors: SentenceVectors, folder: Path) -> Path:
    folder.mkdir()
    vectors.save(folder)
    (folder / layout.HEADER).write_text(json.dumps({"vectors": vectors.header()}))
    return folder


def test_saved_vectors_load_memory_mapped_and_equal(tmp_path: Path) -> None:
    original = SentenceVectors.from_vectors(unit_rows(300), np.arange(300, dtype=np.uint64))
    folder = save_with_header(original, tmp_path / "gen")
    loaded = SentenceVectors.load(folder)
    assert loaded is not None
    assert (loaded.n_rows, loaded.dimension, loaded.model) == (300, 384, original.model)
    assert isinstance(loaded.codes.base, np.memmap)
    assert np.array_equal(loaded.codes, original.codes)
    assert np.array_equal(loaded.signs, original.signs)
    assert loaded.keys.tolist() == list(range(300))
    rows = np.array([299, 0, 150, 0])
    query = unit_rows(1, seed=9)[0]
    assert np.array_equal(loaded.similarities(query, rows), original.similarities(query, rows))
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.json",
        "vector_codes.npy",
        "vector_keys.npy",
        "vector_scales.npy",
        "vector_signs.npy",
    ]


def test_a_generation_without_vectors_loads_none(tmp_path: Path) -> None:
    (tmp_path / layout.HEADER).write_text("{}")
    assert SentenceVectors.load(tmp_path) is None


def test_codes_of_the_wrong_length_are_refused(tmp_path: Path) -> None:
    folder = save_with_header(SentenceVectors.from_vectors(unit_rows(10)), tmp_path / "gen")
    layout.save_array(folder, "vector_codes", np.zeros(9 * 384, dtype=np.int8))
    with pytest.raises(ValueError, match=r"3,456 entries in vector_codes.npy where 3,840 belong"):
        SentenceVectors.load(folder)


def test_a_scale_that_is_not_finite_is_refused(tmp_path: Path) -> None:
    stored = quantize(unit_rows(3))
    stored.scales[1] = np.nan
    vectors = SentenceVectors.from_quantized(stored)
    folder = save_with_header(vectors, tmp_path / "gen")
    with pytest.raises(ValueError, match=r"vector_scales\.npy holds a value that is not finite"):
        SentenceVectors.load(folder)


def test_codes_of_another_dtype_are_refused(tmp_path: Path) -> None:
    folder = save_with_header(SentenceVectors.from_vectors(unit_rows(2)), tmp_path / "gen")
    np.save(layout.array_path(folder, "vector_codes"), np.zeros(768, dtype=np.int16))
    with pytest.raises(ValueError, match=r"vector_codes.npy holds a 1-d int16 array"):
        SentenceVectors.load(folder)
