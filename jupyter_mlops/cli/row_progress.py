"""Progress of a scoring run on stderr: a bar redrawn in place on a terminal (rows scored
of the total when known, rows per second), plain lines at most every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
LINE_INTERVAL = 5.0  # seconds between plain lines (CI logs)


class RowProgress:
    """Called with (rows scored, total rows or None) after each chunk."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.last_line = time.monotonic()
        self.first: tuple[int, float] | None = None  # rows and time of the first chunk
        self.drawn = False

    def __call__(self, rows: int, total: int | None) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = (rows, now)
        if self.live:
            self.stream.write("\r" + self.line(rows, total, now) + "\x1b[K")
            self.drawn = True
        elif now - self.last_line >= LINE_INTERVAL or (total is not None and rows >= total):
            self.stream.write(self.line(rows, total, now) + "\n")
            self.last_line = now
        self.stream.flush()

    def finish(self) -> None:
        """End the live line (the next output starts on a fresh line)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def line(self, rows: int, total: int | None, now: float) -> str:
        """``scored 40,000/100,000 rows [############------] 40% 81,230 rows/s`` (the rate
        since the first chunk, so loading the model does not count)."""
        first_rows, first_time = self.first or (rows, now)
        rate = (
            f" {(rows - first_rows) / (now - first_time):,.0f} rows/s" if now > first_time else ""
        )
        if total:
            share = min(rows / total, 1.0)
            filled = round(share * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            return f"scored {rows:,}/{total:,} rows [{bar}] {share:4.0%}{rate}"
        return f"scored {rows:,} rows{rate}"
