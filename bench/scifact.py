"""nDCG@10 of newsbot's analyzer and BM25 on BEIR SciFact, next to published BM25 figures.

Each SciFact abstract is one document (title + " " + text), analyzed with
`index.text.analysis.Analyzer` and indexed with `index.lexical.bm25.BM25Index` (rank_bm25's
BM25Okapi). Each test claim is analyzed the same way and the ten best documents are ranked by score
(ties by corpus order). nDCG@10 is the standard one (Järvelin & Kekäläinen 2002, as trec_eval's
`ndcg_cut.10`): gain = qrels relevance, discount log2(rank + 1), ideal DCG from the query's qrels;
queries without test qrels are left out. Reads `../shared/corpus/beir-scifact/` (never copied into
the repository).

    python bench/scifact.py                     # product settings plus a few k1/b variants
    python bench/scifact.py --k1 1.2 --b 0.75   # one setting only
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/scifact.py`
    sys.path.insert(0, str(ROOT))

from index.lexical.bm25 import BM25Index, BM25Params  # noqa: E402
from index.text.analysis import Analyzer, AnalyzerSettings  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "corpus" / "beir-scifact"

# Published BM25 nDCG@10 on the SciFact test split (../shared/corpus/README.md).
PUBLISHED = (
    ("Anserini/Pyserini BM25 flat (title+text one field)", 0.6789),
    ("Anserini/Pyserini BM25 multifield", 0.6647),
    ("BEIR paper, BM25 (Elasticsearch)", 0.665),
    ("bm25s, Lucene variant k1=1.2 b=0.75", 0.680),
)

# (k1, b) pairs reported next to the product default; the product keeps BM25Params().
VARIANTS = ((1.2, 0.75), (0.9, 0.4), (1.5, 0.9))

Qrels = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class SciFact:
    """The SciFact test collection.

    Attributes:
        doc_ids: Corpus ids, in file order.
        documents: Title + " " + text of each document, in file order.
        queries: Query id -> claim text, test queries with qrels only.
        qrels: Query id -> corpus id -> relevance.
    """

    doc_ids: list[str]
    documents: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_scifact(folder: Path = SCIFACT) -> SciFact:
    """Read corpus, queries and test qrels (header line skipped) from a BEIR folder."""
    doc_ids, documents = [], []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            doc_ids.append(str(doc["_id"]))
            documents.append(f"{doc.get('title') or ''} {doc.get('text') or ''}")
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8") as f:
        next(f)
        for line in f:
            query_id, doc_id, score = line.rstrip("\n").split("\t")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    queries = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as f:
        for line in f:
            query = json.loads(line)
            if str(query["_id"]) in qrels:
                queries[str(query["_id"])] = query["text"]
    return SciFact(doc_ids, documents, queries, qrels)


def dcg(gains: Sequence[float]) -> float:
    """Return `sum(gain_i / log2(i + 1))` over ranks i = 1, 2, ...."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranked: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """Return nDCG@k of one ranking: DCG of its first `k` gains over the ideal DCG from qrels."""
    ideal = dcg(sorted((r for r in relevance.values() if r > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevance.get(d, 0) for d in ranked[:k]]) / ideal


def mean_ndcg(runs: Mapping[str, Sequence[str]], qrels: Qrels, k: int = 10) -> float:
    """Return the mean nDCG@k over the queries of `qrels` (a query with no run scores zero)."""
    return sum(ndcg_at(runs.get(q, ()), rel, k) for q, rel in qrels.items()) / len(qrels)


def run(data: SciFact, analyzer: Analyzer, params: BM25Params, k: int = 10) -> dict[str, list[str]]:
    """Return the `k` best document ids of each query (score above zero, ties by corpus order)."""
    index = BM25Index.build(analyzer.terms_many(data.documents), params)
    runs = {}
    for query_id, text in data.queries.items():
        scores = index.scores(analyzer.terms(text))
        order = np.argsort(-scores, kind="stable")[:k]
        runs[query_id] = [data.doc_ids[i] for i in order if scores[i] > 0]
    return runs


def run_hybrid(data: SciFact, analyzer: Analyzer, k: int = 10) -> dict[str, list[str]] | None:
    """Rank as `NewsIndex.ask` does: BM25's and the vectors' top candidates fused by the product's
    `index.answers.policy.FUSION` (each document embedded as `title text`, cut at the model's 256
    tokens).

    Returns None when the sentence model is not installed.
    """
    from index.answers.fusion import Candidate, fuse
    from index.answers.policy import FUSION
    from index.semantic.vectors import shared_encoder

    encoder = shared_encoder()
    if encoder is None:
        return None
    index = BM25Index.build(analyzer.terms_many(data.documents), BM25Params())
    vectors = encoder.encode(data.documents, batch_size=16)
    runs = {}
    for query_id, text in data.queries.items():
        terms = analyzer.terms(text)
        scores = index.scores(terms)
        cosines = vectors @ encoder.encode([text])[0]
        depth = FUSION.depth
        bm25_top = [int(i) for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0]
        dense_top = [int(i) for i in np.argsort(-cosines, kind="stable")[:depth]]
        rows = list(dict.fromkeys(bm25_top + dense_top))
        ideal = float(sum(index.idf[index.terms[t]] for t in terms if t in index.terms))
        candidates = [Candidate(r, float(scores[r]), float(cosines[r])) for r in rows]
        runs[query_id] = [data.doc_ids[c.row] for c in fuse(candidates, ideal, FUSION)[:k]]
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k1", type=float, help="only this k1 (with --b)")
    parser.add_argument("--b", type=float, help="only this b (with --k1)")
    parser.add_argument("--no-stem", action="store_true", help="analyzer without stemming")
    parser.add_argument("--no-stopwords", action="store_true", help="keep stopwords")
    parser.add_argument(
        "--hybrid", action="store_true", help="also BM25 fused with sentence vectors (the product)"
    )
    args = parser.parse_args(argv)
    if not SCIFACT.is_dir():
        print(f"SciFact not found at {SCIFACT}", file=sys.stderr)
        return 2
    data = load_scifact()
    settings = AnalyzerSettings(
        language="" if args.no_stem else "english", stopwords=not args.no_stopwords
    )
    analyzer = Analyzer(settings)
    default = BM25Params()
    if args.k1 is not None or args.b is not None:
        grid = [(args.k1 or default.k1, default.b if args.b is None else args.b)]
    else:
        grid = [(default.k1, default.b), *VARIANTS]
    print(
        f"SciFact test: {len(data.documents):,} documents, {len(data.queries)} queries with qrels; "
        f"analyzer {settings}\n"
    )
    print("| system | k1 | b | nDCG@10 |")
    print("|---|---|---|---|")
    for k1, b in grid:
        started = time.perf_counter()
        params = BM25Params(k1=k1, b=b, epsilon=default.epsilon)
        score = mean_ndcg(run(data, analyzer, params), data.qrels)
        label = "newsbot (product default)" if (k1, b) == (default.k1, default.b) else "newsbot"
        print(f"| {label} | {k1} | {b} | {score:.4f} |")
        print(f"  ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    if args.hybrid:
        hybrid = run_hybrid(data, analyzer)
        if hybrid is None:
            print("| newsbot hybrid | (sentence model not installed) | | |")
        else:
            print(
                f"| newsbot hybrid (BM25 + vectors, product fusion) | 1.5 | 0.75 "
                f"| {mean_ndcg(hybrid, data.qrels):.4f} |"
            )
    for name, score in PUBLISHED:
        print(f"| {name} | | | {score:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
