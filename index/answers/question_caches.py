"""What a loaded generation keeps between questions: each cache's bounds and each entry's weight.

Every cache here is a `index.caches.BoundedCache`, bounded by entries and by bytes: what fills
them is what strangers ask. They belong to one generation (`index.answers.search.NewsIndex`) and
go with it when it is swapped out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from index.text.mentions import ArticleWords

SecondsArray = npt.NDArray[np.float64]

# Periods whose sentence flags are kept (1 byte per sentence each).
PERIOD_CACHE = 8
PERIOD_CACHE_BYTES = 64 << 20
# Articles whose words are kept for the names check (their text and terms: a few KB each).
ARTICLE_WORDS_CACHE = 256
ARTICLE_WORDS_CACHE_BYTES = 16 << 20
# Question vectors kept (1.5 KB each, and the question's text as the key).
QUESTION_CACHE = 64
QUESTION_CACHE_BYTES = 1 << 20
# Time zones whose article spans are kept (16 bytes per article each): the bot's, and UTC.
ZONE_CACHE = 4
ZONE_CACHE_BYTES = 1 << 30
# The analyzer's words kept while answering (index.text.analysis.Analyzer): a question's words are
# a stranger's, so fewer than a build keeps.
QUESTION_WORDS_CACHE = 65_536
QUESTION_WORDS_CACHE_BYTES = 8 << 20


def array_bytes(key: object, value: npt.NDArray[Any]) -> int:
    """What a kept array takes (`BoundedCache`'s weight)."""
    return value.nbytes + 200


def keyed_array_bytes(key: str, value: npt.NDArray[Any]) -> int:
    """What a kept question vector takes, its question's text included."""
    return len(key) + value.nbytes + 200


def spans_bytes(key: str, value: tuple[SecondsArray, SecondsArray]) -> int:
    """What a zone's article spans take."""
    return value[0].nbytes + value[1].nbytes + 200


def article_words_bytes(key: int, value: ArticleWords) -> int:
    """About what an article's words take: its text, then its analyzed terms (`ArticleWords`)."""
    return 4 * len(value.text) + 1024
