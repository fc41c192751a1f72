"""What `newsbot index`, `ask` and `check` print: answers and their sources, skips, check reports.

Rendering only: the library decided (`index.model.Findings`, `BuildReport`, `CheckReport`); this
module words it for a person, and gives `ask --json` its shape (a public contract: add, never
rename).
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from index.answers.check import CheckReport
from index.answers.excerpts import shown_passage
from index.answers.search import NewsIndex
from index.model import Answer, Article, Findings, Skipped
from index.scale.sharded import UNAVAILABLE, ShardsUnavailable
from index.store.build_report import BuildReport
from index.text.names import caveat, listed
from index.text.timeframe import shown_date

# Files of many articles, one a record: an answer from one is named by its record's id.
RECORD_SUFFIXES = frozenset({".jsonl", ".json", ".csv"})
NOTHING_FOUND = "Nothing relevant found in the indexed news."
NOTHING_MENTIONS = "Nothing relevant found: the closest articles never mention {names}."
NOTHING_IN_PERIOD = "Nothing relevant found in the indexed news of that time."


def print_index_report(report: BuildReport, *, verbose: bool) -> None:
    """Print what a build did for a person: skips and failures on stderr, the summary on stdout.

    A refused build's summary is the caller's error line (`index.cli.run_index`).
    """
    for line in skip_lines(report.skipped, verbose=verbose):
        print(line, file=sys.stderr)
    for source in report.failed_sources if report.refused is None else ():
        print(f"failed to read {source}: its articles were kept", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if report.committed:
        print(f"Indexed {report.summary()} into {report.folder.parent}")
    elif report.refused is None:
        print(report.summary().capitalize())


def skip_lines(skipped: Sequence[Skipped], *, verbose: bool) -> list[str]:
    """Return one line per kind of skip, '239 skipped: no article text', most common first.

    The kind is the reason without its parenthesis (an error's details differ line by line);
    `verbose` adds each skipped item under its kind.
    """
    kinds: dict[str, list[Skipped]] = {}
    for item in skipped:
        kinds.setdefault(item.reason.split(" (", 1)[0], []).append(item)
    lines = []
    for kind, items in sorted(kinds.items(), key=lambda pair: -len(pair[1])):
        lines.append(f"{len(items):,} skipped: {kind}")
        lines.extend(f"  {item}" for item in items if verbose)
    return lines


def ask_json(question: str, found: Findings, news: NewsIndex) -> dict[str, Any]:
    """Return `ask --json`'s object for one answered question, each answer with its copies."""
    from index.follow.stories import copies_quoting

    return {
        "question": question,
        "answers": [
            a.to_json() | {"also": [_also(c) for c in copies_quoting(news, a.article, a.sentence)]}
            for a in found.answers
        ],
        "period": found.period.to_json() if found.period else None,
        "missing_names": list(found.missing_names),
        "closest": [a.to_json() for a in found.closest],
    }


def _also(article: Article) -> dict[str, str | None]:
    """A copy of an answer's story, as `--json` lists it under `also`."""
    return {
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "date": article.date,
    }


def print_check(report: CheckReport, out: TextIO) -> None:
    """Print the verdict, then each disagreement (the first ten) for a person."""
    print(report.summary(), file=out)
    shown = report.disagreements()[:10]
    for c in shown:
        print(f"? {c.question}", file=out)
        print(f"   newsbot rows   {list(c.newsbot.rows)}", file=out)
        print(f"   rank_bm25 rows {list(c.rank_bm25.rows)}", file=out)
        print(f"   relative score difference {c.difference:.3g}", file=out)
    if len(report.disagreements()) > len(shown):
        print(f"... and {len(report.disagreements()) - len(shown):,} more", file=out)


def print_unavailable(question: str, exc: ShardsUnavailable, as_json: bool) -> None:
    """Say that part of the archive could not answer (`index.scale.sharded.UNAVAILABLE`)."""
    if as_json:
        payload = {"question": question, "answers": [], "unavailable_shards": list(exc.shards)}
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(UNAVAILABLE, flush=True)


def period_note(found: Findings) -> str:
    """Return what the answers say about the time the question named."""
    assert found.period is not None
    label = found.period.label()
    if found.elsewhere:
        return f"Nothing dated {label} answers this; these passages are from other dates."
    return f"{'Newest articles' if found.headlines else 'Only articles'} dated {label}."


def print_answers(question: str, found: Findings, out: TextIO, *, several: bool) -> None:
    """Print answers for a person: the period asked about, each passage, then its source.

    Passages are shown as the bot shows them, cut around their best sentence
    (`index.answers.excerpts.shown_passage`); `--json` has them whole. A question refused for
    names no article mentions gets its closest passages under the caveat that names them.
    """
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    answers = found.answers or found.closest
    if several:
        print(f"? {question}", file=out)
    if found.period is not None and found.answers:
        print(f"({period_note(found)})", file=out)
    if not found.answers:
        print(caveat(found.missing_names) if found.closest else nothing_found(found), file=out)
    for n, answer in enumerate(answers, 1):
        body = textwrap.fill(
            shown_passage(answer), width=width, initial_indent=f"{n}. ", subsequent_indent="   "
        )
        print(body, file=out)
        print(textwrap.indent(source_line(answer), "   — "), file=out)
        print(file=out)


def nothing_found(found: Findings) -> str:
    """Return what is printed when nothing answers: in the period asked about, or why not."""
    if found.period is not None:
        return NOTHING_IN_PERIOD
    if found.missing_names:
        return NOTHING_MENTIONS.format(names=listed(found.missing_names))
    return NOTHING_FOUND


def source_line(answer: Answer) -> str:
    """Return 'Title · Outlet · 6 Mar 1987 · link' with the parts that are known.

    Without a link, a JSON record is named by its id in its file (a file of 20,000 records
    named alone says little); any other file by its path. `--json` has every field as stored.
    """
    a = answer.article
    place = a.url or a.path
    if not a.url and a.path and Path(a.path).suffix.lower() in RECORD_SUFFIXES:
        place = f"{a.id} in {a.path}"
    parts = [a.title, a.source, shown_date(a.date), place]
    return " · ".join(p for p in parts if p)
