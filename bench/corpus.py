"""Make the benchmark corpora: 100k and 1M sentences of Reuters-21578, plus held-out questions.

Real sentences come from `../shared/corpus/reuters21578/articles.jsonl` (about 140k after
splitting). A fixed share of articles is held out: questions are made from their sentences, so no
question is a copy of an indexed sentence. The 1M corpus adds new articles whose sentences splice
the first half of one real sentence to the second half of another; a spliced sentence that repeats
any sentence already in the corpus is dropped, so nothing is a duplicate.

Every corpus is split and analyzed with newsbot's own splitter and analyzer (the same code the
index build runs), and the analyzed tokens are cached, so every engine in `bench.speed` indexes
exactly the same terms of exactly the same sentences.

    python -m bench.corpus                 # writes bench/out/corpus-100k and corpus-1m

Each corpus folder holds:
    articles.jsonl   the articles (id, title, text, date), input of a full newsbot build: it
                     splits them into the very same sentences
    vocabulary.json  terms in order of first appearance
    token_ids.npy    term id of every token, sentence after sentence (int32)
    lengths.npy      number of tokens of each sentence (int32)
    questions.jsonl  {"question", "terms", "source"} for each question
    corpus.json      counts and the settings that made the corpus
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.model import Article
from index.sources.ingest import read_sources
from index.store.build_settings import BuildSettings
from index.text.analysis import Analyzer
from index.text.analyzing import analyze_articles

ROOT = Path(__file__).resolve().parent.parent
REUTERS = ROOT.parent / "shared" / "corpus" / "reuters21578" / "articles.jsonl"
OUT = ROOT / "bench" / "out"
SIZES = {"100k": 100_000, "1m": 1_000_000}
CORPUS_VERSION = 3
HELD_OUT_SHARE = 0.03
QUESTIONS = 500
SEED = 21578

# Question openings; the analyzer drops them (stopwords), as it does in real questions.
_OPENINGS = (
    "What happened with",
    "What is the latest on",
    "Why did",
    "Tell me about",
    "What about",
    "How much",
    "When did",
    "Who said",
    "Is it true that",
    "Any news on",
)


@dataclass(frozen=True, slots=True)
class Corpus:
    """A cached benchmark corpus, loaded."""

    folder: Path
    vocabulary: list[str]
    token_ids: np.ndarray
    lengths: np.ndarray
    questions: list[dict[str, object]]

    @property
    def n_sentences(self) -> int:
        return len(self.lengths)

    def token_lists(self) -> list[list[str]]:
        """Return each sentence's analyzed terms, as rank_bm25 and bm25s take them."""
        vocab = self.vocabulary
        words = [vocab[i] for i in self.token_ids.tolist()]
        ends = np.cumsum(self.lengths).tolist()
        out, start = [], 0
        for end in ends:
            out.append(words[start:end])
            start = end
        return out

    def question_terms(self) -> list[list[str]]:
        return [list(q["terms"]) for q in self.questions]  # type: ignore[call-overload]

    def articles(self) -> list[Article]:
        return list(read_articles(self.folder / "articles.jsonl"))


def load(name: str, out: Path = OUT, *, refresh: bool = True) -> Corpus:
    """Load corpus `name` ("100k" or "1m") from `out`.

    With `refresh`, every corpus is made first when missing or made by other code.
    """
    folder = out / f"corpus-{name}"
    if refresh and not _complete(folder):
        make(out)
    return Corpus(
        folder=folder,
        vocabulary=json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
        token_ids=np.load(folder / "token_ids.npy"),
        lengths=np.load(folder / "lengths.npy"),
        questions=[json.loads(line) for line in (folder / "questions.jsonl").open()],
    )


