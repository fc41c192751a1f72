"""Relevance of alerts: fixed standing questions against the Wikinews articles as new articles.

The 20 questions in `QUESTIONS` were written before any match was seen (16 on topics of the
corpus, 4 off-topic). Every match the percolator makes (one per question and article) is
printed with its sentence; `LABELS` holds the hand judgement of each (question, article): does
the article answer the standing question? Precision = relevant matches / matches.

    python -m bench.follow_precision            # prints matches and, with LABELS, precision
    python -m bench.follow_precision --index-dir /tmp/elsewhere   # built there once
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

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


def main() -> None:
    from index.answers.search import NewsIndex
    from index.follow.percolate import Percolator, Standing
    from index.store.build import build_index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/newsbot-follow-precision"))
    index_dir = parser.parse_args().index_dir
    if not (index_dir / "CURRENT").exists():
        build_index([WIKINEWS], index_dir)
    index = NewsIndex.load(index_dir)
    questions = [
        Standing(n, q, tuple(index.analyzer.terms(q)), index.embed_question(q))
        for n, q in enumerate(QUESTIONS)
    ]
    matches = Percolator(questions).match(index, list(range(index.archive.n_articles)))
    judged = []
    for m in matches:
        article = index.article(m.article)
        key = (m.standing_id, article.id)
        print(
            json.dumps(
                {
                    "question": m.standing_id,
                    "asked": QUESTIONS[m.standing_id],
                    "article": article.id,
                    "title": article.title,
                    "sentence": index.sentence(m.row)[:200],
                    "coverage": round(m.coverage, 2),
                    "cosine": round(m.similarity, 2),
                    "relevant": LABELS.get(key),
                },
                ensure_ascii=False,
            )
        )
        judged.append(LABELS.get(key))
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
