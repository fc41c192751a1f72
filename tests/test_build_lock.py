"""One build at a time per index folder: a second one says so and exits 2 (issue #9.6).

Before the lock, `newsbot index` from a shell while the bot ran `/reindex` could delete the other's
generation (`remove_stale`), leaving `CURRENT` naming a deleted folder.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.newsroom import BUILD_NICENESS, Newsroom
from index.answers.search import NewsIndex
from index.store.generations import BuildRunningError, GenerationWriter, current_generation
from tests.conftest import SEED_QUESTION, SEEDS, start_newsbot_index
from tests.test_crash_safety import write_corpus

HOLD = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1], is_singleton=True)
lock.acquire(timeout=0)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def held(seed_index: Path) -> Iterator[Path]:
    """The index folder, its writer lock held by another process."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seed_index / "LOCK")], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    yield seed_index
    holder.kill()
    holder.wait(timeout=10)
    holder.stdout.close()


@pytest.mark.process
def test_a_second_build_exits_2_with_one_line_and_the_index_stays(held: Path) -> None:
    before = current_generation(held)
    build = start_newsbot_index(held, [SEEDS])
    out, err = build.communicate(timeout=60)
    assert build.returncode == 2
    assert out == ""
    assert (
        err
        == f"newsbot: error: another build is running in {held}; try again when it has finished\n"
    )
    assert current_generation(held) == before
    assert NewsIndex.load(held).ask(SEED_QUESTION, 1).answers


@pytest.mark.process
def test_a_writer_in_this_process_is_refused_too(held: Path) -> None:
    with pytest.raises(BuildRunningError, match="another build is running"):
        GenerationWriter(held)
    assert sorted(p.name for p in held.iterdir()) == [
        "CURRENT",
        "LOCK",
        current_generation(held).name,
    ]


@pytest.mark.process
async def test_reindex_while_a_shell_build_runs_fails_and_keeps_serving(held: Path) -> None:
    newsroom = Newsroom([str(SEEDS)], held)
    await newsroom.open()
    serving = newsroom.generation
    result = await newsroom.rebuild()
    assert not result.ok
    assert result.summary == f"another build is running in {held}; try again when it has finished"
    assert newsroom.generation == serving
    (answer,) = (await newsroom.ask(SEED_QUESTION, 1)).answers
    assert "228.1" in answer.sentence


def wait_for_writer(index_dir: Path, process: subprocess.Popen[str], limit: float = 120) -> None:
    """Wait until `process` holds the index folder's writer lock (seen in /proc/locks).

    A fixed sleep was not enough on a loaded machine: the second build started first.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        lock = index_dir / "LOCK"
        # "1: FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF", by inode alone (an
        # overlay filesystem may show another device).
        if lock.exists() and f":{os.stat(lock).st_ino} " in Path("/proc/locks").read_text():
            return
        time.sleep(0.01)
    raise AssertionError("the first build never held the writer lock")


@pytest.mark.process
@pytest.mark.slow
def test_two_builds_at_once_leave_a_loadable_current_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scale test of BM25 builds: embedding thousands of sentences (issue #11) is not its subject.
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, articles=1500)
    index_dir = tmp_path / "index"
    outcomes = []
    for _ in range(3):
        # Full builds: an update with nothing to append would end before the second starts.
        first = start_newsbot_index(index_dir, [SEEDS, corpus], full=True)
        wait_for_writer(index_dir, first)  # it holds the lock: it is reading its sources
        second = start_newsbot_index(index_dir, [SEEDS], full=True)
        _, second_err = second.communicate(timeout=120)
        first.communicate(timeout=300)
        outcomes.append((first.returncode, second.returncode))
        assert "another build is running" in second_err
        news = NewsIndex.load(index_dir)
        assert news.n_articles == 1501
        # The generation a commit replaced stays (a bot may still serve it); nothing else.
        left = sorted(p.name for p in index_dir.iterdir() if p.name not in ("CURRENT", "LOCK"))
        assert news.folder.name in left and len(left) <= 2
    assert outcomes == [(0, 2)] * 3


@pytest.mark.process
async def test_a_stopping_bot_stops_its_rebuild_and_frees_the_lock(
    seed_index: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, articles=1500)  # a build of several seconds
    newsroom = Newsroom([str(SEEDS), str(corpus)], seed_index)
    await newsroom.open()
    serving = newsroom.generation
    task = newsroom.start_rebuild()
    deadline = time.monotonic() + 30
    while newsroom.build_process is None:
        assert time.monotonic() < deadline, "the rebuild never started its child"
        await asyncio.sleep(0.05)
    pid = newsroom.build_process.pid
    # The child yields the cores to the bot's questions (its workers inherit the niceness).
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + BUILD_NICENESS, 19)
    await newsroom.stop_rebuild()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone (and reaped), not left running with the lock
    result = await task
    assert not result.ok and newsroom.generation == serving
    with GenerationWriter(seed_index):  # the lock is free for the next build
        pass
    (answer,) = (await newsroom.ask(SEED_QUESTION, 1)).answers
    assert "228.1" in answer.sentence
