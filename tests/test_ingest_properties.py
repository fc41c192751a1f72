"""Property tests of reading: whatever the bytes, `read_sources` never raises and accounts for them.

Random bytes, truncated JSON lines, huge lines and wrong encodings are written as real files;
every bad item must come back in `skipped` (by file and line) and every good one as an article.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from index.sources.formats.text import paragraphs
from index.sources.ingest import SUPPORTED_SUFFIXES, read_sources

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@contextmanager
def folder() -> Iterator[Path]:
    # Not pytest's tmp_path: it is one folder for all the examples of a test.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def assert_clean(text: str) -> None:
    """Article text: non-empty lines, each trimmed, no control characters, encodable."""
    assert text
    for line in text.split("\n"):
        assert line and line == line.strip() and "  " not in line
    assert not CONTROL.search(text)
    text.encode("utf-8")


documents = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8")),
    st.text(max_size=300).map(lambda t: t.encode("utf-16")),
    st.text(max_size=300).map(lambda t: t.encode("utf-16-le")),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=300).map(
        lambda t: t.encode("latin-1")
    ),
    st.builds(
        lambda t, cut: json.dumps({"title": t, "text": t})[:cut].encode(),
        st.text(max_size=80),
        st.integers(0, 200),
    ),
    st.sampled_from(
        [
            b"<rss><channel><item><title>x</title></item></channel></rss>",
            b'<?xml version="1.0" encoding="bogus"?><rss/>',
            b"<html><body><p>\x00\x01</p></body></html>",
            b"---\n: : :\n---\n",
            b"---\ndate: 2026-13-45\n---\nBody.\n",
            b"[" * 100_000,
            b'{"a":' * 50_000,
            b"\xef\xbb\xbf",
            b"\xff\xfe\x00",
            b"/etc/passwd",
        ]
    ),
)


# Slow: 200 generated documents through every parser took 1 to 136 s (trafilatura on some inputs).
@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(content=documents, suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_any_bytes_in_any_format_never_raise_and_are_accounted_for(
    content: bytes, suffix: str
) -> None:
    with folder() as tmp:
        path = tmp / f"doc{suffix}"
        path.write_bytes(content)
        result = read_sources([path])
    assert [f.path for f in result.files] == [str(path)]
    assert result.articles or result.duplicates or result.skipped  # nothing vanishes silently
    for item in result.skipped:
        assert item.where == str(path) and item.reason
        assert not item.reason.startswith("cannot parse")  # no parser raised unexpectedly
        assert item.line is None or item.line >= 1
    for article in result.articles:
        assert article.id and article.title == article.title.strip()
        assert_clean(article.text)


good_lines = st.builds(
    lambda title, words: json.dumps({"title": title, "text": " ".join(["news", *words])}),
    st.text(max_size=30),
    st.lists(st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=12)),
)
bad_lines = st.one_of(
    # a JSON object cut short (at least its opening brace is kept)
    st.builds(
        lambda line, cut: line[: max(1, min(cut, len(line) - 1))], good_lines, st.integers(1, 200)
    ),
    st.sampled_from(["[1, 2]", '"text"', "null", "42", '{"body": null}', '{"id": "no title"}']),
    st.just('{"text": "' + "a" * 200_000),  # a huge truncated line
    st.just("[" * 50_000 + "]" * 50_000),  # nesting deeper than the recursion limit
    st.just(b'{"title": "\xff\xfe", "text": "latin-1 bytes"}'),
)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            good_lines.map(lambda line: ("good", line)),
            bad_lines.map(lambda line: ("bad", line)),
            st.sampled_from(["", "  ", "\r"]).map(lambda line: ("blank", line)),
            st.just(("good", json.dumps({"title": "Big", "text": "word " * 50_000}))),
            st.just(("good", '{"title": "A brief, its title alone"}')),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_every_bad_json_line_is_skipped_by_line_and_every_good_one_read(
    lines: list[tuple[str, str | bytes]],
) -> None:
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for _, line in lines)
    with folder() as tmp:
        path = tmp / "articles.jsonl"
        path.write_bytes(data)
        result = read_sources([path])
    bad = [n for n, (kind, _) in enumerate(lines, 1) if kind == "bad"]
    good = sum(kind == "good" for kind, _ in lines)
    if not bad and not good:
        assert [(s.line, s.reason) for s in result.skipped] == [(None, "empty file")]
        return
    assert [s.line for s in result.skipped] == bad
    assert len(result.articles) + result.duplicates == good
    for article in result.articles:
        assert_clean(article.text)


# A text file's lines end at any of these, as in `str.splitlines` for text: a wrongly decoded
# UTF-16 file can put a carriage return in the title line.
LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "utf-16-le", "koi8-r"]


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=20),
    body=st.text(st.characters(blacklist_categories=["Cs"]), max_size=200),
    encoding=st.sampled_from(ENCODINGS),
)
@example(title="0\u010d0", body="", encoding="utf-16-le")  # read as UTF-8: "0\0\r\x010\0\n\0"
@example(title="a\u2028b", body="story", encoding="utf-8")
def test_text_in_another_encoding_is_read_as_detected_or_skipped_with_its_line(
    title: str, body: str, encoding: str
) -> None:
    text = f"{title.strip() or 'T'}\n{body}"
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode(encoding, "replace")
    with folder() as tmp:
        path = tmp / "story.txt"
        path.write_bytes(data)
        result = read_sources([path])
    try:
        decoded = data.decode("utf-16" if encoding == "utf-16" else "utf-8-sig")
    except UnicodeDecodeError as error:
        # Read in the encoding charset-normalizer detects, said in a note; else skipped.
        if result.notes:
            (note,) = result.notes
            assert note.startswith(f"{path} is not UTF-8: read as ")
            encoding = note.removesuffix(" (detected)").rsplit(" ", 1)[1]
            assert result.articles or result.skipped or result.duplicates
            assert all(a.text in paragraphs(data.decode(encoding)) for a in result.articles)
            return
        first_bad_line = data.count(b"\n", 0, error.start) + 1
        assert [(s.line, s.reason) for s in result.skipped] == [
            (first_bad_line, "not valid UTF-8 text")
        ]
        assert result.articles == []
        return
    if result.articles:
        (article,) = result.articles
        title_and_body = LINE_BREAK.split(decoded, maxsplit=1)
        assert article.text == paragraphs(title_and_body[1] if len(title_and_body) > 1 else "")
    else:
        assert [s.reason for s in result.skipped] in (
            ["no article text after the title line"],
            ["empty file"],
        )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500), st.sampled_from([None, True, False]))
def test_paragraphs_are_clean_lines(text: str, unwrap: bool | None) -> None:
    result = paragraphs(text, unwrap=unwrap)
    if result:
        assert_clean(result)
    # Words survive (control characters aside): only whitespace changes.
    assert result.split() == CONTROL.sub(" ", text).split()
