"""Write a generation's archive: sentence texts, article metadata, bodies and dates, with offsets.

The writing side of `index.store.archive` (file names and dtypes in `index.store.layout`): a full
build (`index.store.build`) writes these files whole, an append (`index.store.update`) copies
them and appends, with `article_line` and `write_dates`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.model import Article
from index.store import layout
from index.store.archiving import article_keys


def write_sentences(
    folder: Path,
    texts: list[bytes],
    text_offsets: list[npt.NDArray[np.int64]],
    per_article: list[npt.NDArray[np.int32]],
) -> None:
    """Write sentence texts as one UTF-8 blob with byte offsets, and each article's first row."""
    starts = np.cumsum([0] + [len(t) for t in texts[:-1]], dtype=np.int64)
    offsets = np.zeros(1, dtype=np.int64)
    if texts:
        offsets = np.concatenate(
            [np.zeros(1, dtype=np.int64)]
            + [o[1:] + start for o, start in zip(text_offsets, starts.tolist(), strict=True)]
        )
    counts = np.concatenate([np.zeros(0, dtype=np.int32), *per_article])
    article_first = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=article_first[1:])
    with (folder / layout.SENTENCE_TEXTS).open("wb") as f:
        for text in texts:
            f.write(text)
    layout.save_array(folder, "sentence_offsets", offsets)
    layout.save_array(folder, "article_first", article_first)


def write_articles(folder: Path, articles: Sequence[Article]) -> None:
    """Write article metadata as JSON lines, and bodies as one blob, with byte offsets."""
    for name, offsets_name, parts in (
        (layout.ARTICLE_LINES, "article_offsets", [article_line(a) for a in articles]),
        (layout.ARTICLE_BODIES, "body_offsets", [a.text.encode("utf-8") for a in articles]),
    ):
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(part) for part in parts], out=offsets[1:])
        (folder / name).write_bytes(b"".join(parts))
        layout.save_array(folder, offsets_name, offsets)
    write_dates(folder, [a.date for a in articles])
    ids, keys = article_keys(articles)
    layout.save_array(folder, "article_ids", ids)
    layout.save_array(folder, "article_keys", keys)


def write_dates(folder: Path, dates: list[str | None]) -> None:
    """Write every article's date, by article row, as one JSON list (`index.store.archive`)."""
    (folder / layout.ARTICLE_DATES).write_text(json.dumps(dates), encoding="utf-8")


def article_line(article: Article) -> bytes:
    """Return an article's metadata (all but its body) as one line of JSON."""
    meta = {k: v for k, v in asdict(article).items() if k != "text"}
    return (json.dumps(meta, ensure_ascii=False) + "\n").encode("utf-8")
