"""Sentences and articles are read with `pread`: never memory-mapped, a truncated file an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.answers.search import NewsIndex
from index.store.generations import current_generation
from tests.conftest import SEED_QUESTION

MAPS = Path("/proc/self/maps")


@pytest.mark.skipif(not MAPS.is_file(), reason="needs /proc/self/maps (Linux)")
def test_sentences_and_articles_are_read_without_a_memory_map(seed_index: Path) -> None:
    # Mapped, the pages a question touched stayed in the bot's RSS: at 1M sentences 120 MB of
    # sentences.bin after 300 questions, in 2 MB folios (docs/semantic.md, "Memory").
    news = NewsIndex.load(seed_index)
    (answer,) = news.ask(SEED_QUESTION, 1).answers
    assert "228.1" in answer.sentence
    assert news.articles_newest_first(limit=1)
    folder = str(current_generation(seed_index))
    mapped = {line.split()[-1] for line in MAPS.read_text().splitlines() if folder in line}
    assert not {f"{folder}/sentences.bin", f"{folder}/articles.jsonl"} & mapped


def test_a_sentence_past_the_end_of_a_truncated_file_is_an_error(seed_index: Path) -> None:
    # Read through a memory map, the same sentence would have killed the process (SIGBUS).
    news = NewsIndex.load(seed_index)
    texts = current_generation(seed_index) / "sentences.bin"
    last = news.n_sentences - 1
    assert news.sentence(last)
    texts.write_bytes(texts.read_bytes()[:10])
    with pytest.raises(ValueError, match=r"sentences\.bin ends before byte"):
        news.sentence(last)


def test_a_run_of_rows_read_at_once_is_each_row_as_read_alone(seed_index: Path) -> None:
    # A passage's sentences come in one `pread` (issue #20): split by their offsets, every one
    # must be the text `sentence` gives, in every article, an empty run giving none.
    archive = NewsIndex.load(seed_index).archive
    for article in range(archive.n_articles):
        first, last = archive.article_rows(article)
        assert archive.sentences(first, last) == [
            archive.sentence(r) for r in range(first, last + 1)
        ]
        assert archive.sentences(first, first - 1) == []
    texts = current_generation(seed_index) / "sentences.bin"
    texts.write_bytes(texts.read_bytes()[:10])
    with pytest.raises(ValueError, match=r"sentences\.bin ends before byte"):
        archive.sentences(0, archive.n_sentences - 1)
