"""Reading sources: every format, bad input reported by name and line, feeds over loopback HTTP."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.ingest import read_sources
from index.model import Ingested
from tests.conftest import SEEDS

RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Loopback News</title>
<item><title>Council backs budget</title><link>https://news.example/budget</link>
<guid>budget-1</guid><pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;The council approved the budget.&lt;/p&gt;
&lt;p&gt;Residents cheered.&lt;/p&gt;</description>
</item>
<item><title>No body here</title><link>https://news.example/empty</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title>
<entry><title>Rates unchanged</title><id>urn:rates</id><updated>2026-01-05T12:00:00Z</updated>
<link href="https://wire.example/rates"/><content type="html">The bank kept rates at 4.5%.</content>
</entry></feed>"""

HTML = """<html><head><title>Port strike ends</title>
<link rel="canonical" href="https://paper.example/port"/>
<meta property="og:site_name" content="The Paper"/><meta name="date" content="2025-11-02"/></head>
<body><nav>Home | World</nav><article><h1>Port strike ends</h1>
<p>Dock workers in the port of Rotterdam ended a nine-day strike on Sunday after a pay deal.</p>
<p>The union said members would return to work on Monday morning, easing shipping delays.</p>
</article><footer>Copyright</footer></body></html>"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def skipped(result: Ingested) -> list[tuple[str, int | None, str]]:
    return [(Path(s.where).name, s.line, s.reason) for s in result.skipped]


def test_seed_text_file() -> None:
    result = read_sources([SEEDS])
    (article,) = result.articles
    assert article.title.startswith("Xi Jinping's Diplomatic Calls with Putin and Trump")
    assert "$228.1 billion in 2025" in article.text
    assert article.path == str(SEEDS / "000_00f4f1af09a5d285.txt")
    assert len(article.id) == 16
    assert result.files[0].size == (SEEDS / "000_00f4f1af09a5d285.txt").stat().st_size


def test_markdown_front_matter_and_markup(tmp_path: Path) -> None:
    write(
        tmp_path,
        "story.md",
        "---\ntitle: Bridge reopens\nurl: https://town.example/bridge\ndate: 2026-04-01\n"
        "source: Town Crier\n---\n# Bridge reopens\n\nThe **old bridge** reopened "
        "after [repairs](https://x.example) costing $2 million.\n\n- Traffic resumed.\n",
    )
    (article,) = read_sources([tmp_path]).articles
    assert (article.title, article.url, article.date, article.source) == (
        "Bridge reopens",
        "https://town.example/bridge",
        "2026-04-01",
        "Town Crier",
    )
    assert article.text == (
        "Bridge reopens\nThe old bridge reopened after repairs costing $2 million.\n"
        "Traffic resumed."
    )


def test_html_is_extracted_with_metadata(tmp_path: Path) -> None:
    write(tmp_path, "port.html", HTML)
    (article,) = read_sources([tmp_path]).articles
    assert article.title == "Port strike ends"
    assert article.url == "https://paper.example/port"
    assert article.source == "The Paper"
    assert article.date == "2025-11-02"
    assert article.text.startswith("Dock workers in the port of Rotterdam")
    assert "Copyright" not in article.text and "Home | World" not in article.text


def test_json_and_jsonl_accept_common_field_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.json",
        json.dumps(
            {
                "articles": [
                    {
                        "headline": "Wheat up",
                        "body": "Wheat prices rose.",
                        "link": "https://w.example",
                        "published": "2026-02-01T09:00:00Z",
                        "outlet": "Farm Wire",
                    },
                    {"title": "Corn down", "content": "Corn prices fell.", "id": 7},
                ]
            }
        ),
    )
    write(
        tmp_path,
        "b.jsonl",
        json.dumps({"title": "Oil", "text": "Oil rose.", "source": {"name": "AP"}}),
    )
    result = read_sources([tmp_path])
    wheat, corn, oil = result.articles
    assert (wheat.title, wheat.url, wheat.date, wheat.source) == (
        "Wheat up",
        "https://w.example",
        "2026-02-01",
        "Farm Wire",
    )
    assert (corn.id, corn.text) == ("7", "Corn prices fell.")
    assert oil.source == "AP"


def test_feed_files_rss_and_atom(tmp_path: Path) -> None:
    write(tmp_path, "news.rss", RSS)
    write(tmp_path, "wire.atom", ATOM)
    result = read_sources([tmp_path])
    budget, rates = result.articles
    assert (budget.title, budget.source, budget.date, budget.url, budget.id) == (
        "Council backs budget",
        "Loopback News",
        "2026-03-03",
        "https://news.example/budget",
        "budget-1",
    )
    assert budget.text == "The council approved the budget.\nResidents cheered."
    assert (rates.title, rates.date, rates.text) == (
        "Rates unchanged",
        "2026-01-05",
        "The bank kept rates at 4.5%.",
    )
    assert skipped(result) == [("news.rss", 2, "feed entry has no text")]


def test_broken_inputs_are_reported_by_name_and_line(tmp_path: Path) -> None:
    write(
        tmp_path, "lines.jsonl", '{"title": "A", "text": "Fine."}\n{oops\n[1, 2]\n{"title": "B"}\n'
    )
    write(tmp_path, "bad-utf8.txt", b"Title\nBody \xff\xfe broken.\n")
    write(
        tmp_path, "mixed.jsonl", b'{"title": "C", "text": "Ok."}\n{"title": "\xff", "text": "x"}\n'
    )
    write(tmp_path, "empty.txt", "")
    write(tmp_path, "title-only.txt", "Just a title\n\n")
    write(tmp_path, "front.md", "---\ntitle: [unclosed\n---\nBody.\n")
    write(tmp_path, "nobody.html", "<html><body></body></html>")
    write(tmp_path, "notes.docx", "ignored: unsupported in a folder")
    write(tmp_path, ".hidden.txt", "Hidden\nNot read.\n")
    result = read_sources([tmp_path])
    assert sorted(a.title for a in result.articles) == ["A", "C"]
    assert sorted(skipped(result)) == [
        ("bad-utf8.txt", 2, "not valid UTF-8 text"),
        ("empty.txt", None, "empty file"),
        ("front.md", 2, "front matter is not valid YAML (while parsing a flow sequence)"),
        ("lines.jsonl", 2, "invalid JSON (Expecting property name enclosed in double quotes: "
         "line 1 column 2 (char 1))"),
        ("lines.jsonl", 3, "expected a JSON object"),
        ("lines.jsonl", 4, "no article text (text, body or content)"),
        ("mixed.jsonl", 2, "not valid UTF-8 text"),
        ("nobody.html", None, "no article text found in the HTML"),
        ("title-only.txt", None, "no article text after the title line"),
    ]  # fmt: skip


def test_duplicates_by_id_or_text_are_read_once(tmp_path: Path) -> None:
    write(tmp_path, "a.jsonl", "\n".join([
        json.dumps({"id": "x1", "title": "One", "text": "Same story."}),
        json.dumps({"id": "x1", "title": "One again", "text": "Different text."}),
        json.dumps({"id": "x2", "title": "Copy", "text": "  SAME   story. "}),
    ]))  # fmt: skip
    result = read_sources([tmp_path])
    assert [a.title for a in result.articles] == ["One"]
    assert result.duplicates == 2


def test_symlinks_leading_outside_are_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", "secret.txt", "Secret\nPrivate notes.\n")
    news = tmp_path / "news"
    write(news, "real.txt", "Real\nA real story.\n")
    os.symlink(outside, news / "leak.txt")
    os.symlink(news / "real.txt", news / "alias.txt")
    os.symlink(outside.parent, news / "outdir")
    result = read_sources([news])
    assert [a.title for a in result.articles] == ["Real"]
    assert ("leak.txt", None, "symlink leads outside the source folder") in skipped(result)
    assert "Private notes." not in " ".join(a.text for a in result.articles)


def test_missing_and_unsupported_explicit_sources(tmp_path: Path) -> None:
    other = write(tmp_path, "x.docx", "nope")
    result = read_sources([tmp_path / "nope", other])
    assert skipped(result) == [
        ("nope", None, "cannot read: No such file or directory"),
        ("x.docx", None, "unsupported file type"),
    ]


class FeedServer:
    """A loopback HTTP server for feeds: normal, slow, huge, and redirecting routes."""

    def __init__(self) -> None:
        feed = RSS.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow":
                    time.sleep(2)
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return
                body = b"<rss>" + b"x" * 3_000_000 if self.path == "/huge" else feed
                if self.path == "/missing":
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def test_feed_url_over_http(feeds: FeedServer) -> None:
    result = read_sources([f"{feeds.url}/feed"])
    assert [a.title for a in result.articles] == ["Council backs budget"]
    assert result.articles[0].path == f"{feeds.url}/feed"
    assert result.files[0].path == f"{feeds.url}/feed"


def test_feed_fetching_has_a_timeout_a_size_cap_and_http_only(feeds: FeedServer) -> None:
    result = read_sources(
        [
            f"{feeds.url}/slow",
            f"{feeds.url}/huge",
            f"{feeds.url}/missing",
            f"{feeds.url}/redirect",
            "ftp://127.0.0.1/feed.xml",
            "file:///etc/passwd",
        ],
        timeout=0.5,
        max_bytes=1_000_000,
    )
    assert result.articles == []
    reasons = [s.reason for s in result.skipped]
    assert reasons[0] == "no answer within 0.5 s"
    assert reasons[1] == "larger than 1,000,000 bytes"
    assert reasons[2] == "HTTP status 404"
    assert reasons[3].startswith("fetch failed")
    assert reasons[4:] == ["only http(s) feed URLs are read"] * 2


def test_reuters_and_wikinews_corpora(corpus: Path) -> None:
    wikinews = read_sources([corpus / "wikinews-gum/articles.jsonl"])
    assert len(wikinews.articles) == 43
    reuters = read_sources([corpus / "reuters21578/articles.jsonl"])
    assert len(reuters.articles) + reuters.duplicates == 19043
    assert all(s.reason == "no article text (text, body or content)" for s in reuters.skipped)
    first = reuters.articles[0]
    assert first.title == "BAHIA COCOA REVIEW" and first.date == "1987-02-26"
    assert first.text.startswith("Showers continued throughout the week in the Bahia cocoa zone,")


FORMATS = [".txt", ".md", ".html", ".json", ".jsonl", ".xml", ".rss", ".atom"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000).map(lambda t: t.encode("utf-8")),
        st.text(max_size=200).map(lambda t: t.encode("utf-16")),
        st.builds(
            lambda t: json.dumps({"title": t, "text": t})[: len(t)].encode(), st.text(max_size=80)
        ),
    ),
    suffix=st.sampled_from(FORMATS),
)
def test_any_bytes_in_any_format_never_raise(tmp_path: Path, content: bytes, suffix: str) -> None:
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(content)
    result = read_sources([path])
    assert len(result.files) == 1
    for article in result.articles:
        assert article.text.strip() and article.id
    for item in result.skipped:
        assert item.where == str(path) and item.reason


def test_huge_lines_are_read(tmp_path: Path) -> None:
    body = "Word " * 200_000 + "end."
    write(tmp_path, "big.jsonl", json.dumps({"title": "Big", "text": body}) + "\n{bad\n")
    result = read_sources([tmp_path])
    assert [a.title for a in result.articles] == ["Big"]
    assert skipped(result)[0][:2] == ("big.jsonl", 2)
