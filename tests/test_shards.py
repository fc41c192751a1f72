"""A sharded index ranks exactly as the single index and rank_bm25 (issue #21, in process).

Random corpora go through random updates (appends, changes, removals, merges, compactions) with
1-5 shards; after each, every question's top-k through the shards (`index.scale.sharded`, the
in-process backend) is the single index's rows and scores bit for bit, and rank_bm25's over the
live sentences. The vectors likewise: shards' cosine top-k merged is the whole set's.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.answers.search import NewsIndex
from index.scale.sharded import UNAVAILABLE, InProcessShards, ShardedNewsIndex, ShardsUnavailable
from index.scale.shards import ShardReply, ShardRequest, merged, shard_folder, shard_of_rows
from index.semantic.vectors import SentenceVectors
from index.store import layout, update
from index.store.build import build_from_articles, build_index
from index.store.build_settings import BuildSettings
from index.store.generations import IndexFormatError, current_generation
from index.text.timeframe import Period
from tests.conftest import ROOT, SEED_QUESTION, SEEDS
from tests.fake_telegram import FakeTelegram
from tests.harness import USER, RunningBot
from tests.test_bot import ask
from tests.test_segments import WORDS, story


def sharded_settings(n_shards: int | None) -> BuildSettings:
    """BM25 only, one worker, `n_shards` shards."""
    return BuildSettings(semantic=False, workers=1, shards=n_shards)


def open_sharded(index_dir: Path) -> ShardedNewsIndex:
    """The current generation through its shards, all in this process."""
    return ShardedNewsIndex.open(index_dir, InProcessShards, semantic=False)


def assert_same_top_k(
    single: NewsIndex, sharded: ShardedNewsIndex, rng: random.Random, questions: int = 12
) -> None:
    """Top-k of random questions: the shards' equal the single index's and rank_bm25's."""
    live = single.live_rows
    okapi = BM25Okapi([single.analyzer.terms(single.sentence(int(row))) for row in live])
    always = Period(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), "")
    for _ in range(questions):
        terms = single.analyzer.terms(" ".join(rng.choices(WORDS, k=rng.randint(1, 5))))
        k = rng.choice([1, 3, 10])
        rows, scores = single.bm25.top_k(terms, k)
        shard_rows, shard_scores = sharded.bm25.top_k(terms, k)
        assert shard_rows.tolist() == rows.tolist()
        assert shard_scores.tobytes() == scores.tobytes()  # bit for bit
        expected = np.zeros(single.bm25.n_rows)
        expected[live] = okapi.get_scores(terms)
        positive = np.flatnonzero(expected > 0)
        best = positive[np.lexsort((positive, -expected[positive]))][:k]
        assert rows.tolist() == best.tolist()
        assert np.array_equal(scores, expected[best])
        within = single.sentences_in(always)
        assert sharded.bm25.top_k(terms, k, within)[0].tolist() == (
            single.bm25.top_k(terms, k, within)[0].tolist()
        )


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_shards=st.integers(1, 5),
    compact=st.sampled_from([0.25, 0.6, 2.0]),
)
def test_every_update_through_any_shard_count_ranks_as_the_single_index(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n_shards: int, compact: float
) -> None:
    rng = random.Random(seed)
    index_dir = tmp_path_factory.mktemp("shards") / "index"
    articles = {f"a{i}": story(rng, f"a{i}") for i in range(rng.randint(1, 12))}
    saved = update.COMPACT_DEAD, update.MAX_SEGMENTS
    update.COMPACT_DEAD, update.MAX_SEGMENTS = compact, 3
    try:
        build_from_articles(list(articles.values()), index_dir, sharded_settings(n_shards))
        for _ in range(5):
            for _ in range(rng.randint(0, 5)):
                article_id = f"a{rng.randint(0, 20)}"
                articles[article_id] = story(rng, article_id)
            for article_id in rng.sample(
                sorted(articles), min(len(articles) - 1, rng.randint(0, 3))
            ):
                del articles[article_id]
            # No shard count named: an update keeps the current generation's.
            build_from_articles(
                list(articles.values()), index_dir, sharded_settings(None), full=False
            )
            single = NewsIndex.load(index_dir, semantic=False)
            assert_same_top_k(single, open_sharded(index_dir), rng)
    finally:
        update.COMPACT_DEAD, update.MAX_SEGMENTS = saved


def test_shards_hold_whole_articles_and_every_row_once(tmp_path: Path) -> None:
    rng = random.Random(11)
    index_dir = tmp_path / "index"
    articles = [story(rng, f"a{i}") for i in range(30)]
    build_from_articles(articles, index_dir, sharded_settings(3))
    folder = current_generation(index_dir)
    rows = [np.asarray(layout.load_array(shard_folder(folder, s), "global_rows")) for s in range(3)]
    assert sorted(np.concatenate(rows).tolist()) == list(range(sum(map(len, rows))))
    assert all(len(r) for r in rows)  # 30 articles: none of 3 shards is empty
    owner = shard_of_rows(folder, 3)
    first = np.asarray(layout.load_array(folder, "article_first"))
    for a, b in zip(first[:-1].tolist(), first[1:].tolist(), strict=True):
        assert len(set(owner[a:b].tolist())) == 1  # an article's sentences stay together
    for shard, shard_rows in enumerate(rows):
        assert set(owner[shard_rows].tolist()) == {shard}


