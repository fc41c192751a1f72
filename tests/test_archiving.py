"""The index is an archive: nothing is lost by a failed read, a scrolled feed or a bad build.

Issue #18's reproductions, each through `newsbot index` / `newsbot ask` with feeds served by a
loopback HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from index.answers.search import NewsIndex
from index.config import max_removal, retention
from index.sources.watch import articles_per_source
from index.store import layout
from index.store.archiving import read_stored
from index.store.build import build_from_articles, build_index
from index.store.build_settings import BuildSettings
from index.store.generations import current_generation, read_header
from tests.conftest import ROOT

# Made-up places: a question about one can be answered only by its own item.
PLACES = ["Aldmere", "Brackwater", "Corrindale", "Dunmoss", "Elsbury", "Farrowby", "Glenhallow",
          "Hollinford", "Ivycombe", "Jarrowgate", "Kestermoor", "Lindquay"]  # fmt: skip


def item(n: int, *, guid: str | None = None, place: str | None = None) -> str:
    """Return RSS item `n`: its own place, GUID and date."""
    where = place or PLACES[n]
    return (
        f"<item><title>Harbour of {where} reopens</title><guid>{guid or f'item-{n}'}</guid>"
        f"<pubDate>Tue, {3 + n:02d} Mar 2026 10:00:00 GMT</pubDate>"
        f"<description>The harbour of {where} reopened after the storm. Fishing boats "
        "returned to the quay.</description></item>"
    )


def story(place: str) -> str:
    """Return a text file's article about `place` (a second sentence, so that idf is not 0)."""
    return f"Harbour of {place}\nThe harbour of {place} reopened. Fishing boats returned.\n"


def rss(items: list[str], *, build_date: str | None = None) -> bytes:
    """Return an RSS feed of `items`."""
    built = f"<lastBuildDate>{build_date}</lastBuildDate>" if build_date else ""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Harbour News</title>'
        f"<link>http://127.0.0.1/</link>{built}{''.join(items)}</channel></rss>"
    ).encode()


class Feeds:
    """Feeds on 127.0.0.1 whose answers a test sets: `routes[path] = (status, body)`."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes | Callable[[], bytes]]] = {}
        self.requests = 0
        feeds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feeds.requests += 1
                status, body = feeds.routes.get(self.path, (404, b"not found"))
                if callable(body):
                    body = body()
                self.send_response(status)
                kind = "text/html" if body.lstrip().startswith(b"<!") else "application/rss+xml"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def feeds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Feeds]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = Feeds()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(5)


@pytest.fixture(autouse=True)
def quiet_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """BM25 alone (the subject here), no configured sources, and a folder without ./seeds."""
    monkeypatch.setenv("NEWSBOT_SEMANTIC", "off")
    for name in (
        "NEWSBOT_SOURCES",
        "NEWSBOT_INDEX_DIR",
        "NEWSBOT_RETENTION",
        "NEWSBOT_MAX_REMOVAL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def index(
    index_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """Run `newsbot index --json`; return its status, report and stderr."""
    status = main(["index", "--index-dir", str(index_dir), "--json", *args])
    out, err = capsys.readouterr()
    return status, json.loads(out.strip().splitlines()[-1]), err


def answered(index_dir: Path, place: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Return the best answer's article for a question about `place` (empty: none)."""
    assert main(["ask", "--index-dir", str(index_dir), "--json", f"What reopened in {place}?"]) == 0
    answers = json.loads(capsys.readouterr().out)["answers"]
    best = answers[0]["article"] if answers else {}
    return best if place in str(best.get("title", "")) else {}


