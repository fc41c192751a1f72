"""Relevance of alerts: fixed standing questions against the Wikinews articles as new articles.

The 20 questions in `QUESTIONS` were written before any match was seen (16 on topics of the
corpus, 4 off-topic). Every match the percolator makes (one per question and article) is
printed with its sentence; `LABELS` holds the hand judgement of each (question, article): does
the article answer the standing question? Precision = relevant matches / matches.

    python -m bench.follow_precision            # prints matches and, with LABELS, precision
    python -m bench.follow_precision --index-dir /tmp/elsewhere   # built there once
    python -m bench.follow_precision --reuters --index-dir /tmp/newsbot-bench-percolate/index
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.answers.search import NewsIndex

WIKINEWS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wikinews-gum" / "articles.jsonl"
)
QUESTIONS = [
    "deaths at the Hajj in Mecca",
    "Church of Scientology",
    "asylum seekers rescued at sea",
    "North Korea military tension with South Korea",
    "World Cup results for England",
    "cyclone hitting India",
    "Hong Kong election results",
    "new flag for New Zealand",
    "global warming effects on crop yields",
    "Paralympics in the United States",
    "Internet Explorer market share",
    "space shuttle retirement",
    "Israel peace process",
    "iodine deficiency in children",
    "homeopathy death prosecution",
    "ants medicating themselves",
    "copper prices in Chile",
    "Federal Reserve interest rates",
    "Libertarian candidate for governor of Virginia",
    "earthquake in Japan",
]
# (question number, article id) -> relevant? Filled by reading each match printed before the
# cosine rule of `index.follow.percolate` (30 matches, 20 relevant); every later match is one.
LABELS: dict[tuple[int, str], bool] = {
    (15, "GUM_interview_ants"): True,
    (9, "GUM_interview_brotherhood"): False,
    (9, "GUM_interview_chomsky"): False,
    (9, "GUM_interview_cocktail"): False,
    (5, "GUM_interview_cyclone"): True,
    (9, "GUM_interview_hill"): False,
    (18, "GUM_interview_libertarian"): True,
    (9, "GUM_interview_licen"): True,
    (12, "GUM_interview_peres"): True,
    (13, "GUM_interview_peres"): False,
    (9, "GUM_news_afghan"): False,
    (2, "GUM_news_asylum"): True,
    (0, "GUM_news_crane"): True,
    (1, "GUM_news_defector"): True,
    (6, "GUM_news_election"): True,
    (7, "GUM_news_flag"): True,
    (1, "GUM_news_hackers"): True,
    (14, "GUM_news_homeopathic"): True,
    (15, "GUM_news_homeopathic"): False,
    (10, "GUM_news_ie9"): True,
    (1, "GUM_news_imprisoned"): True,
    (7, "GUM_news_iodine"): False,
    (13, "GUM_news_iodine"): True,
    (3, "GUM_news_korea"): True,
    (11, "GUM_news_nasa"): True,
    (2, "GUM_news_questionnaire"): False,
    (4, "GUM_news_soccer"): True,
    (0, "GUM_news_stampede"): True,
    (9, "GUM_news_warhol"): False,
    (8, "GUM_news_warming"): True,
}


# Reuters only (`--reuters`): 10 questions written before any match was seen, against the 1,000
# new articles of `bench/percolate.py`'s index; 40 of the matches drawn at random (seed 22) and
# judged by hand, by one judge, reading the article's title and the alert's sentence: does the
# article answer the standing question? A test set: nothing was chosen on it.
REUTERS_QUESTIONS = [
    "cocoa prices in Ivory Coast",
    "OPEC oil production quotas",
    "Federal Reserve interest rates",
    "US trade deficit with Japan",
    "wheat exports to the Soviet Union",
    "Brazil debt negotiations with banks",
    "takeover bid for a US company",
    "coffee export quotas",
    "Bank of Japan intervention to support the dollar",
    "gold mining output in South Africa",
]
REUTERS_LABELS: dict[tuple[int, str], bool] = {
    (1, "reuters21578-12209"): False,
    (1, "reuters21578-2522"): True,
    (1, "reuters21578-236"): True,
    (2, "reuters21578-13629"): False,
    (2, "reuters21578-13803"): False,
    (2, "reuters21578-8098"): True,
    (2, "reuters21578-5176"): False,
    (2, "reuters21578-7607"): False,
    (2, "reuters21578-10765"): False,
    (3, "reuters21578-19848"): False,
    (3, "reuters21578-1906"): False,
    (3, "reuters21578-9764"): False,
    (3, "reuters21578-5941"): False,
    (3, "reuters21578-8044"): True,
    (3, "reuters21578-2992"): True,
    (3, "reuters21578-18532"): False,
    (3, "reuters21578-3931"): False,
    (3, "reuters21578-18352"): False,
    (5, "reuters21578-16904"): False,
    (5, "reuters21578-875"): False,
    (6, "reuters21578-15063"): False,
    (6, "reuters21578-19432"): False,
    (6, "reuters21578-3798"): False,
    (6, "reuters21578-14748"): True,
    (6, "reuters21578-3267"): False,
    (7, "reuters21578-2521"): True,
    (7, "reuters21578-311"): False,
    (8, "reuters21578-15549"): False,
    (8, "reuters21578-15470"): False,
    (8, "reuters21578-223"): False,
    (8, "reuters21578-9203"): False,
    (8, "reuters21578-14767"): False,
    (8, "reuters21578-14654"): True,
    (8, "reuters21578-5206"): True,
    (8, "reuters21578-10779"): False,
    (8, "reuters21578-16190"): False,
    (8, "reuters21578-17371"): False,
    (8, "reuters21578-17373"): False,
    (8, "reuters21578-11498"): False,
    (8, "reuters21578-17418"): False,
}


def reuters_new_articles(index: NewsIndex) -> list[int]:
    """Return the article rows `bench/percolate.py` added as its update (the last 1,000)."""
    from index.store.layout import load_array

    n = len(load_array(index.folder, "article_keys"))
    return list(range(n - 1000, n))


def main() -> None:
    from index.answers.search import NewsIndex
    from index.follow.percolate import Percolator, Standing
    from index.store.build import build_index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/newsbot-follow-precision"))
    parser.add_argument(
        "--reuters",
        action="store_true",
        help="the Reuters questions against bench/percolate.py's index (give it as --index-dir)",
    )
    args = parser.parse_args()
    index_dir = args.index_dir
    if not args.reuters and not (index_dir / "CURRENT").exists():
        build_index([WIKINEWS], index_dir)
    index = NewsIndex.load(index_dir)
    asked, labels = (REUTERS_QUESTIONS, REUTERS_LABELS) if args.reuters else (QUESTIONS, LABELS)
    articles = (
        reuters_new_articles(index) if args.reuters else list(range(index.archive.n_articles))
    )
    questions = [
        Standing(n, q, tuple(index.analyzer.terms(q)), index.embed_question(q))
        for n, q in enumerate(asked)
    ]
    matches = Percolator(questions).match(index, articles)
    judged = []
    for m in matches:
        article = index.article(m.article)
        key = (m.standing_id, article.id)
        print(
            json.dumps(
                {
                    "question": m.standing_id,
                    "asked": asked[m.standing_id],
                    "article": article.id,
                    "title": article.title,
                    "sentence": index.sentence(m.row)[:200],
                    "coverage": round(m.coverage, 2),
                    "cosine": round(m.similarity, 2),
                    "relevant": labels.get(key),
                },
                ensure_ascii=False,
            )
        )
        judged.append(labels.get(key))
    known = [j for j in judged if j is not None]
    print(
        json.dumps(
            {
                "matches": len(matches),
                "labelled": len(known),
                "precision": round(sum(known) / len(known), 3) if known else None,
                "questions_matched": len({m.standing_id for m in matches}),
            }
        )
    )


if __name__ == "__main__":
    main()
