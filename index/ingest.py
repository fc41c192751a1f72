"""Read articles from sources: files, folders (recursively) and RSS/Atom feed URLs.

Bad input never stops a read: a file, line or feed entry that cannot be used becomes a `Skipped`
with its name, line and reason, and the rest is read. Only regular files under the configured
paths are read: symlinks that lead outside a source folder are not followed. Feeds are fetched
over http(s) only, with a timeout and a size cap.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx

from index.formats import (
    Draft,
    Parsed,
    Problem,
    parse_feed,
    parse_html,
    parse_json,
    parse_jsonl,
    parse_markdown,
    parse_txt,
)
from index.model import Article, Ingested, Skipped, SourceFile

PARSERS: dict[str, Callable[[str], Parsed]] = {
    ".txt": parse_txt,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
    ".xml": parse_feed,
    ".rss": parse_feed,
    ".atom": parse_feed,
}
USER_AGENT = "newsbot/0.1 (+feed reader)"


def read_sources(
    sources: Sequence[str | Path],
    *,
    timeout: float = 10.0,
    max_bytes: int = 20_000_000,
    max_file_bytes: int = 2_000_000_000,
) -> Ingested:
    """Read every article from `sources`, each article once.

    Args:
        sources: Files, folders (read recursively, in sorted order) and http(s) feed URLs.
        timeout: Seconds allowed for each feed request.
        max_bytes: Largest feed fetched; a larger one is skipped.
        max_file_bytes: Largest local file read; a larger one is skipped.

    Returns:
        The articles (repeats by id or by normalized text dropped and counted), the skipped items
        with reasons, and a manifest of what was read.
    """
    result = Ingested()
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    for source in sources:
        name = str(source)
        documents = (
            _fetch(name, timeout, max_bytes, result)
            if "://" in name
            else _files(Path(name), max_file_bytes, result)
        )
        for where, parsed in documents:
            for item in parsed:
                if isinstance(item, Problem):
                    result.skipped.append(Skipped(where, item.line, item.reason))
                    continue
                article = _article(item, where)
                fingerprint = _fingerprint(article.text)
                if article.id in seen_ids or fingerprint in seen_texts:
                    result.duplicates += 1
                    continue
                seen_ids.add(article.id)
                seen_texts.add(fingerprint)
                result.articles.append(article)
    return result


def _article(draft: Draft, where: str) -> Article:
    """Give a draft its stable id and path."""
    article_id = draft.id or _fingerprint(f"{draft.title}\n{draft.text}")[:16]
    return Article(
        id=article_id,
        title=draft.title,
        text=draft.text,
        source=draft.source,
        date=draft.date,
        url=draft.url,
        path=where,
    )


def _fingerprint(text: str) -> str:
    """Hash of the text after case folding and collapsing whitespace."""
    return hashlib.sha256(" ".join(text.casefold().split()).encode("utf-8")).hexdigest()


def _files(root: Path, max_bytes: int, result: Ingested) -> Iterator[tuple[str, Parsed]]:
    """Yield (path, parsed documents) for a file, or for each supported file under a folder."""
    try:
        info = root.stat()
    except OSError as exc:
        result.skipped.append(Skipped(str(root), None, f"cannot read: {exc.strerror}"))
        return
    if stat.S_ISREG(info.st_mode):
        if root.suffix.lower() not in PARSERS:
            result.skipped.append(Skipped(str(root), None, "unsupported file type"))
            return
        yield from _read_file(root, max_bytes, result)
        return
    if not stat.S_ISDIR(info.st_mode):
        result.skipped.append(Skipped(str(root), None, "not a regular file or folder"))
        return
    top = root.resolve()
    for folder, dirs, names in os.walk(root, followlinks=False, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in PARSERS:
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(top):
                result.skipped.append(
                    Skipped(str(path), None, "symlink leads outside the source folder")
                )
                continue
            if not path.is_file():
                result.skipped.append(Skipped(str(path), None, "not a regular file"))
                continue
            yield from _read_file(path, max_bytes, result)


def _read_file(path: Path, max_bytes: int, result: Ingested) -> Iterator[tuple[str, Parsed]]:
    """Read, record in the manifest, decode and parse one file."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            result.skipped.append(Skipped(where, None, f"larger than {max_bytes:,} bytes"))
            return
        data = path.read_bytes()
    except OSError as exc:
        result.skipped.append(Skipped(where, None, f"cannot read: {exc.strerror}"))
        return
    result.files.append(SourceFile(where, len(data), hashlib.sha256(data).hexdigest()))
    parser = PARSERS[path.suffix.lower()]
    if parser is parse_feed:
        yield where, parse_feed(data)
        return
    text = _decode(data, where, result, per_line=parser is parse_jsonl)
    if text is not None:
        yield where, parser(text)


def _decode(data: bytes, where: str, result: Ingested, *, per_line: bool) -> str | None:
    """Decode UTF-8 (with or without BOM); report where it is not.

    For JSON Lines, each bad line is reported and blanked so the other lines still count.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if not per_line:
            result.skipped.append(Skipped(where, line, "not valid UTF-8 text"))
            return None
    lines = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(raw.decode("utf-8-sig" if n == 1 else "utf-8"))
        except UnicodeDecodeError:
            result.skipped.append(Skipped(where, n, "not valid UTF-8 text"))
            lines.append("")
    return "\n".join(lines)


def _fetch(
    url: str, timeout: float, max_bytes: int, result: Ingested
) -> Iterator[tuple[str, Parsed]]:
    """Fetch a feed over http(s) with a timeout and a size cap, and parse it."""
    if not url.lower().startswith(("http://", "https://")):
        result.skipped.append(Skipped(url, None, "only http(s) feed URLs are read"))
        return
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                result.skipped.append(Skipped(url, None, f"HTTP status {response.status_code}"))
                return
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    result.skipped.append(Skipped(url, None, f"larger than {max_bytes:,} bytes"))
                    return
                chunks.append(chunk)
    except httpx.TimeoutException:
        result.skipped.append(Skipped(url, None, f"no answer within {timeout:g} s"))
        return
    except httpx.HTTPError as exc:
        result.skipped.append(Skipped(url, None, f"fetch failed ({type(exc).__name__}: {exc})"))
        return
    data = b"".join(chunks)
    result.files.append(SourceFile(url, len(data), hashlib.sha256(data).hexdigest()))
    yield url, parse_feed(data)