def pointer(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text()


# -- nothing is lost by a failed build -----------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("full", [False, True])
def test_every_source_failing_commits_nothing_and_exits_1(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str], full: bool
) -> None:
    """Regression: a 503 replaced the good index with an empty one and deleted the old."""
    feeds.routes["/feed"] = (200, rss([item(0), item(1)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0
    before = pointer(index_dir)
    feeds.routes["/feed"] = (503, b"Service Unavailable")
    status, report, err = index(index_dir, *(["--full"] * full), capsys=capsys)
    assert status == 1
    assert report["committed"] is False
    assert report["failed_sources"] == [feeds.url("/feed")]
    assert "every source failed" in str(report["refused"])
    assert len(err.strip().splitlines()) == 1 and "every source failed" in err
    assert pointer(index_dir) == before
    assert answered(index_dir, "Aldmere", capsys) and answered(index_dir, "Brackwater", capsys)


@pytest.mark.process
@pytest.mark.parametrize(
    "failure",
    [
        (503, b"Service Unavailable"),
        (200, b"<!DOCTYPE html><html><body>Checking your browser...</body></html>"),
    ],
    ids=["503", "html-page"],
)
def test_a_failing_feed_keeps_its_articles_while_a_folder_change_commits(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str], failure: tuple[int, bytes]
) -> None:
    """Regression: a feed answering 503 (or an HTML page) during an update lost its articles."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Budget\nThe council of Lindquay approved the budget.\n")
    feeds.routes["/feed"] = (200, rss([item(n) for n in range(5)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, str(folder), feeds.url("/feed"), capsys=capsys)[0] == 0
    feeds.routes["/feed"] = failure
    (folder / "b.txt").write_text("Bridge\nThe bridge of Kestermoor opened on Friday.\n")
    status, report, _ = index(index_dir, capsys=capsys)  # the remembered sources
    assert status == 0
    assert (report["added"], report["removed"], report["articles"]) == (1, 0, 7)
    assert report["failed_sources"] == [feeds.url("/feed")]
    assert all(answered(index_dir, place, capsys) for place in PLACES[:5])


def test_a_folder_that_comes_up_empty_keeps_its_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: an unmounted share emptied its part of the index."""
    share, local = tmp_path / "share", tmp_path / "local"
    for folder, place in ((share, "Aldmere"), (local, "Brackwater")):
        folder.mkdir()
        (folder / "a.txt").write_text(story(place))
    index_dir = tmp_path / "index"
    assert index(index_dir, str(share), str(local), capsys=capsys)[0] == 0
    (share / "a.txt").unlink()  # the share, unmounted: an empty folder
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["committed"], report["failed_sources"]) == (0, False, [str(share)])
    shutil.rmtree(share)  # gone altogether
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["failed_sources"]) == (0, [str(share)])
    assert answered(index_dir, "Aldmere", capsys)


def test_removing_more_than_the_allowed_share_commits_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for n, place in enumerate(PLACES[:10]):
        (folder / f"{n}.txt").write_text(story(place))
    index_dir = tmp_path / "index"
    assert index(index_dir, str(folder), capsys=capsys)[0] == 0
    before = pointer(index_dir)
    for n in range(3):
        (folder / f"{n}.txt").unlink()
    status, report, err = index(index_dir, capsys=capsys)
    assert (status, report["committed"]) == (1, False)
    assert "remove 3 of 10 articles (30%), more than NEWSBOT_MAX_REMOVAL=20%" in err
    assert pointer(index_dir) == before and answered(index_dir, "Aldmere", capsys)
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", "30%")  # the operator allows it
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["committed"], report["removed"], report["articles"]) == (0, True, 3, 7)
    assert not answered(index_dir, "Aldmere", capsys)


