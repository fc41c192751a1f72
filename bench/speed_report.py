"""What `bench.speed` prints: each size's table, the profile's, and how far engines agree.

`compare` adds to each engine's figures how many questions got newsbot's top 10 (rows, and rows
with scores) and the largest relative score difference; `table` renders them in Markdown.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np


def compare(figures: dict[str, Any]) -> None:
    """Record, for each engine, how its top 10 compares with newsbot's, rows and scores.

    `same_top10`: share of questions with the very same rows in the same order; `same_scores`:
    share with the same rows and every score within `index.answers.check.TOLERANCE` (relative) of
    newsbot's; `score_difference`: the largest relative difference between the two scores of a
    row both return, over every question; `overlap`: mean share of newsbot's rows that the engine
    also returns (bm25s scores in float32, so near-equal scores tie and swap).
    """
    # Imported here, not at the top: the serving workers, whose memory is measured, run this file.
    from index.answers.check import TOLERANCE

    engines = figures["engines"]
    if "newsbot" not in engines:
        return
    ours = engines["newsbot"]["results"]
    for figures_of in engines.values():
        theirs = figures_of.pop("results")
        pairs = list(zip(ours, theirs, strict=False))
        differences = [score_difference(a, b) for a, b in pairs]
        same_rows = [a[0] == b[0] for a, b in pairs]
        figures_of["compared"] = len(pairs)
        figures_of["same_top10"] = sum(same_rows) / len(pairs)
        figures_of["same_scores"] = sum(
            rows and d <= TOLERANCE for rows, d in zip(same_rows, differences, strict=True)
        ) / len(pairs)
        figures_of["score_difference"] = max(differences, default=0.0)
        figures_of["overlap"] = float(
            np.mean(
                [
                    len(set(a[0]) & set(b[0])) / len(a[0]) if a[0] else float(not b[0])
                    for a, b in pairs
                ]
            )
        )


def score_difference(ours: Sequence[Any], theirs: Sequence[Any]) -> float:
    """Return the largest relative difference of the scores of the rows both rankings hold."""
    from index.answers.check import relative_difference

    theirs_of = dict(zip(theirs[0], theirs[1], strict=True))
    return max(
        (
            relative_difference(score, theirs_of[row])
            for row, score in zip(ours[0], ours[1], strict=True)
            if row in theirs_of
        ),
        default=0.0,
    )


def table(size: str, figures: dict[str, Any]) -> str:
    """Return the Markdown table of one corpus size."""
    engines = figures["engines"]
    lines = [
        f"**{size}**: {figures['sentences']:,} sentences, {figures['tokens']:,} terms, "
        f"{figures['questions']} questions",
        "",
        "| engine | build s | load s | first query ms | p50 ms | p99 ms | peak RSS MB "
        "| disk MB | same top 10 | same rows and scores | largest score difference | overlap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine, f in engines.items():
        asked = "" if f["compared"] == figures["questions"] else f" ({f['compared']} asked)"
        lines.append(
            f"| {engine} | {f['build_s']:.1f} | {f['load_s']:.3f} | {f['first_query_ms']:.0f} "
            f"| {f['p50_ms']:.3f} | {f['p99_ms']:.3f} | {f['peak_rss_mb']:.0f} "
            f"| {f['disk_mb']:.0f} | {f['same_top10']:.1%}{asked} | {f['same_scores']:.1%} "
            f"| {f['score_difference']:.2g} | {f['overlap']:.1%} |"
        )
    ours = engines.get("newsbot")
    if ours:
        lines += ["", "newsbot ÷ peer (below 1: newsbot is faster or smaller):", ""]
        lines += ["| peer | build | load | p50 | p99 | peak RSS | disk |", "|---|" + "---:|" * 6]
        for engine, f in engines.items():
            if engine == "newsbot":
                continue
            ratios = [
                ours[key] / f[key] if f[key] else float("nan")
                for key in ("build_s", "load_s", "p50_ms", "p99_ms", "peak_rss_mb", "disk_mb")
            ]
            lines.append(f"| {engine} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    if "full_build" in figures:
        full = figures["full_build"]
        lines += [
            "",
            f"newsbot full build from raw articles (ingest, split, analyze, index, write; "
            f"{os.cpu_count()} cores): {full['full_build_s']:.1f} s, "
            f"{full['sentences']:,} sentences.",
        ]
    if "profile" in figures:
        lines += ["", profile_table(figures["profile"])]
    return "\n".join(lines)


def profile_table(p: dict[str, Any]) -> str:
    """Return the profile of newsbot's query path as Markdown."""
    rows = [
        ("whole `top_k`, µs", p["total_us"]),
        ("  numba kernel, µs", p["kernel_us"]),
        ("  Python around it, µs", p["python_us"]),
        ("postings of the query's terms", p["postings of the query terms"]),
        *((name, v) for name, v in p["work"].items()),
    ]
    lines = ["| newsbot query path | p50 | p90 | p99 |", "|---|---:|---:|---:|"]
    for name, v in rows:
        lines.append(f"| {name} | {v['p50']:,.0f} | {v['p90']:,.0f} | {v['p99']:,.0f} |")
    return "\n".join(lines)
