"""Issue #20: a build that is not on a terminal tells its progress as lines, on time."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from index.progress import PROGRESS_INTERVAL_ENV, Phases, ProgressLines, duration, phases_for
from tests.conftest import ROOT, SEEDS


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def wait_for_lines(out: io.StringIO, count: int) -> list[str]:
    """Return `out`'s lines once it has `count` of them (within 5 s)."""
    deadline = time.monotonic() + 5
    while len(lines := out.getvalue().splitlines()) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    return lines


def test_a_line_says_the_count_the_rate_and_the_time_left() -> None:
    clock, out = Clock(), io.StringIO()
    embedded = ProgressLines("sentences embedded", 21_570, out, interval=3600, clock=clock)
    embedded(2_048)
    embedded(2_048)
    clock.now += 40
    assert embedded.line() == (
        "4,096 of 21,570 sentences embedded (102.4/s), 40.0 s so far, about 2 min 51 s left"
    )
    embedded.close()
    assert out.getvalue() == ""  # a phase shorter than the interval leaves the summary alone


def test_lines_come_every_interval_while_nothing_advances() -> None:
    # Regression: with stderr sent to a log, a build printed nothing for 90 s.
    clock, out = Clock(), io.StringIO()
    analyzed = ProgressLines("articles analyzed", None, out, interval=0.01, clock=clock)
    analyzed(1_200)
    clock.now += 3
    lines = wait_for_lines(out, 3)
    analyzed.close()
    assert lines[:3] == ["progress: 1,200 articles analyzed (400.0/s), 3.0 s so far"] * 3
    assert out.getvalue().splitlines()[-1] == "progress: 1,200 articles analyzed in 3.0 s (400.0/s)"


def test_phases_close_the_last_one_and_a_terminal_gets_bars() -> None:
    out = io.StringIO()
    phases = phases_for(out, {PROGRESS_INTERVAL_ENV: "0.01"})
    first = phases("articles analyzed", None)
    first(3)
    wait_for_lines(out, 1)
    second = phases("sentences embedded", 10)
    assert isinstance(first, ProgressLines) and first.lines >= 1
    phases.close()
    assert isinstance(second, ProgressLines)
    assert "progress: 3 articles analyzed in " in out.getvalue()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(phases_for(Terminal(), {}), Phases)


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "inf"])
def test_a_bad_interval_is_one_line(
    raw: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PROGRESS_INTERVAL_ENV, raw)
    assert main(["index", "--index-dir", str(tmp_path / "index"), str(SEEDS)]) == 2
    err = capsys.readouterr().err
    assert f"bad {PROGRESS_INTERVAL_ENV}={raw!r}: a number of seconds such as 10" in err
    assert len(err.strip().splitlines()) == 1


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (4.21, 232, 3_900)] == ["4.2 s", "3 min 52 s", "1 h 05 min"]


@pytest.mark.process
def test_a_build_with_stderr_to_a_pipe_writes_progress_lines(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), PROGRESS_INTERVAL_ENV: "0.02"}
    command = [sys.executable, "-m", "bot.cli", "index", "--index-dir", str(tmp_path / "i")]
    done = subprocess.run(
        [*command, str(SEEDS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(re.fullmatch(r"progress: [\d,]+ articles analyzed.* so far", x) for x in lines)
    assert any(re.fullmatch(r"progress: [\d,]+ of [\d,]+ sentences embedded.*", x) for x in lines)
    assert done.stdout.startswith("Indexed ")
