"""Shared fixtures: the seed articles, a fresh index folder, the shared corpora."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from index.store.build import build_index
from index.store.generations import current_generation, read_header
from tests.fake_telegram import FakeTelegram
from tests.harness import RunningBot, bot_settings, running_bot

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CORPUS = ROOT.parent / "shared" / "corpus"
SEED_QUESTION = "How much was trade between China and Russia in 2025?"
SEED_SENTENCE = (
    "Trade volumes between China and Russia have seen significant growth, reaching an "
    "impressive $228.1 billion in 2025."
)


# A file of a generation's (first) segment, in test parameters: `segment/<file>`.
SEGMENT = "segment/"


def locate(generation: Path, name: str) -> Path:
    """Return file `name` of a generation folder; `segment/<file>` is in its first segment."""
    if name.startswith(SEGMENT):
        segment = read_header(generation)["segments"][0]["name"]
        return generation / segment / name.removeprefix(SEGMENT)
    return generation / name


def segment_folder(index_dir: Path) -> Path:
    """Return the folder of the current generation's first segment (its BM25 arrays)."""
    generation = current_generation(index_dir)
    return generation / read_header(generation)["segments"][0]["name"]


def start_newsbot_index(
    index_dir: Path,
    sources: Sequence[Path],
    output: int = subprocess.PIPE,
    *,
    full: bool = False,
    remove: Sequence[Path] = (),
) -> subprocess.Popen[str]:
    """Start `newsbot index --json` (with `--full`, `--remove`) on `sources` as a process."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "index", "--json", "--index-dir", str(index_dir)]
        + ["--full"] * full
        + [f"--remove={s}" for s in remove]
        + [str(s) for s in sources],
        cwd=ROOT,
        stdout=output,
        stderr=output,
        text=True,
    )


@pytest.fixture(scope="session", autouse=True)
def own_data_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Give this test process (each pytest-xdist worker) per-user folders of its own.

    The default index folder, the bot's state database and numba's fallback cache live under
    them (platformdirs): two workers, or a test and the developer's own bot, never share one.
    """
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name, sub in (
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CACHE_HOME", "cache"),
            ("XDG_CONFIG_HOME", "config"),
        ):
            patch.setenv(name, str(home / sub))
        yield


@pytest.fixture
def corpus() -> Path:
    """Return ../shared/corpus, or skip the test with the reason."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpora not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def index_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point NEWSBOT_INDEX_DIR at an empty folder and NEWSBOT_SOURCES at the seeds."""
    index_dir = tmp_path / "index"
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("NEWSBOT_SOURCES", str(SEEDS))
    return index_dir


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A strict fake Bot API server on 127.0.0.1."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def seed_index(tmp_path: Path, seed_index_once: Path) -> Path:
    """An index of the seeds, the test's own copy (it may damage or rebuild it)."""
    folder = tmp_path / "index"
    shutil.copytree(seed_index_once, folder)
    return folder


@pytest.fixture(scope="session")
def seed_index_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed index, built once per test session (with vectors: about 1.3 s of CPU)."""
    folder = tmp_path_factory.mktemp("seed") / "index"
    build_index([SEEDS], folder)
    return folder


@pytest.fixture
async def bot(telegram: FakeTelegram, seed_index: Path) -> AsyncIterator[RunningBot]:
    """newsbot on the seed index, polling the fake server; ADMIN is its admin."""
    async with running_bot(telegram, bot_settings(telegram, seed_index, [SEEDS])) as running:
        yield running


@pytest.fixture(scope="session")
def wikinews_index_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed and the 43 Wikinews articles, with sentence vectors: built (embedded) once per
    test session, for the quality floors of the product's path (tests/test_quality_floors.py)."""
    if not (CORPUS / "wikinews-gum" / "articles.jsonl").is_file():
        pytest.skip(f"shared corpora not found at {CORPUS}")
    from bench.eval_index import read_articles
    from index.store.build import build_from_articles
    from index.store.build_settings import BuildSettings

    folder = tmp_path_factory.mktemp("wikinews") / "index"
    build_from_articles(read_articles(), folder, BuildSettings(workers=1))
    return folder
