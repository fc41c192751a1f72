"""A killed indexer never leaves an unloadable index: SIGKILL at random moments, then check.

Full builds (`newsbot index --full`), and updates (`newsbot index`): appends, merges of
segments and compactions, each killed at least 20 times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from index.answers.search import NewsIndex
from tests.conftest import SEED_QUESTION, SEED_SENTENCE, SEEDS, start_newsbot_index

# Each test runs ~2 minutes on a quiet machine; a loaded one (another xdist worker) needs more.
pytestmark = [pytest.mark.process, pytest.mark.slow, pytest.mark.timeout(900)]

KILLS = 24


def write_corpus(path: Path, articles: int, *, seed: int = 7, prefix: str = "a") -> None:
    """Write a JSON Lines corpus big enough that building it takes a while.

    Corpora of different seeds share no article (by id with different prefixes, by text).
    """
    rng = random.Random(seed)
    seed_lines = (SEEDS / "000_00f4f1af09a5d285.txt").read_text().splitlines()[2:]
    words = " ".join(seed_lines).split()
    with path.open("w") as out:
        for n in range(articles):
            body = "\n".join(
                " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))) + "."
                for _ in range(rng.randint(10, 30))
            )
            article = {"id": f"{prefix}{n}", "title": f"Article {prefix}{n}", "text": body}
            out.write(json.dumps(article) + "\n")


def start_build(
    sources: list[Path], index_dir: Path, *, full: bool = True, remove: Sequence[Path] = ()
) -> subprocess.Popen[str]:
    return start_newsbot_index(index_dir, sources, subprocess.DEVNULL, full=full, remove=remove)


def generations(index_dir: Path) -> list[str]:
    """Return what is left in an index folder but `CURRENT` and `LOCK`."""
    return sorted(p.name for p in index_dir.iterdir() if p.name not in ("CURRENT", "LOCK"))


def wait_for_write(index_dir: Path, process: subprocess.Popen[str], limit: float) -> None:
    """Wait until the build has started writing a new generation (or has ended)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".tmp-") for p in index_dir.iterdir()):
            return
        time.sleep(0.002)


def kill_at_random(
    process: subprocess.Popen[str],
    index_dir: Path,
    lasts: float,
    rng: random.Random,
    anywhere: bool,
) -> str:
    """SIGKILL a build that `lasts` about so long: anywhere in its run, or while it writes.

    Returns "killed", or "finished" when it ended first.
    """
    if anywhere:
        time.sleep(rng.uniform(0.05, lasts))
    else:
        wait_for_write(index_dir, process, lasts * 2)  # while it writes the new generation
        time.sleep(rng.uniform(0, 0.05))
    outcome = "finished"
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        outcome = "killed"
    process.wait(timeout=60)
    return outcome


def test_sigkill_during_builds_never_breaks_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scale test of BM25 builds: embedding thousands of sentences (issue #11) is not its subject.
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, articles=1500)
    index_dir = tmp_path / "index"
    first = start_build([SEEDS], index_dir)
    assert first.wait(timeout=120) == 0
    started = time.monotonic()
    assert start_build([SEEDS, corpus], index_dir).wait(timeout=300) == 0
    full = time.monotonic() - started
    complete = NewsIndex.load(index_dir)
    expected = (complete.n_articles, complete.n_sentences)
    assert complete.n_articles == 1501

    rng = random.Random(2026)
    outcomes = {"killed": 0, "finished": 0}
    # Under load a build may end before its kill: attempts go on until KILLS kills (at most
    # twice as many; 18 of 24 attempts were kills in a loaded run).
    for attempt in range(2 * KILLS):
        if outcomes["killed"] == KILLS:
            break
        process = start_build([SEEDS, corpus], index_dir)
        outcomes[kill_at_random(process, index_dir, full, rng, attempt % 2 == 1)] += 1

        news = NewsIndex.load(index_dir)  # the previous (or the new, complete) generation
        assert (news.n_articles, news.n_sentences) == expected
        assert news.ask(SEED_QUESTION, k=5).answers
        assert news.sentence(news.n_sentences - 1)  # the last sentence is readable

    assert outcomes["killed"] == KILLS, outcomes
    # The index is an archive: the corpus's articles leave when it is removed as a source.
    assert start_build([SEEDS], index_dir, remove=[corpus]).wait(timeout=120) == 0
    news = NewsIndex.load(index_dir)
    assert news.n_articles == 1
    assert news.ask(SEED_QUESTION, k=1).answers[0].sentence == SEED_SENTENCE
    # No partial folder is left; the generation it replaced stays (a bot may still serve it).
    leftovers = generations(index_dir)
    assert news.folder.name in leftovers and len(leftovers) == 2
    assert all(name.startswith("gen-") for name in leftovers)