@pytest.mark.process
def test_a_feed_that_only_rewrites_its_build_date_makes_no_generation(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: every poll of such a feed made a new generation (added=0 removed=0)."""
    builds = iter(range(100))
    feeds.routes["/feed"] = (
        200,
        lambda: rss([item(0)], build_date=formatdate(1_700_000_000 + next(builds), usegmt=True)),
    )
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0
    before = pointer(index_dir)
    status, report, _ = index(index_dir, feeds.url("/feed"), capsys=capsys)
    assert (status, report["committed"], report["refused"]) == (0, False, None)
    assert pointer(index_dir) == before
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == [
        before.strip()
    ]


# -- archive semantics ---------------------------------------------------------------------------


@pytest.mark.process
def test_items_that_scroll_off_a_feed_stay_answerable_through_updates_and_full(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: when items 0-4 became 3-7, items 0-2 were removed."""
    feeds.routes["/feed"] = (200, rss([item(n) for n in range(5)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0
    feeds.routes["/feed"] = (200, rss([item(n) for n in range(3, 8)]))
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["added"], report["removed"], report["articles"]) == (0, 3, 0, 8)
    assert all(answered(index_dir, place, capsys) for place in PLACES[:8])
    update_scores = [
        json.loads(_ask(index_dir, place, capsys))["answers"][0]["score"] for place in PLACES[:8]
    ]
    status, report, _ = index(index_dir, "--full", capsys=capsys)  # the archive, not the feed
    assert (status, report["full"], report["articles"]) == (0, True, 8)
    full_scores = [
        json.loads(_ask(index_dir, place, capsys))["answers"][0]["score"] for place in PLACES[:8]
    ]
    assert update_scores == full_scores  # an update answers as a full build of the archive


def _ask(index_dir: Path, place: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["ask", "--index-dir", str(index_dir), "--json", f"What reopened in {place}?"]) == 0
    return capsys.readouterr().out


@pytest.mark.process
def test_an_older_format_index_is_rebuilt_from_what_it_holds(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds.routes["/feed"] = (200, rss([item(n) for n in range(3)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0
    downgrade_to_format_5(current_generation(index_dir))
    feeds.routes["/feed"] = (200, rss([item(n) for n in range(2, 4)]))  # 0 and 1 scrolled away
    # Format 5 remembered no sources: named once, from now on remembered.
    status, report, _ = index(index_dir, feeds.url("/feed"), capsys=capsys)
    assert (status, report["full"], report["articles"]) == (0, True, 4)
    assert any("taken from their sentences" in note for note in report["notes"])
    assert all(answered(index_dir, place, capsys) for place in PLACES[:4])
    assert read_header(current_generation(index_dir))["sources"] == [feeds.url("/feed")]


def downgrade_to_format_5(generation: Path) -> None:
    """Make a generation look as format 5 wrote it: no bodies, origins or sources."""
    for name in (layout.ARTICLE_BODIES, "body_offsets.npy"):
        (generation / name).unlink()
    lines = (generation / layout.ARTICLE_LINES).read_text(encoding="utf-8").splitlines()
    old = []
    for line in lines:
        meta = json.loads(line)
        del meta["origin"], meta["first_seen"]
        meta["id"] = meta["id"].split(" ", 1)[1]  # format 5's ids: the GUID alone
        old.append(json.dumps(meta, ensure_ascii=False) + "\n")
    (generation / layout.ARTICLE_LINES).write_text("".join(old), encoding="utf-8")
    import numpy as np

    offsets = np.zeros(len(old) + 1, dtype=np.int64)
    np.cumsum([len(line.encode()) for line in old], out=offsets[1:])
    (generation / "article_offsets.npy").unlink()
    layout.save_array(generation, "article_offsets", offsets)
    header = json.loads((generation / layout.HEADER).read_text())
    header["format_version"] = 5
    del header["sources"]
    header["files"] = layout.describe_files(generation)
    (generation / layout.HEADER).write_text(json.dumps(header))


# -- the index remembers its sources -------------------------------------------------------------


@pytest.mark.process
def test_index_without_arguments_reads_the_sources_the_index_remembers(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: `newsbot index` compared an index of 2,766 articles with ./seeds."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("Budget\nThe council of Lindquay approved the budget.\n")
    feeds.routes["/feed"] = (200, rss([item(0)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, str(folder), capsys=capsys)[0] == 0
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0  # naming one adds it
    header = read_header(current_generation(index_dir))
    assert header["sources"] == [str(folder), feeds.url("/feed")]
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")  # a ./seeds the run must not read
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["committed"], report["articles"]) == (0, False, 2)
    status, report, _ = index(index_dir, "--remove", feeds.url("/feed"), capsys=capsys)
    assert (status, report["committed"], report["articles"]) == (0, True, 1)
    assert read_header(current_generation(index_dir))["sources"] == [str(folder)]
    assert not answered(index_dir, "Aldmere", capsys)
    assert main(["index", "--index-dir", str(index_dir), "--remove", "/no/such"]) == 2
    assert "not a source of this index: /no/such" in capsys.readouterr().err


def test_an_existing_index_folder_is_never_filled_from_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "LOCK").touch()  # a stale lock of a build that never committed
    assert main(["index", "--index-dir", str(index_dir)]) == 2
    assert "no sources to read: name one (`newsbot index SOURCE`" in capsys.readouterr().err
    assert not (index_dir / "CURRENT").exists()
    # A folder that does not exist yet: the README's first command, from ./seeds.
    assert main(["index", "--index-dir", str(tmp_path / "new")]) == 0


def test_ask_outside_the_clone_says_how_to_index_ones_own_news(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: `newsbot ask` outside the clone failed with "source not found: ./seeds"."""
    assert main(["ask", "--index-dir", str(tmp_path), "What happened?"]) == 2
    err = capsys.readouterr().err
    assert "no index yet: index your own news with `newsbot index SOURCE`" in err
    assert "./seeds" not in err


# -- ids per source, first_seen, retention -------------------------------------------------------


@pytest.mark.process
def test_two_outlets_numbering_items_alike_keep_all_six(
    feeds: Feeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: feed GUIDs were global ids: the second outlet's items 1-3 were dropped."""
    feeds.routes["/a"] = (200, rss([item(n, guid=str(n + 1)) for n in range(3)]))
    feeds.routes["/b"] = (200, rss([item(n, guid=str(n - 2)) for n in range(3, 6)]))
    # A hostile feed copying outlet a's GUIDs suppresses nothing of a's.
    feeds.routes["/hostile"] = (
        200,
        rss([item(n, guid=str(n + 1), place=f"Spoof{n}") for n in range(3)]),
    )
    index_dir = tmp_path / "index"
    urls = [feeds.url(p) for p in ("/hostile", "/a", "/b")]
    status, report, _ = index(index_dir, *urls, capsys=capsys)
    assert (status, report["articles"], report["duplicates"]) == (0, 9, 0)
    assert all(answered(index_dir, place, capsys) for place in PLACES[:6])
    # A copy of another outlet's text (its own GUID) is still a duplicate.
    feeds.routes["/copy"] = (200, rss([item(0, guid="copied")]))
    status, report, _ = index(index_dir, feeds.url("/copy"), capsys=capsys)
    assert (status, report["articles"]) == (0, 9)


@pytest.mark.process
def test_first_seen_is_kept_through_updates_and_compactions(
    feeds: Feeds,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(4):
        (folder / f"{n}.txt").write_text(story(PLACES[n + 6]))
    feeds.routes["/feed"] = (200, rss([item(0)]))
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), str(folder), capsys=capsys)[0] == 0
    first = answered(index_dir, "Aldmere", capsys)["first_seen"]
    assert isinstance(first, str) and first.endswith("Z")
    feeds.routes["/feed"] = (200, rss([item(1)]))
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", "100%")
    for n in range(3):  # 3 of 6 articles removed: compacted (25% dead)
        (folder / f"{n}.txt").unlink()
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["removed"], report["segments"]) == (0, 3, 1)
    assert layout.array_path(current_generation(index_dir), "dead_rows").exists() is False
    assert answered(index_dir, "Aldmere", capsys)["first_seen"] == first
    assert answered(index_dir, "Brackwater", capsys)["first_seen"] >= first
    status, report, _ = index(index_dir, "--full", capsys=capsys)
    assert answered(index_dir, "Aldmere", capsys)["first_seen"] == first


@pytest.mark.process
def test_retention_removes_old_articles_counted_apart(
    feeds: Feeds,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = item(0).replace("Tue, 03 Mar 2026", "Sun, 03 Mar 2024")
    feeds.routes["/feed"] = (200, rss([old, *(item(n) for n in range(1, 4))]))
    index_dir = tmp_path / "index"
    assert index(index_dir, feeds.url("/feed"), capsys=capsys)[0] == 0
    monkeypatch.setenv("NEWSBOT_RETENTION", "365d")
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", "0%")  # retention is not held against the cap
    status, report, _ = index(index_dir, capsys=capsys)
    assert (status, report["retention_removed"], report["articles"]) == (0, 1, 3)
    assert not answered(index_dir, "Aldmere", capsys)
    assert answered(index_dir, "Brackwater", capsys)
    monkeypatch.setenv("NEWSBOT_RETENTION", "a year")
    assert main(["index", "--index-dir", str(index_dir)]) == 2
    err = capsys.readouterr().err
    assert "NEWSBOT_RETENTION takes a duration such as 365d" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("", None),
        ("365d", timedelta(days=365)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_retention_values(raw: str, kept: timedelta | None) -> None:
    assert retention({"NEWSBOT_RETENTION": raw}) == kept


@pytest.mark.parametrize(("raw", "share"), [("", 0.2), ("20%", 0.2), ("0.5", 0.5), ("100%", 1.0)])
def test_max_removal_values(raw: str, share: float) -> None:
    assert max_removal({"NEWSBOT_MAX_REMOVAL": raw}) == pytest.approx(share)


@pytest.mark.parametrize("raw", ["150%", "-1", "lots", "nan%"])
def test_a_bad_max_removal_is_one_line(
    raw: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_MAX_REMOVAL", raw)
    assert main(["index", "--index-dir", str(tmp_path / "index"), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "NEWSBOT_MAX_REMOVAL takes a share such as 20%" in err
    assert len(err.strip().splitlines()) == 1


# -- the archive's rules, at random --------------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("seed", range(3))
def test_random_reads_keep_what_the_rules_say_and_an_update_answers_as_a_full_build(
    feeds: Feeds, tmp_path: Path, seed: int
) -> None:
    """A feed that scrolls, edits and fails, a folder that gains, loses and edits files.

    After each update the archive holds exactly what the rules keep (a model kept apart), and
    every live sentence scores as in a full build of that archive.
    """
    rng = random.Random(seed)
    folder, index_dir = tmp_path / "news", tmp_path / "index"
    folder.mkdir()
    settings = BuildSettings(semantic=False, max_removal=1.0)
    feed_items: dict[int, str] = {}  # what the feed says of item n now
    window = [0, 3]  # the items the feed shows: window[0] <= n < window[1]
    files: dict[str, str] = {"f0.txt": "File f0\nThe quarry of Zanthe0 closed. Rain fell.\n"}
    model: dict[int | str, tuple[str, ...]] = {}  # item number or file: (title, body) to hold
    for step in range(8):
        feed_up = True
        op = rng.choice(["scroll", "edit-item", "fail", "add-file", "delete-file", "edit-file"])
        if op == "scroll":
            window[0] += rng.randint(0, 2)
            window[1] += rng.randint(1, 3)
        elif op == "edit-item" and window[1] > window[0]:
            feed_items[rng.randrange(*window)] = f"edited at step {step}"
        elif op == "fail":
            feed_up = False
        elif op == "add-file":
            name = f"f{step + 1}.txt"
            files[name] = f"File {name}\nThe quarry of Zanthe{step + 1} closed. Rain fell.\n"
        elif op == "delete-file" and len(files) > 1:
            files.pop(rng.choice(sorted(files)))
        elif op == "edit-file":
            name = rng.choice(sorted(files))
            files[name] = files[name].replace("Rain fell.", f"Rain fell at step {step}.")
        shown = {
            n: f"{PLACES[n % len(PLACES)]}{n} {feed_items.get(n, '')}".strip()
            for n in range(*window)
        }
        body = rss([item(n, place=place) for n, place in shown.items()])
        feeds.routes["/feed"] = (200, body) if feed_up else (503, b"down")
        for stale in set(p.name for p in folder.iterdir()) - set(files):
            (folder / stale).unlink()
        for name, text in files.items():
            (folder / name).write_text(text)
        # The model: files mirror the folder; feed items, once read, stay with their last text.
        model = {key: kept for key, kept in model.items() if isinstance(key, int)}
        model.update({name: tuple(text.strip().split("\n", 1)) for name, text in files.items()})
        if feed_up:  # an item, once read, stays; read again, it has its new text
            for n, place in shown.items():
                model[n] = (
                    f"Harbour of {place} reopens",
                    f"The harbour of {place} reopened after the storm. Fishing boats returned to "
                    "the quay.",
                )
        report = build_index([folder, feeds.url("/feed")], index_dir, settings, full=False)
        assert report.refused is None, (step, op, report.refused)
        stored = read_stored(index_dir)
        assert sorted((a.title, a.text) for a in stored.articles) == sorted(model.values()), (
            step,
            op,
        )
        assert report.failed_sources == (() if feed_up else (feeds.url("/feed"),))

        full_dir = tmp_path / f"full-{step}"
        build_from_articles(stored.articles, full_dir, settings)
        updated, full = (NewsIndex.load(d, semantic=False) for d in (index_dir, full_dir))
        for question in ("quarry closed rain", "Aldmere0 edited storm", "Zanthe1 step"):
            got, want = scored(updated, question), scored(full, question)
            assert [text for text, _ in got] == [text for text, _ in want]
            assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-12)


def scored(news: NewsIndex, question: str) -> list[tuple[str, float]]:
    """Return every live sentence with its BM25 score for `question`, sorted."""
    scores = news.bm25.scores(news.analyze(question).terms)
    return sorted((news.sentence(int(r)), float(scores[r])) for r in news.live_rows)


def test_feeds_counts_articles_read_by_absolute_path_for_sources_named_relative(
    tmp_path: Path,
) -> None:
    """The index reads its sources by absolute path; `/feeds` may name them relative."""
    paths = [str(tmp_path / "news" / "a.txt"), "news/b.txt", "http://127.0.0.1/feed", None]
    assert articles_per_source(paths, ["news", "./news", "http://127.0.0.1/feed"]) == [2, 0, 1]