def test_an_update_hard_links_the_shard_segments_it_keeps(tmp_path: Path) -> None:
    rng = random.Random(5)
    index_dir = tmp_path / "index"
    articles = [story(rng, f"a{i}") for i in range(40)]
    build_from_articles(articles, index_dir, sharded_settings(2))
    before = current_generation(index_dir)
    kept = next(p for p in shard_folder(before, 0).iterdir() if p.name.startswith("seg-"))
    inode = (kept / "ranks.npy").stat().st_ino
    build_from_articles(
        [*articles, story(rng, "b1")], index_dir, sharded_settings(None), full=False
    )
    after = shard_folder(current_generation(index_dir), 0)
    assert (after / kept.name / "ranks.npy").stat().st_ino == inode
    assert len([p for p in after.iterdir() if p.name.startswith("seg-")]) in (1, 2)


def test_an_index_without_shards_says_how_to_write_them(tmp_path: Path) -> None:
    rng = random.Random(2)
    index_dir = tmp_path / "index"
    build_from_articles([story(rng, "a1")], index_dir, sharded_settings(0))
    with pytest.raises(IndexFormatError, match="--shards"):
        open_sharded(index_dir)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_shards=st.integers(1, 5), n_rows=st.integers(1, 600))
def test_shards_vector_top_k_merged_is_the_whole_sets(
    seed: int, n_shards: int, n_rows: int
) -> None:
    rng = np.random.default_rng(seed)
    dimension = 32
    raw = rng.normal(size=(n_rows, dimension)).astype(np.float32)
    raw[rng.integers(0, n_rows, size=n_rows // 4)] = raw[0]  # exact ties, broken by row
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    whole = SentenceVectors.from_vectors(raw)
    query = raw[int(rng.integers(0, n_rows))].copy()
    owner = rng.integers(0, n_shards, size=n_rows)
    within = rng.random(n_rows) < 0.8 if seed % 2 else None
    k = int(rng.integers(1, 40))
    parts = []
    for shard in range(n_shards):
        rows = np.flatnonzero(owner == shard)
        part = whole.kept(owner == shard)
        flags = None if within is None else within[rows]
        local, cosines = part.top_k(query, k, within=flags)
        parts.append((rows[local], cosines))
        assert part.similarities(query, local).tobytes() == (
            whole.similarities(query, rows[local]).tobytes()
        )
    rows, cosines = whole.top_k(query, k, within=within)
    found_rows, found_cosines = merged(parts, k)
    assert found_rows.tolist() == rows.tolist()
    assert found_cosines.tobytes() == cosines.tobytes()


def test_seed_answers_through_shards_in_process_are_the_single_indexes(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index([SEEDS], index_dir, BuildSettings(shards=2))
    single = NewsIndex.load(index_dir)
    sharded = ShardedNewsIndex.open(index_dir, InProcessShards)
    assert sharded.vectors is not None and sharded.encoder is not None
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "bench" / "questions" / "dev.jsonl").read_text().splitlines()
        if line.strip() and json.loads(line)["article_id"] == "seed"
    ]
    assert len(questions) > 10
    for question in questions:
        assert sharded.ask(question) == single.ask(question), question


@pytest.mark.process
@pytest.mark.parametrize("command", ["ask", "index"])
def test_without_an_address_ray_is_not_even_imported(
    command: str, seed_index: Path, tmp_path: Path
) -> None:
    argv = {
        "ask": ["ask", "--index-dir", str(seed_index), "--lexical-only", "trade"],
        "index": ["index", str(SEEDS), "--index-dir", str(tmp_path / "fresh")],
    }[command]
    said = {"ask": "China", "index": "Indexed 1 article"}[command]
    program = (
        "import sys; from bot.cli import main; status = main(sys.argv[1:]); "
        "assert 'ray' not in sys.modules, 'ray imported'; sys.exit(status)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSBOT_RAY_ADDRESS": ""}
    done = subprocess.run(
        [sys.executable, "-c", program, *argv],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert said in done.stdout


class OneShardDown(InProcessShards):
    """The in-process shards with shard 1 lost: what a cluster with no live replica of it does."""

    def search(self, request: ShardRequest) -> list[ShardReply]:
        raise ShardsUnavailable([1], "no replica")


async def test_the_bot_says_part_of_the_archive_is_unavailable(
    bot: RunningBot, telegram: FakeTelegram, tmp_path: Path
) -> None:
    index_dir = tmp_path / "sharded"
    build_index([SEEDS], index_dir, BuildSettings(shards=2))
    bot.state.newsroom.index = ShardedNewsIndex.open(index_dir, OneShardDown)
    reply = await ask(telegram, USER, SEED_QUESTION)
    assert reply.text == UNAVAILABLE