def test_sigkill_during_appends_merges_and_compactions_never_breaks_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    base, extra = tmp_path / "base.jsonl", tmp_path / "extra.jsonl"
    write_corpus(base, articles=1200)
    write_corpus(extra, articles=600, seed=8, prefix="x")
    index_dir = tmp_path / "index"
    assert start_build([SEEDS, base], index_dir).wait(timeout=300) == 0
    counts = {1201: NewsIndex.load(index_dir).n_sentences}
    # Each run flips the sources: 600 articles appended (a merge of segments follows when the
    # policy asks), or removed again (600 of 1,801 rows masked: compacted, past 25% dead).
    with_extra = False
    started = time.monotonic()
    assert start_build([SEEDS, base, extra], index_dir, full=False).wait(timeout=300) == 0
    update = time.monotonic() - started
    appended = NewsIndex.load(index_dir)
    assert appended.n_articles == 1801
    assert len(appended.bm25.segments) == 1  # the new segment merged into the old (2x, < 4x)
    counts[1801] = appended.n_sentences
    with_extra = True

    rng = random.Random(12)
    outcomes = {"killed": 0, "finished": 0}
    # Removals end sooner than appends: attempts go on until KILLS kills (at most twice as many).
    for attempt in range(2 * KILLS):
        if outcomes["killed"] == KILLS:
            break
        sources = [SEEDS, base] + [extra] * (not with_extra)
        before = 1801 if with_extra else 1201
        # An archive keeps a source's articles until it is removed (not counted as removals).
        removed = [extra] if with_extra else []
        process = start_build(sources, index_dir, full=False, remove=removed)
        outcomes[kill_at_random(process, index_dir, update, rng, attempt % 2 == 1)] += 1

        news = NewsIndex.load(index_dir)  # the previous generation, or the new complete one
        assert news.n_articles in (1201, 1801)
        assert news.n_sentences == counts[news.n_articles]
        with_extra = news.n_articles == 1801
        if process.returncode == 0:  # it ran to the end: appended, or masked and compacted
            assert news.n_articles != before
            assert len(news.bm25.segments) == 1 and news.archive.live_sentences is None
        assert news.ask(SEED_QUESTION, k=5).answers
        assert news.sentence(int(news.live_rows[-1]))

    assert outcomes["killed"] == KILLS, outcomes
    # Whatever was killed, updates run to their end: the extra articles appended, then removed
    # (compacted), leaving one generation and nothing else.
    for sources, articles, removed in (
        ([SEEDS, base, extra], 1801, []),
        ([SEEDS, base], 1201, [extra]),
    ):
        assert start_build(sources, index_dir, full=False, remove=removed).wait(timeout=300) == 0
        news = NewsIndex.load(index_dir)
        assert (news.n_articles, news.n_sentences) == (articles, counts[articles])
        assert len(news.bm25.segments) == 1 and news.archive.live_sentences is None
    leftovers = generations(index_dir)
    assert news.folder.name in leftovers and len(leftovers) == 2
