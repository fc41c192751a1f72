"""Progress of a long command (a build, a check) in phases, rendered for where stderr goes.

One abstraction, two renderings: `Phases` opens one counter per phase (articles analyzed,
sentences embedded), each closing the last. On a terminal a counter is a tqdm bar; anywhere
else (a log file, a pipe, the bot's build child) it is a line every `$NEWSBOT_PROGRESS_INTERVAL`
seconds (10 by default), with the count, the rate and, when the total is known, the time left,
and a last line when a phase that wrote lines ends (a quick build's output stays its summary).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, TextIO

PROGRESS_INTERVAL_ENV = "NEWSBOT_PROGRESS_INTERVAL"
DEFAULT_PROGRESS_INTERVAL = 10.0
LINE_PREFIX = "progress: "


class Counter(Protocol):
    """Counts things done in one phase."""

    def __call__(self, done: int) -> None:
        """Advance by `done`."""

    def close(self) -> None:
        """End the phase."""


class ProgressBar:
    """A tqdm bar on stderr (a terminal), taken off when the phase ends."""

    def __init__(self, unit: str = "articles", total: int | None = None) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit=f" {unit}", total=total, file=sys.stderr, leave=False)

    def __call__(self, done: int) -> None:
        """Advance by `done`."""
        self._bar.update(done)

    def close(self) -> None:
        """Take the bar off the terminal."""
        self._bar.close()


class ProgressLines:
    """A line on `out` every `interval` seconds while the phase runs, and one when it ends.

    A thread writes the lines, so that a phase whose steps are slow (the encoder embeds 2,048
    sentences a step, half a minute on a busy machine) is still heard from on time.
    """

    def __init__(
        self,
        unit: str,
        total: int | None,
        out: TextIO,
        *,
        interval: float = DEFAULT_PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unit, self.total, self.out, self.clock = unit, total, out, clock
        self.started = clock()
        self.done = 0
        self.lines = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, args=(interval,), daemon=True)
        self._thread.start()

    def __call__(self, done: int) -> None:
        """Advance by `done`."""
        with self._lock:
            self.done += done

    def close(self) -> None:
        """Stop the lines, and write the phase's last one if it wrote any."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        if not self.lines:
            return
        seconds = self.clock() - self.started
        self._write(f"{self.done:,} {self.unit} in {duration(seconds)}{self._rate(seconds)}")

    def line(self) -> str:
        """Return the line for now: count, rate and, with a total, the time left."""
        seconds = self.clock() - self.started
        with self._lock:
            done = self.done
        counted = f"{done:,} of {self.total:,}" if self.total is not None else f"{done:,}"
        text = f"{counted} {self.unit}{self._rate(seconds)}, {duration(seconds)} so far"
        if self.total is not None and done and seconds > 0:
            left = (self.total - done) / (done / seconds)
            text += f", about {duration(left)} left"
        return text

    def _rate(self, seconds: float) -> str:
        return f" ({self.done / seconds:,.1f}/s)" if self.done and seconds > 0 else ""

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._write(self.line())

    def _write(self, text: str) -> None:
        self.lines += 1
        with contextlib.suppress(OSError, ValueError):  # the log went away: the build goes on
            print(f"{LINE_PREFIX}{text}", file=self.out, flush=True)


class Phases:
    """One counter per phase of a long command, each closing the last.

    Args:
        counter: Makes the counter of a phase from its unit and total (a bar or lines).
    """

    def __init__(self, counter: Callable[[str, int | None], Counter]) -> None:
        self._counter = counter
        self._current: Counter | None = None

    def __call__(self, unit: str, total: int | None) -> Counter:
        """Close the previous phase's counter and return a new one counting `total` `unit`."""
        self.close()
        self._current = self._counter(unit, total)
        return self._current

    def close(self) -> None:
        """Close the current counter, if any."""
        if self._current is not None:
            self._current.close()
            self._current = None


def phases_for(out: TextIO, env: Mapping[str, str] | None = None) -> Phases:
    """Return bars when `out` is a terminal, else lines every `$NEWSBOT_PROGRESS_INTERVAL` s.

    Raises:
        ValueError: `$NEWSBOT_PROGRESS_INTERVAL` is not a positive number of seconds.
    """
    if out.isatty():
        return Phases(ProgressBar)
    interval = progress_interval(env)
    return Phases(lambda unit, total: ProgressLines(unit, total, out, interval=interval))


def progress_interval(env: Mapping[str, str] | None = None) -> float:
    """Return `$NEWSBOT_PROGRESS_INTERVAL` in seconds, else `DEFAULT_PROGRESS_INTERVAL`.

    Raises:
        ValueError: Not a positive number.
    """
    env = os.environ if env is None else env
    raw = env.get(PROGRESS_INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_PROGRESS_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"bad {PROGRESS_INTERVAL_ENV}={raw!r}: a number of seconds such as 10")
    return seconds


def duration(seconds: float) -> str:
    """Return `seconds` for a person: "4.2 s", "3 min 52 s", "1 h 05 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
