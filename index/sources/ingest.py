"""Read articles from sources: files, folders (recursively) and RSS/Atom feed URLs.

Bad input never stops a read: a file, line or feed entry that cannot be used becomes a `Skipped`
with its name, line and reason, and the rest is read. Only regular files are read, and symlinks
inside a source folder that lead outside it are not followed. Feeds are fetched over http(s)
only (redirects too), within a time limit and a size cap.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from index.config import is_url
from index.model import Article, Ingested, Skipped, SourceFile
from index.sources.feedpoll import feed_response
from index.sources.feedschedule import (
    FeedState,
    RefreshPolicy,
    after_failure,
    after_success,
    refresh_from_env,
)
from index.sources.fetch import (
    FETCH_TIMEOUT,
    MAX_BYTES,
    MAX_REDIRECTS,
    USER_AGENT,
    FetchError,
    FetchLimits,
    Validators,
    fetch_blocking,
    limits_from_env,
)
from index.sources.formats.dates import clamp_date
from index.sources.formats.encodings import decode_detected
from index.sources.formats.feeds import parse_feed
from index.sources.formats.html import parse_html
from index.sources.formats.jsonl import parse_json, parse_jsonl
from index.sources.formats.markdown import parse_markdown
from index.sources.formats.records import Draft, Parsed, Problem
from index.sources.formats.tables import parse_csv
from index.sources.formats.text import parse_txt
from index.sources.spool import Spool

logger = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[str], Parsed]] = {
    ".txt": parse_txt,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
    ".csv": parse_csv,
}
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom"})
SUPPORTED_SUFFIXES = frozenset(PARSERS) | FEED_SUFFIXES
ENCODING_NOTE = "{where} is not UTF-8: read as {encoding} (detected)"
MAX_FILE_BYTES = 1 << 30  # a sanity limit for local files; they are read whole
__all__ = [
    "MAX_REDIRECTS",
    "USER_AGENT",
    "read_sources",
]  # the feed limits live in index.sources.fetch

_HTML_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # so that opening a FIFO does not wait for a writer
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


@dataclass(frozen=True, slots=True)
class _Document:
    """The bytes of one file or fetched feed, before parsing."""

    where: str
    suffix: str
    data: bytes
    content_type: str | None = None


def read_sources(
    sources: Sequence[str | Path],
    *,
    timeout: float = FETCH_TIMEOUT,
    max_bytes: int = MAX_BYTES,
    spool: Spool | None = None,
    fresh: bool = False,
) -> Ingested:
    """Read every article from `sources`, each article once.

    Args:
        sources: Files, folders (read recursively, in sorted order, hidden entries and
            unsupported file types left out) and http(s) feed URLs. A single string or path
            is taken as one source.
        timeout: Seconds allowed for fetching each feed, redirects and body included.
        max_bytes: Largest feed fetched; a larger one is skipped.
        spool: The index's feed spool: a feed is read from it, and fetched (conditionally,
            into it) when it has no body there or `fresh` asks. None: every feed is
            fetched, and nothing is kept.
        fresh: With a spool, fetch every feed now (conditionally: an unchanged feed costs a
            304), as a person running `newsbot index` expects. False: a feed the spool
            holds a body of is read from it, due or not, and only a feed without one is
            fetched (the bot's build child: a feed is fetched by the poller alone).

    Returns:
        The articles (repeats by id or by normalized text dropped and counted; each with the
        source it came from as `origin`, the source as given), the skipped items with reasons,
        a manifest of every file and feed read, and the sources that failed to read
        (`Ingested.failed_sources`: a feed URL or a path that gave no article and an error).
    """
    if isinstance(sources, str | Path):
        sources = [sources]
    result = Ingested()
    seen_ids: set[str] = set()
    seen_texts: set[bytes] = set()
    seen_files: set[tuple[int, int]] = set()
    read_at = datetime.now(UTC)  # no article is dated more than a day after it was read
    limits = replace(limits_from_env(), timeout=timeout, max_bytes=max_bytes)
    with _FeedFetcher(limits, spool, fresh=fresh) as fetcher:
        for source in sources:
            origin, drafts = str(source), 0
            if isinstance(source, str) and is_url(source):
                documents = fetcher.fetch(source, result)
            else:
                documents = _local(Path(source), result, seen_files)
            for document in documents:
                for item in _parse(document, result):
                    if isinstance(item, Problem):
                        result.skipped.append(Skipped(document.where, item.line, item.reason))
                        continue
                    drafts += 1
                    article = _article(item, document, origin, read_at)
                    fingerprint = hashlib.sha256(_normalized(article.text)).digest()
                    if article.id in seen_ids or fingerprint in seen_texts:
                        result.duplicates += 1
                        continue
                    seen_ids.add(article.id)
                    seen_texts.add(fingerprint)
                    result.articles.append(article)
            if not drafts and _failed(source, result) and origin not in result.failed_sources:
                result.failed_sources.append(origin)
    return result


def _failed(source: str | Path, result: Ingested) -> bool:
    """Return whether a source that gave no article failed to read (rather than held none).

    A feed URL that gave nothing failed (network, HTTP status, a body that is not a feed); a
    path failed when it could not be read itself (missing, unreadable). A folder read whole but
    empty is judged by the archive, which knows whether it held articles (`index.store.archiving`).
    """
    if isinstance(source, str) and is_url(source):
        return True
    where = str(Path(source))
    return any(s.where == where and s.line is None for s in result.skipped)


def _article(draft: Draft, document: _Document, origin: str, read_at: datetime) -> Article:
    """Give a draft its stable id and its path and origin.

    The id is the draft's own, else a hash of title and text; a feed item's is its feed's
    address with its GUID (else its link), so that two feeds numbering their items alike keep
    them all, and no feed can replace another's items by copying their GUIDs. A date more than
    a day after `read_at` (a feed's 2099) becomes `read_at` (`clamp_date`).
    """
    own = draft.id
    if document.suffix in FEED_SUFFIXES:
        own = own or draft.url
    if not own:
        own = hashlib.sha256(_normalized(f"{draft.title}\n{draft.text}")).hexdigest()[:16]
    article_id = f"{document.where} {own}" if document.suffix in FEED_SUFFIXES else own
    return Article(
        id=article_id,
        title=draft.title,
        text=draft.text,
        source=draft.source,
        date=clamp_date(draft.date, read_at),
        url=draft.url,
        path=document.where,
        origin=origin,
    )


def _normalized(text: str) -> bytes:
    """Return `text` case-folded with whitespace collapsed, as UTF-8."""
    return " ".join(text.casefold().split()).encode("utf-8", "replace")


def _parse(document: _Document, result: Ingested) -> Parsed:
    """Decode and parse one document; an unexpected parser error skips the rest of it."""
    try:
        if document.suffix in FEED_SUFFIXES:
            yield from parse_feed(document.data, document.content_type)
            return
        text = _decode(document, result)
        if text is not None:
            yield from PARSERS[document.suffix](text)
    except Exception as exc:  # a parser bug or a library's surprise must not stop the read
        logger.warning("cannot parse %s", document.where, exc_info=True)
        yield Problem(None, f"cannot parse ({type(exc).__name__}: {str(exc)[:200]})")


def _decode(document: _Document, result: Ingested) -> str | None:
    """Decode UTF-8 or UTF-16 (by BOM), an HTML page's declared charset, else as detected.

    The encoding charset-normalizer detects (`index.sources.formats.encodings`) is noted in the
    report. JSON Lines with bad bytes decode with the bad bytes escaped, so that the parser reports
    those lines and reads the others. Bytes that are text in no encoding are skipped.
    """
    data = document.data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            result.skipped.append(Skipped(document.where, None, "not valid UTF-16 text"))
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
    if document.suffix == ".jsonl":
        return data.decode("utf-8-sig", "surrogateescape")
    if document.suffix in (".html", ".htm") and (declared := _HTML_CHARSET.search(data[:4096])):
        try:
            return data.decode(codecs.lookup(declared.group(1).decode("ascii")).name)
        except (LookupError, UnicodeDecodeError):
            pass
    detected = decode_detected(data)
    if detected is None:
        result.skipped.append(Skipped(document.where, bad_line, "not valid UTF-8 text"))
        return None
    result.notes.append(ENCODING_NOTE.format(where=document.where, encoding=detected.encoding))
    return detected.text


# -- local files ---------------------------------------------------------------------------------


def _local(root: Path, result: Ingested, seen: set[tuple[int, int]]) -> Iterator[_Document]:
    """Yield the document of a file, or of each supported file under a folder.

    A file already read (through another source or a symlink) is not read again.
    """
    try:
        is_folder = root.is_dir()
        exists = is_folder or root.exists()
    except OSError as exc:
        result.skipped.append(Skipped(str(root), None, f"cannot read: {_why(exc)}"))
        return
    if not exists:
        result.skipped.append(Skipped(str(root), None, "cannot read: no such file or folder"))
    elif not is_folder:
        if root.suffix.lower() not in SUPPORTED_SUFFIXES:
            result.skipped.append(Skipped(str(root), None, "unsupported file type"))
        elif (document := _read_file(root, result, seen)) is not None:
            yield document
    else:
        for path in _walk(root, root.resolve(), result):
            if (document := _read_file(path, result, seen)) is not None:
                yield document


def _walk(folder: Path, top: Path, result: Ingested) -> Iterator[Path]:
    """Yield supported files under `folder` in sorted order, not following symlinked folders.

    A symlink is followed only to a file inside `top`; one that leads outside is skipped.
    """
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        result.skipped.append(Skipped(str(folder), None, f"cannot read: {_why(exc)}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        supported = path.suffix.lower() in SUPPORTED_SUFFIXES
        try:
            if entry.is_symlink():
                target = path.resolve(strict=True)
                if not target.is_relative_to(top):
                    if supported or target.is_dir():
                        reason = "symlink leads outside the source folder"
                        result.skipped.append(Skipped(str(path), None, reason))
                elif supported and not target.is_dir():
                    yield path
                # A symlinked folder inside `top` is read where it really is.
            elif entry.is_dir(follow_symlinks=False):
                yield from _walk(path, top, result)
            elif supported:
                yield path
        except (OSError, RuntimeError) as exc:  # broken or looping symlink
            if supported:
                result.skipped.append(Skipped(str(path), None, f"cannot read: {_why(exc)}"))


def _read_file(path: Path, result: Ingested, seen: set[tuple[int, int]]) -> _Document | None:
    """Read a regular file whole, unless `seen` has it already, and record it in the manifest."""
    where = str(path)
    try:
        # Open the resolved path without following a link (one swapped in after the check).
        fd = os.open(path.resolve(strict=True), _OPEN_FLAGS)
    except (OSError, RuntimeError) as exc:
        result.skipped.append(Skipped(where, None, f"cannot read: {_why(exc)}"))
        return None
    try:
        with open(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                result.skipped.append(Skipped(where, None, "not a regular file"))
                return None
            if (info.st_dev, info.st_ino) in seen:
                return None
            seen.add((info.st_dev, info.st_ino))
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        result.skipped.append(Skipped(where, None, f"cannot read: {_why(exc)}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        result.skipped.append(Skipped(where, None, f"larger than {MAX_FILE_BYTES:,} bytes"))
        return None
    result.files.append(SourceFile(where, len(data), hashlib.sha256(data).hexdigest()))
    return _Document(where, path.suffix.lower(), data)


def _why(error: BaseException) -> str:
    """Return an OS error's reason without the path it names."""
    return (error.strerror if isinstance(error, OSError) and error.strerror else str(error))[:200]


# -- feeds ---------------------------------------------------------------------------------------


class _FeedFetcher:
    """Reads feeds: from the spool when it has them fresh, else fetched within `limits`."""

    def __init__(self, limits: FetchLimits, spool: Spool | None, *, fresh: bool) -> None:
        self.limits = limits
        self.spool = spool
        self.fresh = fresh

    def __enter__(self) -> _FeedFetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def fetch(self, url: str, result: Ingested) -> Iterator[_Document]:
        """Yield the feed at `url`, or record why it could not be read."""
        fetched = self._read_spool(url, self.spool) if self.spool else self._get(url)
        if isinstance(fetched, str):
            result.skipped.append(Skipped(url, None, fetched))
            result.failed_sources.append(url)
            return
        data, content_type = fetched
        result.files.append(SourceFile(url, len(data), hashlib.sha256(data).hexdigest()))
        yield _Document(url, ".xml", data, content_type)

    def _get(self, url: str) -> tuple[bytes, str | None] | str:
        """Return the body and content type at `url`, or why there is none."""
        try:
            response = feed_response(fetch_blocking(url, Validators(), self.limits))
        except FetchError as error:
            return error.reason
        return response.body or b"", response.content_type

    def _read_spool(self, url: str, spool: Spool) -> tuple[bytes, str | None] | str:
        """Return the spooled body of `url`, fetched into the spool first (`fresh`) or absent."""
        spooled = spool.feed(url)
        body = spool.body(url) if spooled is not None and spooled.sha256 else None
        now = datetime.now(UTC)
        if body is not None and spooled is not None and not self.fresh:
            # The poller owns a spooled feed, even one that came due since its check: a fetch
            # here waited out a feed's timeout inside the bot's build (bench/soak_feeds.py).
            return body, spooled.content_type
        state = spooled.state if spooled is not None else FeedState(url)
        if body is None:  # nothing to be "not modified" against
            state = replace(state, validators=Validators())
        temporary = spool.temporary(url)
        try:
            response = feed_response(
                fetch_blocking(url, state.validators, self.limits, into=temporary)
            )
        except FetchError as error:
            new, _, _ = after_failure(state, error, now, _policy())
            # The bot tells the admins; a build must not mark them told.
            spool.record(replace(new, alerted=state.alerted), None, temporary)
            return error.reason
        new, _, _ = after_success(state, response, now, _policy())
        spool.record(replace(new, alerted=state.alerted), response, temporary)
        body = spool.body(url)
        if body is None:
            return "the spooled body cannot be read"
        content_type = response.content_type if response.status == 200 else None
        return body, content_type or (spooled.content_type if spooled else None)


def _policy() -> RefreshPolicy:
    """Return the refresh policy of `$NEWSBOT_REFRESH` (the default one when it does not parse)."""
    try:
        return refresh_from_env()
    except ValueError:
        return RefreshPolicy()
