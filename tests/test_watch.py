"""Rescanning file sources: size and mtime first, a hash only when they moved, content decides."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from index.answers.search import NewsIndex
from index.sources.watch import (
    Changes,
    FileStamp,
    Snapshot,
    articles_per_source,
    changes,
    needs_hash,
    rebase,
    rescan,
)
from index.store.build import build_index

A = FileStamp(5, 100, "aa")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_file_is_hashed_only_when_new_or_its_size_or_mtime_moved() -> None:
    assert needs_hash(None, 5, 100) is True
    assert needs_hash(A, 5, 100) is False
    assert needs_hash(A, 6, 100) is True
    assert needs_hash(A, 5, 101) is True
    assert needs_hash(FileStamp(5, None, "aa"), 5, 100) is True  # from a manifest: no mtime


def test_changes_compare_content_not_mtime() -> None:
    old = Snapshot({"a.txt": A, "b.txt": FileStamp(1, 1, "bb"), "c.txt": FileStamp(1, 1, "cc")})
    new = Snapshot(
        {
            "a.txt": FileStamp(5, 999, "aa"),  # touched: same content
            "b.txt": FileStamp(1, 2, "b2"),  # edited
            "d.txt": FileStamp(1, 1, "dd"),  # new
        }
    )
    assert changes(old, new) == Changes(added=("d.txt",), removed=("c.txt",), modified=("b.txt",))
    assert not changes(old, old)
    assert changes(old, new).summary() == "1 added, 1 removed, 1 modified"


def test_rescan_sees_edits_additions_and_removals_but_not_a_touch(tmp_path: Path) -> None:
    news = tmp_path / "news"
    (news / "world").mkdir(parents=True)
    (news / "a.txt").write_text("Alpha\nFirst story.\n")
    (news / "world" / "b.md").write_text("# Beta\n")
    (news / ".hidden.txt").write_text("not read\n")
    (news / "notes.docx").write_text("not a supported type\n")
    first = rescan([str(news)])
    assert first.files == {
        f"{news}/a.txt": FileStamp(
            19, (news / "a.txt").stat().st_mtime_ns, sha("Alpha\nFirst story.\n")
        ),
        f"{news}/world/b.md": FileStamp(
            7, (news / "world" / "b.md").stat().st_mtime_ns, sha("# Beta\n")
        ),
    }
    assert rescan([str(news)], first) == first

    stat = (news / "a.txt").stat()
    os.utime(news / "a.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    touched = rescan([str(news)], first)
    assert touched != first  # the new mtime is remembered, so the next rescan does not hash
    assert not changes(first, touched)

    (news / "a.txt").write_text("Alpha\nFirst story, corrected.\n")
    (news / "c.txt").write_text("Gamma\nNew story.\n")
    (news / "world" / "b.md").unlink()
    assert changes(touched, rescan([str(news)], touched)) == Changes(
        added=(f"{news}/c.txt",), removed=(f"{news}/world/b.md",), modified=(f"{news}/a.txt",)
    )


def test_same_size_and_mtime_is_trusted_without_reading(tmp_path: Path) -> None:
    # The price of cheap rescans: an edit that keeps both size and mtime goes unseen.
    story = tmp_path / "a.txt"
    story.write_text("Alpha\n")
    first = rescan([str(story)])
    stat = story.stat()
    story.write_text("Omega\n")
    os.utime(story, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not changes(first, rescan([str(story)], first))


def test_urls_are_not_files() -> None:
    assert rescan(["https://example.org/feed.xml"]) == Snapshot()


def test_the_manifest_is_the_baseline_and_rebase_keeps_what_agrees(tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    (news / "a.txt").write_text("Alpha\nCouncil votes on the budget.\n")
    (news / "b.txt").write_text("Beta\nThe mayor resigns.\n")
    build_index([news], tmp_path / "index")
    index = NewsIndex.load(tmp_path / "index", semantic=False)
    indexed = Snapshot.from_manifest(index.header["manifest"])
    assert {p: (s.size, s.mtime_ns) for p, s in indexed.files.items()} == {
        f"{news}/a.txt": (35, None),
        f"{news}/b.txt": (24, None),
    }
    scanned = rescan([str(news)])
    assert not changes(indexed, scanned)  # the paths and hashes are the manifest's

    (news / "b.txt").write_text("Beta\nThe mayor stays.\n")
    (news / "c.txt").write_text("Gamma\nA new bridge.\n")
    later = rescan([str(news)], scanned)
    baseline = rebase(later, indexed)
    assert baseline.files[f"{news}/a.txt"] is later.files[f"{news}/a.txt"]  # agrees: kept
    assert baseline.files[f"{news}/b.txt"] is indexed.files[f"{news}/b.txt"]  # the index's
    assert baseline.files[f"{news}/c.txt"] is later.files[f"{news}/c.txt"]  # not in the build
    assert changes(baseline, rescan([str(news)], baseline)) == Changes(modified=(f"{news}/b.txt",))


def test_articles_are_counted_by_the_source_that_gave_them() -> None:
    paths = ["news/a.txt", "news/world/b.md", "https://x.org/rss", None, "newsroom/c.txt"]
    sources = ["./news", "https://x.org/rss", "newsroom/c.txt", "https://y.org/rss"]
    assert articles_per_source(paths, sources) == [2, 1, 1, 0]
