"""A small progress bar for model queries, written to stderr (no dependency).

On a terminal the bar redraws one line in place (carriage returns). When the stream is not a
terminal (a log file, a pipe, a CI job), it writes a plain line now and then instead, so logs
hold readable lines rather than one line with hundreds of carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "format_duration"]


def format_duration(seconds: float) -> str:
    """``seconds`` as ``H:MM:SS`` or ``M:SS``; ``?`` when unknown."""
    if not seconds >= 0 or seconds == float("inf"):
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Queries done out of a total, with the rate (queries/s) and the time left.

    Parameters
    ----------
    total : int
        Number of queries to run.
    description : str
        Text before the bar.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    min_interval : float
        Least number of seconds between two redraws.
    width : int
        Number of characters of the bar itself.
    interactive : bool, optional
        Redraw in place with ``\\r``; default: when the stream is a terminal.
    plain_interval : float
        Not interactive: least number of seconds between two plain lines (the final state
        is always written).
    """

    def __init__(
        self,
        total: int,
        *,
        description: str = "queries",
        stream: TextIO | None = None,
        min_interval: float = 0.1,
        width: int = 24,
        interactive: bool | None = None,
        plain_interval: float = 30.0,
    ) -> None:
        self.total = max(int(total), 0)
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = float(min_interval)
        self.width = int(width)
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty()) if callable(isatty) else False
        self.interactive = bool(interactive)
        self.plain_interval = float(plain_interval)
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = -float("inf")
        self._closed = False

    def update(self, count: int) -> None:
        """Record ``count`` more queries finished, redrawing at most every ``min_interval``."""
        self.done = min(self.done + int(count), self.total)
        now = time.perf_counter()
        interval = self.min_interval if self.interactive else self.plain_interval
        if now - self._last_draw >= interval or (self.interactive and self.done >= self.total):
            self._draw(now)

    def text(self, now: float | None = None) -> str:
        """The current line (without carriage return)."""
        now = time.perf_counter() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        frac = self.done / self.total if self.total else 1.0
        filled = min(self.width, round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        return (
            f"{self.description} [{bar}] {self.done}/{self.total} "
            f"{rate:.1f} q/s elapsed {format_duration(elapsed)} ETA {format_duration(left)}"
        )

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if self.interactive:
            self.stream.write("\r" + self.text(now))
        else:
            self.stream.write(self.text(now) + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._closed:
            return
        self._closed = True
        self._draw(time.perf_counter())
        if self.interactive:
            self.stream.write("\n")
        self.stream.flush()
