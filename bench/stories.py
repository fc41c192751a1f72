"""Story grouping: MinHash-LSH (`index.follow.stories`) against sentence vectors: precision, recall.

Pairs, all from Reuters-21578 (`../shared/corpus/reuters21578`), seeded:

- syndicated (positives): an article and a made-up copy of it, as another outlet runs it: a new
  title, the lead sentence rewritten (its clauses reordered, words swapped for synonyms), and
  two paragraphs of another article appended;
- shared paragraph (positives): two distinct Reuters stories that share a paragraph of at least
  25 words (updates and corrections of one story on the wire);
- same topic (negatives): two stories of the same Reuters topic (earn, acq, crude, ...) that
  share no paragraph and no title.

Each method decides every pair: MinHash-LSH as the bot runs it (the pair's second article is a
candidate of the first in a `MinHashLSH` holding every article of the set, confirmed by the
estimated Jaccard), and the cosine of the two articles' mean sentence vectors (MiniLM, as
indexed) against a threshold.

    python -m bench.stories            # 200 syndicated, up to 200 shared-paragraph, 400 negatives
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from index.follow.stories import PERMUTATIONS, THRESHOLD, numbers, same_story, signature

REUTERS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "reuters21578" / "articles.jsonl"
)
SYNONYMS = {
    "said": "stated",
    "rose": "climbed",
    "fell": "dropped",
    "company": "firm",
    "shares": "stock",
    "year": "twelve months",
    "expected": "forecast",
    "increase": "rise",
    "billion": "bln",
    "million": "mln",
    "government": "administration",
    "price": "cost",
}


def records() -> list[dict[str, object]]:
    with REUTERS.open(encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r.get("body") and r.get("title")]
    return [r for r in rows if len(str(r["body"]).split()) >= 60]


def paragraphs(body: str) -> list[str]:
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n    ", body)]
    return [p for p in parts if p]


def text(record: dict[str, object]) -> str:
    return f"{record['title']}\n{record['body']}"


def syndicated(record: dict[str, object], filler: dict[str, object], rng: random.Random) -> str:
    """A copy of `record` as another outlet runs it (module docstring)."""
    parts = paragraphs(str(record["body"]))
    lead, rest = parts[0], parts[1:]
    clauses = lead.split(", ")
    rng.shuffle(clauses)
    words = [SYNONYMS.get(w.lower(), w) for w in ", ".join(clauses).split()]
    added = paragraphs(str(filler["body"]))[:2]
    title = f"UPDATE - {str(record['title']).title()} ({rng.choice(['AP', 'AFP', 'DPA'])})"
    return "\n".join([title, " ".join(words), *rest, *added])


def shared_paragraph_pairs(rows: list[dict[str, object]], limit: int) -> list[tuple[str, str]]:
    by_paragraph: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        for p in paragraphs(str(r["body"])):
            if len(p.split()) >= 25:
                by_paragraph[p].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in by_paragraph.values():
        unique = sorted(set(members))
        for a, b in itertools.pairwise(unique):
            if str(rows[a]["body"]) != str(rows[b]["body"]):
                pairs.add((a, b))
    chosen = sorted(pairs)[:limit]
    return [(text(rows[a]), text(rows[b])) for a, b in chosen]


def negative_pairs(
    rows: list[dict[str, object]], limit: int, rng: random.Random
) -> list[tuple[str, str]]:
    by_topic: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        topics = r.get("topics") or []
        if isinstance(topics, list) and len(topics) == 1:
            by_topic[str(topics[0])].append(i)
    out: list[tuple[str, str]] = []
    topics = sorted(t for t, m in by_topic.items() if len(m) >= 10)
    while len(out) < limit:
        members = by_topic[rng.choice(topics)]
        a, b = rng.sample(members, 2)
        pa = set(paragraphs(str(rows[a]["body"])))
        if pa & set(paragraphs(str(rows[b]["body"]))) or rows[a]["title"] == rows[b]["title"]:
            continue
        out.append((text(rows[a]), text(rows[b])))
    return out


def lsh_decisions(pairs: list[tuple[str, str]], threshold: float) -> list[bool]:
    """Whether the bot's MinHash-LSH groups each pair (candidate, then estimated Jaccard)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=PERMUTATIONS)
    signatures = []
    for n, (a, b) in enumerate(pairs):
        sa, sb = signature(a), signature(b)
        lsh.insert(f"a{n}", sa)
        lsh.insert(f"b{n}", sb)
        signatures.append((sa, numbers(a), sb, numbers(b)))
    return [
        f"b{n}" in lsh.query(sa) and same_story(sa, na, sb, nb, threshold)
        for n, (sa, na, sb, nb) in enumerate(signatures)
    ]


def vector_cosines(pairs: list[tuple[str, str]]) -> list[float]:
    """The cosine of the two articles' mean sentence vectors."""
    from index.semantic.vectors import shared_encoder
    from index.text.sentences import split_sentences

    encoder = shared_encoder()
    assert encoder is not None, "the sentence encoder is not available"

    def mean(article: str) -> np.ndarray:
        vectors = encoder.encode(split_sentences(article)[:40])
        m = vectors.mean(axis=0)
        return m / np.linalg.norm(m)

    return [float(mean(a) @ mean(b)) for a, b in pairs]


def scores(decisions: list[bool], truth: list[bool]) -> dict[str, float]:
    tp = sum(d and t for d, t in zip(decisions, truth, strict=True))
    fp = sum(d and not t for d, t in zip(decisions, truth, strict=True))
    fn = sum(t and not d for d, t in zip(decisions, truth, strict=True))
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--syndicated", type=int, default=200)
    parser.add_argument("--shared", type=int, default=200)
    parser.add_argument("--negatives", type=int, default=400)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--no-vectors", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = records()
    picked = rng.sample(rows, args.syndicated * 2)
    made = [
        (text(a), syndicated(a, b, rng)) for a, b in zip(picked[::2], picked[1::2], strict=True)
    ]
    shared = shared_paragraph_pairs(rows, args.shared)
    negatives = negative_pairs(rows, args.negatives, rng)
    sets = {"syndicated": made, "shared_paragraph": shared, "same_topic_negatives": negatives}
    report: dict[str, object] = {name: len(pairs) for name, pairs in sets.items()}
    for threshold in (0.2, THRESHOLD, 0.4, 0.5):
        for name, pairs in sets.items():
            grouped = lsh_decisions(pairs, threshold)
            report[f"minhash@{threshold}:{name}:grouped"] = round(sum(grouped) / len(pairs), 3)
    if not args.no_vectors:
        cosines = {name: vector_cosines(pairs) for name, pairs in sets.items()}
        for cut in (0.8, 0.85, 0.9, 0.95):
            for name in sets:
                share = float(np.mean([c >= cut for c in cosines[name]]))
                report[f"vectors@{cut}:{name}:grouped"] = round(share, 3)
    for method in [f"minhash@{t}" for t in (0.2, THRESHOLD, 0.4, 0.5)] + (
        [] if args.no_vectors else [f"vectors@{c}" for c in (0.8, 0.85, 0.9, 0.95)]
    ):
        positives = len(made) + len(shared)
        tp = report[f"{method}:syndicated:grouped"] * len(made) + report[  # type: ignore[operator]
            f"{method}:shared_paragraph:grouped"
        ] * len(shared)
        fp = report[f"{method}:same_topic_negatives:grouped"] * len(negatives)  # type: ignore[operator]
        report[f"{method}:precision"] = round(tp / (tp + fp), 3) if tp + fp else 1.0
        report[f"{method}:recall"] = round(tp / positives, 3)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
