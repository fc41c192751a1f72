"""The articles each question split is evaluated over (bench/questions/README.md, docs/quality.md).

- dev and dev2: the seed, the 43 Wikinews articles and the Reuters-21578 stories their questions
  name (as issue #11's splits always were);
- test (issue #19): the same, plus a fixed set of Reuters distractors: every story with a body
  that shares a topic with a story the questions name, nearest in time to such a story first
  (ties by id), until the whole corpus would pass `TEST_SENTENCE_BUDGET` sentences, so that
  embedding it takes a couple of minutes on the project's 2-core machine. Stories holding a near
  copy of a gold sentence (`NEAR_COPY`) are left out: Reuters repeats a story as it updates it,
  and an answer from the copy would count as a miss of the one gold;
- `--reuters`: all of Reuters-21578 (19k stories with a body) as distractors.

Every Reuters story is indexed as it comes, with its "Reuter" sign-off, dateline and tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from index.model import Article, Ingested
from index.sources.ingest import read_sources
from index.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
WIKINEWS = CORPUS / "wikinews-gum" / "articles.jsonl"
REUTERS = CORPUS / "reuters21578" / "articles.jsonl"
SEEDS = ROOT / "seeds"

# The test corpus stays under this many sentences (seed, Wikinews, question stories, distractors).
TEST_SENTENCE_BUDGET = 12_000
# A sentence whose words overlap a gold sentence's this much (Jaccard) is a copy of it.
NEAR_COPY = 0.6
_WORD = re.compile(r"\w+")


def read_corpus(
    named: Iterable[str], golds: Sequence[str] = (), *, corpus: str = "named"
) -> Ingested:
    """Read the seed, Wikinews and the Reuters stories of `corpus` (module docstring).

    Args:
        named: Article ids the questions name (only Reuters ids matter).
        golds: The questions' gold sentences (for the test corpus's near-copy rule).
        corpus: "named", "test" (named plus the fixed distractors) or "all" (all of Reuters).
    """
    # Reuters is 26 MB; its ~2.5k title-only items are skipped by the reader.
    ingested = read_sources([WIKINEWS, SEEDS], max_bytes=100_000_000)
    wanted = {i for i in named if i.startswith("reuters")}
    if corpus == "named" and not wanted:
        return ingested
    reuters = read_sources([REUTERS], max_bytes=100_000_000).articles
    if corpus == "all":
        ingested.articles += reuters
        return ingested
    chosen = [a for a in reuters if a.id in wanted]
    if corpus == "test":
        base = sum(sentence_count(a) for a in [*ingested.articles, *chosen])
        picked = set(distractors(wanted, golds, reuters, TEST_SENTENCE_BUDGET - base))
        chosen = [a for a in reuters if a.id in wanted or a.id in picked]
    ingested.articles += chosen
    return ingested


def sentence_count(article: Article) -> int:
    """Sentences the index makes of `article`'s body."""
    return len(split_sentences(article.text))


def distractors(
    named: set[str], golds: Sequence[str], reuters: Sequence[Article], budget: int
) -> list[str]:
    """Return the ids of the test corpus's distractors, within `budget` sentences, in order."""
    topics, days = _reuters_fields()
    named_topics = {i: topics.get(i, frozenset()) for i in named}
    gold_words = [_words(g) for g in golds]

    def distance(article: Article) -> int | None:
        """Days to the nearest named story sharing a topic with `article`, or None."""
        mine = topics.get(article.id, frozenset())
        gaps = [
            abs(days[article.id] - days[i])
            for i, theirs in named_topics.items()
            if mine & theirs and article.id in days and i in days
        ]
        return min(gaps) if gaps else None

    ranked = sorted(
        (d, a.id, a) for a in reuters if a.id not in named and (d := distance(a)) is not None
    )
    picked: list[str] = []
    for _, article_id, article in ranked:
        sentences = split_sentences(article.text)
        if len(sentences) > budget:
            break
        if not any(_copies(s, gold_words) for s in sentences):
            picked.append(article_id)
            budget -= len(sentences)
    return picked


def _copies(sentence: str, gold_words: Sequence[frozenset[str]]) -> bool:
    """Whether `sentence` is a near copy (`NEAR_COPY`) of one of the gold sentences."""
    words = _words(sentence)
    return any(
        len(g) > 5
        and len(words & g) >= NEAR_COPY * len(g)
        and len(words & g) / len(words | g) >= NEAR_COPY
        for g in gold_words
    )


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def _reuters_fields() -> tuple[dict[str, frozenset[str]], dict[str, int]]:
    """Each Reuters story's topics and day number (the reader keeps neither topics nor order)."""
    topics: dict[str, frozenset[str]] = {}
    days: dict[str, int] = {}
    with REUTERS.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            topics[row["id"]] = frozenset(row.get("topics") or ())
            if row.get("date"):
                days[row["id"]] = date.fromisoformat(row["date"][:10]).toordinal()
    return topics, days