def read_articles(path: Path) -> Iterator[Article]:
    """Read the articles of a corpus folder."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            yield Article(id=a["id"], title=a["title"], text=a["text"], date=a.get("date"))


def make(out: Path = OUT, workers: int = 0) -> None:
    """Write every corpus of `SIZES` into `out` (about a minute on two cores)."""
    started = time.perf_counter()
    settings = BuildSettings(workers=workers)
    reuters = _reuters()
    rng = random.Random(SEED)
    order = list(range(len(reuters)))
    rng.shuffle(order)
    n_held = int(len(order) * HELD_OUT_SHARE)
    held = [reuters[i] for i in order[:n_held]]
    kept = [reuters[i] for i in order[n_held:]]

    split_kept = list(_split(kept, settings))
    seen = {s for sentences in split_kept for s in sentences}
    pool = [s for s in seen if len(s.split()) >= 4]
    pool.sort()  # sets iterate in hash order; sort for a corpus that is the same every run
    print(
        f"{len(kept):,} articles kept ({sum(map(len, split_kept)):,} sentences), "
        f"{len(held):,} held out for questions"
    )

    questions = _questions(held, settings, random.Random(SEED + 1))
    for name, size in sorted(SIZES.items(), key=lambda item: item[1]):
        articles = _take(kept, split_kept, size)
        missing = size - sum(len(s) for _, s in articles)
        if missing > 0:
            articles += _spliced(pool, seen, missing, settings, random.Random(SEED + 2))
        _write(out / f"corpus-{name}", [a for a, _ in articles], questions, settings, size)
        print(
            f"corpus-{name}: {len(articles):,} articles, {size:,} sentences "
            f"({time.perf_counter() - started:.0f} s)"
        )


def _code() -> str:
    """Return a hash of the code that turns articles into sentences and terms."""
    digest = hashlib.sha256(str(CORPUS_VERSION).encode())
    index = ROOT / "index"
    formats = sorted((index / "sources" / "formats").glob("*.py"))
    stages = ("sources/ingest.py", "text/sentences.py", "text/analysis.py")
    for path in [*formats, *(index / n for n in stages)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _complete(folder: Path) -> bool:
    """Whether `folder` holds a corpus made by this code (else it is made again)."""
    meta = folder / "corpus.json"
    if not meta.exists():
        return False
    return bool(json.loads(meta.read_text()).get("code") == _code())


def _reuters() -> list[Article]:
    """Read the Reuters articles as `newsbot index` reads them (unwrapped, deduplicated).

    Only stories with a body: `newsbot index` reads a title-only brief as its title (1,798 of
    them), which the evaluation corpora never held (their figures stay comparable).
    """
    ingested = read_sources([REUTERS])
    bodies = _raw_bodies()
    return [a for a in ingested.articles if a.text and bodies.get(a.id, "").strip()]


def _raw_bodies() -> dict[str, str]:
    """Return each Reuters article's body as stored, by id.

    The corpus files hold these, not the cleaned text: cleaning (which unwraps lines) is not
    idempotent, and a full build must see exactly what `_reuters` saw.
    """
    bodies = {}
    with REUTERS.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("body"):
                bodies[str(record["id"])] = record["body"]
    return bodies


def _split(articles: Sequence[Article], settings: BuildSettings) -> Iterator[list[str]]:
    """Yield each article's sentences, as newsbot's build splits them."""
    for sentences, _terms in analyze_articles(articles, settings.analyzer, settings.workers):
        yield sentences


def _take(
    articles: Sequence[Article], split: Sequence[list[str]], size: int
) -> list[tuple[Article, list[str]]]:
    """Return whole real articles, in order, skipping those that would pass `size` sentences."""
    taken: list[tuple[Article, list[str]]] = []
    total = 0
    for article, sentences in zip(articles, split, strict=True):
        if sentences and total + len(sentences) <= size:
            taken.append((article, sentences))
            total += len(sentences)
            if total == size:
                break
    return taken


def _spliced(
    pool: list[str],
    seen: set[str],
    count: int,
    settings: BuildSettings,
    rng: random.Random,
) -> list[tuple[Article, list[str]]]:
    """Return new articles of exactly `count` new sentences, each half of one real sentence and
    half of another, none repeating a sentence in `seen` (which grows)."""
    made: list[tuple[Article, list[str]]] = []
    total = 0
    serial = 0
    while total < count:
        batch = []
        for _ in range(max(1000, (count - total) // 6)):
            n = rng.randint(3, 12)
            sentences = [_splice(rng.choice(pool), rng.choice(pool)) for _ in range(n)]
            serial += 1
            batch.append(
                Article(
                    id=f"spliced-{serial}",
                    title=f"Spliced article {serial}",
                    text=" ".join(sentences),
                    date=f"1987-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
                )
            )
        for candidate, split in zip(batch, _split(batch, settings), strict=True):
            if not split or any(s in seen for s in split) or len(set(split)) < len(split):
                continue
            article, sentences = candidate, split
            if total + len(sentences) > count:
                sentences = sentences[: count - total]
                text = " ".join(sentences)
                if next(_split([Article(article.id, "", text)], settings)) != sentences:
                    continue
                article = Article(article.id, article.title, text, date=article.date)
            seen.update(sentences)
            made.append((article, sentences))
            total += len(sentences)
            if total == count:
                break
    return made


def _splice(first: str, second: str) -> str:
    """Return the first half of `first`'s words followed by the second half of `second`'s."""
    a, b = first.split(), second.split()
    return " ".join(a[: len(a) // 2] + b[len(b) // 2 :])


def _questions(
    held: Sequence[Article], settings: BuildSettings, rng: random.Random
) -> list[dict[str, object]]:
    """Return `QUESTIONS` questions, each an opening and a few words of a held-out sentence."""
    analyzer = Analyzer(settings.analyzer)
    sentences = sorted(
        {s for split in _split(held, settings) for s in split if len(s.split()) >= 6}
    )
    rng.shuffle(sentences)
    questions: list[dict[str, object]] = []
    for sentence in sentences:
        words = sentence.rstrip(".?!").split()
        width = rng.randint(4, min(9, len(words)))
        start = rng.randint(0, len(words) - width)
        window = words[start : start + width]
        if window[0][:1].isupper() and not window[0].isupper() and start == 0:
            window[0] = window[0].lower()  # the sentence's first word, mid-question
        text = f"{rng.choice(_OPENINGS)} {' '.join(window)}?"
        terms = analyzer.terms(text)
        if terms:
            questions.append({"question": text, "terms": terms, "source": sentence})
        if len(questions) == QUESTIONS:
            break
    return questions


def _write(
    folder: Path,
    articles: Sequence[Article],
    questions: list[dict[str, object]],
    settings: BuildSettings,
    size: int,
) -> None:
    """Write a corpus folder: articles, analyzed tokens, questions, and corpus.json last."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.json").unlink(missing_ok=True)
    raw = _raw_bodies()
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as f:
        for a in articles:
            record = {"id": a.id, "title": a.title, "text": raw.get(a.id, a.text), "date": a.date}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    vocabulary: dict[str, int] = {}
    token_ids: list[int] = []
    lengths: list[int] = []
    for _sentences, terms in analyze_articles(articles, settings.analyzer, settings.workers):
        for joined in terms:
            split = joined.split()
            lengths.append(len(split))
            token_ids.extend(vocabulary.setdefault(t, len(vocabulary)) for t in split)
    if len(lengths) != size:
        raise RuntimeError(f"{folder.name}: {len(lengths):,} sentences, expected {size:,}")
    (folder / "vocabulary.json").write_text(json.dumps(list(vocabulary), ensure_ascii=False))
    np.save(folder / "token_ids.npy", np.asarray(token_ids, dtype=np.int32))
    np.save(folder / "lengths.npy", np.asarray(lengths, dtype=np.int32))
    with (folder / "questions.jsonl").open("w", encoding="utf-8") as f:
        for q in questions:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    meta = {
        "version": CORPUS_VERSION,
        "code": _code(),
        "sentences": size,
        "articles": len(articles),
        "tokens": len(token_ids),
        "terms": len(vocabulary),
        "questions": len(questions),
        "seed": SEED,
        "held_out_share": HELD_OUT_SHARE,
    }
    (folder / "corpus.json").write_text(json.dumps(meta, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="cache folder (default bench/out)")
    parser.add_argument("--workers", type=int, default=0, help="processes (default: one per core)")
    args = parser.parse_args()
    make(args.out, args.workers)


if __name__ == "__main__":
    main()
