"""`newsbot index --ray`: the embedding of a build as Ray tasks on a real local cluster (#21).

The cluster is `--ray local`'s: a private one of this machine, every process on 127.0.0.1 with
token authentication on (`index.scale.ray_connect.connect`). A build through it writes vector
files byte-identical to the single-process build's, also when a task's worker dies mid-block;
without an address Ray is not imported.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from index.scale.ray_build import KILL_ONCE_ENV
from index.store.generations import current_generation
from tests.conftest import ROOT, SEEDS

pytest.importorskip("ray")

VECTOR_FILES = ("vector_codes.npy", "vector_keys.npy", "vector_scales.npy", "vector_signs.npy")
WORDS = (
    "minister bank rates inflation harbour storm election court oil wheat talks strike council "
    "river bridge exports shares union festival rescue budget drought vaccine rail airport"
).split()


def _generated(folder: Path, articles: int = 250, sentences: int = 10) -> Path:
    """Write articles of random sentences: 2,500 texts, so more than one block of tasks."""
    rng = random.Random(21)
    folder.mkdir(parents=True)
    for a in range(articles):
        body = " ".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
            for _ in range(sentences)
        )
        (folder / f"gen_{a:04d}.txt").write_text(f"Report {a} on {rng.choice(WORDS)}\n{body}\n")
    return folder


def _index(args: list[str], index_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `newsbot index` with `args` into `index_dir`, its environment plus `env`."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSBOT_RAY_ADDRESS": "", **env}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "index", *args, "--index-dir", str(index_dir)],
        env=full_env,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _vectors(index_dir: Path) -> dict[str, bytes]:
    folder = current_generation(index_dir)
    return {name: (folder / name).read_bytes() for name in VECTOR_FILES}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [str(SEEDS), str(_generated(tmp_path_factory.mktemp("gen") / "news"))]


@pytest.fixture(scope="module")
def single(sources: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The single-process build's vector files."""
    index_dir = tmp_path_factory.mktemp("single") / "index"
    _index(sources, index_dir)
    return _vectors(index_dir)


@pytest.mark.process
@pytest.mark.slow
def test_vectors_built_by_ray_tasks_are_the_single_process_ones(
    sources: list[str], single: dict[str, bytes], tmp_path: Path
) -> None:
    _index([*sources, "--ray", "local"], tmp_path / "index")
    assert len(single["vector_keys.npy"]) > 2048 * 8  # more than one block: order matters
    assert _vectors(tmp_path / "index") == single


@pytest.mark.process
@pytest.mark.slow
def test_a_task_whose_worker_dies_is_retried_and_the_vectors_are_the_same(
    sources: list[str], single: dict[str, bytes], tmp_path: Path
) -> None:
    killed = tmp_path / "killed"
    # The address from the environment this time, as the bot's builds would have it.
    _index(sources, tmp_path / "index", NEWSBOT_RAY_ADDRESS="local", **{KILL_ONCE_ENV: str(killed)})
    # The marker's creator died before returning: the build finished, so its block was retried.
    assert killed.exists(), "no task ran on the cluster"
    assert _vectors(tmp_path / "index") == single
