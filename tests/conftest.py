"""Shared fixtures: the seed articles, a fresh index folder, the shared corpora."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CORPUS = ROOT.parent / "shared" / "corpus"
SEED_QUESTION = "How much was trade between China and Russia in 2025?"
SEED_SENTENCE = (
    "Trade volumes between China and Russia have seen significant growth, reaching an "
    "impressive $228.1 billion in 2025."
)


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
