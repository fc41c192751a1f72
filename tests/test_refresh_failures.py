"""The refresh and sources that fail: a vanished folder is failing, not healthy, and starts no
build; a failed update is told to the admins once and not started again until something changes
(issue #18). Through the real bot, a folder source and the fake Bot API.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN
from tests.test_build_lock import HOLD
from tests.test_refresh import ask, refreshing_bot, until

pytestmark = [pytest.mark.process, pytest.mark.slow]

COUNCIL = (
    "---\ntitle: Council passes the budget\ndate: 2026-02-10\n---\n"
    "The Springfield council passed the budget for the new library.\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    news = tmp_path / "news"
    news.mkdir()
    (news / "council.md").write_text(COUNCIL)
    return news


@contextmanager
def lock_held(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's writer lock from another process, as a shell build would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(index_dir / "LOCK")], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()


async def test_a_vanished_folder_is_failing_and_starts_no_build(
    telegram: FakeTelegram, tmp_path: Path, folder: Path
) -> None:
    async with refreshing_bot(telegram, tmp_path, [str(folder)]) as bot:
        refresher = bot.state.refresher
        assert refresher is not None
        serving = bot.state.newsroom.generation

        async def rescans(n: int) -> None:
            for _ in range(n):
                seen = refresher.files_checked
                await until(lambda s=seen: refresher.files_checked != s, what="a rescan")

        await rescans(1)
        shutil.rmtree(folder)
        await rescans(4)
        assert refresher.rebuilds == 0
        lines = ((await ask(telegram, ADMIN, "/feeds")).text or "").splitlines()
        assert lines[2] == f"📁 {folder}"
        error = next(line for line in lines if "last error" in line)
        assert error.endswith(": not found (moved, deleted or unmounted?)")
        assert lines[-2] == "  1 article indexed"  # the index keeps its articles

        folder.mkdir()
        (folder / "council.md").write_text(COUNCIL)  # back, as it was
        await rescans(3)
        assert refresher.rebuilds == 0
        assert bot.state.newsroom.generation == serving
        healthy = (await ask(telegram, ADMIN, "/feeds")).text or ""
        assert "last error" not in healthy


async def test_a_failed_update_is_told_once_and_waits_for_a_change(
    telegram: FakeTelegram, tmp_path: Path, folder: Path
) -> None:
    async with refreshing_bot(telegram, tmp_path, [str(folder)]) as bot:
        refresher = bot.state.refresher
        newsroom = bot.state.newsroom
        assert refresher is not None
        serving = newsroom.generation

        async def rescans(n: int) -> None:
            for _ in range(n):
                seen = refresher.files_checked
                await until(lambda s=seen: refresher.files_checked != s, what="a rescan")

        with lock_held(newsroom.index_dir):
            (folder / "bridge.md").write_text(
                "Bridge closes\nThe river bridge closed for repairs.\n"
            )
            told = await telegram.wait_for_messages(ADMIN, 1, timeout=30)
            assert (told[0].text or "").startswith(
                "❌ The scheduled update failed: another build is running in "
            )
            await rescans(5)
            assert refresher.rebuilds == 1  # the same inputs are not built again
        await rescans(3)
        assert refresher.rebuilds == 1  # the lock is free, but nothing changed
        assert len(telegram.chats[ADMIN].bot_messages) == 1  # told once

        (folder / "ferry.md").write_text("Ferry strike\nZanzibar ferry operators went on strike.\n")
        await until(lambda: newsroom.generation != serving, what="a rebuild")
        assert refresher.rebuilds == 2
        assert newsroom.index is not None and newsroom.index.n_articles == 3


async def test_an_update_refused_for_removing_too_much_is_told_and_commits_nothing(
    telegram: FakeTelegram, tmp_path: Path, folder: Path
) -> None:
    for n in range(4):
        (folder / f"story{n}.md").write_text(f"Story {n}\nThe harbour reopened on day {n}.\n")
    async with refreshing_bot(telegram, tmp_path, [str(folder)]) as bot:
        newsroom = bot.state.newsroom
        serving = newsroom.generation
        for n in range(4):
            (folder / f"story{n}.md").unlink()  # 4 of 5 articles: past NEWSBOT_MAX_REMOVAL
        told = await telegram.wait_for_messages(ADMIN, 1, timeout=30)
        assert told[0].text == (
            "❌ The scheduled update failed: nothing committed, the index is as it was: the "
            "update would remove 4 of 5 articles (80%), more than NEWSBOT_MAX_REMOVAL=20% (raise "
            "it to allow this). I'll try again when a source changes, or at /reindex."
        )
        assert newsroom.generation == serving
        assert newsroom.index is not None and newsroom.index.n_articles == 5


async def test_a_folder_named_relative_is_the_folder_the_index_read(
    telegram: FakeTelegram, tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # NEWSBOT_SOURCES=news: the index reads it as /.../news
    async with refreshing_bot(telegram, tmp_path, ["news"]) as bot:
        refresher = bot.state.refresher
        assert refresher is not None

        async def rescans(n: int) -> None:
            for _ in range(n):
                seen = refresher.files_checked
                await until(lambda s=seen: refresher.files_checked != s, what="a rescan")

        await rescans(3)
        assert refresher.rebuilds == 0  # the same files, whatever their spelling
        shutil.rmtree(folder)
        await rescans(3)
        assert refresher.rebuilds == 0
        feeds = (await ask(telegram, ADMIN, "/feeds")).text or ""
        assert "not found (moved, deleted or unmounted?)" in feeds
