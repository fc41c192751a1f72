"""`newsbot doctor` on a healthy set-up and on five broken ones (issue 20, "A deployment recipe").

Each test sets up a deployment for real (the fake Bot API, a copy of the seed index, a loopback
feed server) and breaks one thing; the doctor exits 1 and its failing line names what broke.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from index.store.generations import current_generation
from tests.conftest import SEEDS, locate
from tests.fake_telegram import FakeTelegramThread

pytestmark = pytest.mark.process

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Harbour reopens</title><link>http://127.0.0.1/a</link>
<description>The harbour reopened on Monday after the storm.</description></item>
</channel></rss>"""


class _Feeds(http.server.BaseHTTPRequestHandler):
    """/feed answers an RSS feed, anything else 503."""

    def do_GET(self) -> None:
        ok = self.path == "/feed"
        self.send_response(200 if ok else 503)
        body = RSS if ok else b"down for maintenance"
        self.send_header("Content-Type", "application/rss+xml" if ok else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A loopback feed server; its base URL."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fake() -> Iterator[FakeTelegramThread]:
    with FakeTelegramThread() as server:
        yield server


@pytest.fixture
def deployment(
    fake: FakeTelegramThread,
    seed_index: Path,
    feed_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A healthy set-up in the environment: token, index, a folder and a feed, a time zone."""
    monkeypatch.chdir(tmp_path)  # no .env file here
    for name in ("NEWSBOT_SEMANTIC", "NEWSBOT_HEARTBEAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("NEWSBOT_API_URL", fake.base_url)
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(seed_index))
    monkeypatch.setenv("NEWSBOT_SOURCES", f"{SEEDS},{feed_server}/feed")
    monkeypatch.setenv("NEWSBOT_TIMEZONE", "Europe/Berlin")
    return seed_index


def doctor(capsys: pytest.CaptureFixture[str], token: str) -> tuple[int, list[str]]:
    """Run `newsbot doctor`; return its status and lines, checking that no token is shown."""
    status = main(["doctor"])
    out, err = capsys.readouterr()
    assert token not in out + err
    assert token.split(":")[1] not in out + err
    return status, out.splitlines()


def failing(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


def test_a_healthy_set_up_passes_every_check(
    deployment: Path, fake: FakeTelegramThread, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = doctor(capsys, fake.token)
    assert status == 0, lines
    assert [line.split(":")[0] for line in lines] == [
        "ok    token",
        "ok    index folder",
        "ok    index",
        "ok    source",
        "ok    source",
        "ok    model",
        "ok    time zone",
        "ok    disk space",
    ]
    assert "as @newsbot_test_bot" in lines[0]
    assert "(1 articles, " in lines[2]
    assert lines[6] == "ok    time zone: Europe/Berlin"


def test_a_token_telegram_rejects_fails(
    deployment: Path, fake: FakeTelegramThread, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.server.reject_token()
    status, lines = doctor(capsys, fake.token)
    assert status == 1
    assert failing(lines) == [
        f"FAIL  token: the Bot API at {fake.base_url} rejected TELEGRAM_BOT_TOKEN: it was revoked "
        "or mistyped; get the current token from @BotFather"
    ]


def test_an_index_folder_that_cannot_be_written_fails(
    deployment: Path, fake: FakeTelegramThread, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only(deployment):
        status, lines = doctor(capsys, fake.token)
    assert status == 1
    (line,) = failing(lines)
    assert line.startswith(f"FAIL  index folder: cannot write in {deployment} (")
    assert "ok    index: " in "\n".join(lines)  # still readable: only the writing fails


def test_a_dead_feed_fails(
    deployment: Path,
    fake: FakeTelegramThread,
    feed_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBOT_SOURCES", f"{SEEDS},{feed_server}/down")
    status, lines = doctor(capsys, fake.token)
    assert status == 1
    assert failing(lines) == [f"FAIL  source: {feed_server}/down: HTTP status 503"]


def test_a_damaged_generation_fails(
    deployment: Path, fake: FakeTelegramThread, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = locate(current_generation(deployment), "segment/doc_len.npy")
    with damaged.open("r+b") as file:
        file.truncate(damaged.stat().st_size - 8)
    status, lines = doctor(capsys, fake.token)
    assert status == 1
    (line,) = failing(lines)
    assert line.startswith(f"FAIL  index: index at {current_generation(deployment)} is damaged")
    assert "doc_len.npy" in line


def test_an_unknown_time_zone_fails(
    deployment: Path,
    fake: FakeTelegramThread,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBOT_TIMEZONE", "Mars/Olympus_Mons")
    status, lines = doctor(capsys, fake.token)
    assert status == 1
    assert failing(lines) == [
        "FAIL  time zone: NEWSBOT_TIMEZONE: unknown time zone 'Mars/Olympus_Mons'; use an IANA "
        "name such as Europe/Berlin"
    ]


class read_only:
    """Make a folder unwritable: mode 0o555, or for root (whom modes do not stop) immutable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.chattr = shutil.which("chattr")

    def __enter__(self) -> None:
        if os.geteuid() != 0:
            self.folder.chmod(0o555)
            return
        if self.chattr is None:
            pytest.skip("running as root without chattr: no way to make a folder unwritable")
        made = subprocess.run(
            [self.chattr, "+i", str(self.folder)], check=False, capture_output=True
        )
        if made.returncode != 0:
            pytest.skip(f"running as root and chattr +i failed: {made.stderr.decode().strip()}")

    def __exit__(self, *exc: object) -> None:
        if self.chattr is not None:
            subprocess.run([self.chattr, "-i", str(self.folder)], check=False, capture_output=True)
        self.folder.chmod(0o755)
