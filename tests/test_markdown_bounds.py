"""Markdown markup that never backtracks over a paragraph (found by hypothesis: "[[[[..." hung).

Each hostile paragraph below made an inline pattern of `index.sources.formats.markdown` scan the
rest of the paragraph from every position: a 200 KB run of backticks took over an hour, a run
of brackets minutes. Bounded spans make each pattern linear; the timeout is what fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.sources.ingest import read_sources

HOSTILE = {
    "brackets": "[" * 200_000,
    "backticks": "`" * 200_000,
    "open emphasis": "**a " * 50_000,
    "open links": "[a](" * 50_000,
    "images": "![" * 100_000,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("paragraph", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_paragraph_is_read_not_hung_on(tmp_path: Path, paragraph: str) -> None:
    (tmp_path / "hostile.md").write_text(
        f"# Hostile\n\nSome text.\n\n{paragraph}\n", encoding="utf-8"
    )
    result = read_sources([tmp_path])
    assert [a.title for a in result.articles] == ["Hostile"]
    assert result.articles[0].text.startswith("Some text.")


def test_markup_is_still_removed() -> None:
    from index.sources.formats.markdown import parse_markdown

    text = "# T\n\nSee [the report](https://x.org) and `code` with **bold**, *it* and _it_.\n"
    (article,) = list(parse_markdown(text))
    assert "See the report and code with bold, it and it." in article.text
