"""New articles for the live benches: marker words only they contain, and their JSONL files.

Article `n` names its marker ('Kel' + four letters + 'ox', one analyzed term), so a question about
it (`question_about`) is answered by it alone and a reply quoting it is recognized
(`answers_about`). `new_articles` makes them from the bench corpus' own sentences; `drop_file`
renames a file of them into a source folder atomically; `without_some` thins a corpus.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

_LETTERS = "bdfgkmprtvz"  # marker words: 'kel' + 4 of these + 'ox', one analyzed term each


def marker(n: int) -> str:
    """Article `n`'s marker word, capitalized: 'Kel' + 4 letters + 'ox', unique per `n`."""
    digits = "".join(_LETTERS[n // len(_LETTERS) ** p % len(_LETTERS)] for p in range(4))
    return f"Kel{digits}ox"


def question_about(n: int) -> str:
    """A question that only article `n` answers."""
    return f"What does the {marker(n)} desk report?"


def answers_about(n: int, reply: str) -> bool:
    """Whether a reply quotes article `n` (its text, not the question the reply repeats)."""
    return f"{marker(n)} desk reports".lower() in reply.lower()


def corpus_sentences(corpus: Path, skip: int) -> Iterator[str]:
    """Sentences of the corpus' articles from line `skip` on, 6+ words, as the build splits them.

    The newswire text is hard-wrapped: it is unwrapped first
    (`index.sources.formats.text.paragraphs`).
    """
    from index.sources.formats.text import paragraphs
    from index.text.sentences import split_sentences

    with corpus.open(encoding="utf-8") as lines:
        for line in itertools.islice(lines, skip, None):
            for sentence in split_sentences(paragraphs(json.loads(line)["text"])):
                if len(sentence.split()) >= 6:
                    yield " ".join(sentence.split())


def new_articles(corpus: Path, first: int, count: int, per_article: int) -> list[dict[str, str]]:
    """`count` articles of `per_article` sentences, one a paragraph, each naming its marker.

    The sentences are the corpus' own, each prefixed with "The <marker> desk reports:", so every
    one is new text (none is in the index, none has a vector to reuse).
    """
    sentences = corpus_sentences(corpus, skip=7 * first)
    day = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    articles = []
    for n in range(first, first + count):
        word = marker(n)
        body = [f"The {word} desk reports: {s}" for s in itertools.islice(sentences, per_article)]
        title = f"{word} desk: {body[0].split(': ', 1)[1][:60]}"
        articles.append({"id": f"live-{n}", "title": title, "text": "\n\n".join(body), "date": day})
    return articles


def without_some(corpus: Path, to: Path, keep: float) -> Path:
    """Write the first `keep` of every ten articles of `corpus` into `to` (the rest removed)."""
    kept = round(10 * keep)
    with corpus.open(encoding="utf-8") as lines, to.open("w", encoding="utf-8") as out:
        for n, line in enumerate(lines):
            if n % 10 < kept:
                out.write(line)
    return to


def drop_file(folder: Path, name: str, articles: Sequence[dict[str, str]]) -> float:
    """Write `articles` as JSONL into `folder/name` atomically; return when it appeared."""
    hidden = folder / f".{name}.part"  # hidden files are not sources (index.sources.watch)
    with hidden.open("w", encoding="utf-8") as out:
        for article in articles:
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.rename(hidden, folder / name)
    return time.monotonic()
