"""Progress of a run on stderr: one live line per step on a terminal, plain lines otherwise,
or JSON events (``--progress-events``, read by the server extension)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from jupyter_mlops.execute.status import StepStatus

_SYMBOLS: dict[str, str] = {
    StepStatus.WAITING: "·",
    StepStatus.RUNNING: "▶",
    StepStatus.RAN: "✓",
    StepStatus.CACHED: "=",
    StepStatus.FAILED: "✗",
    StepStatus.NOT_RUN: "-",
}


class Progress:
    """Tracks each step's state and shows it.

    On a terminal the block of step lines is redrawn in place (elapsed time ticking for
    running steps); otherwise (CI logs) one line is printed per state change.
    """

    def __init__(self, steps: list[str], stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.steps = steps
        self.width = max((len(s) for s in steps), default=4)
        self.state: dict[str, str] = dict.fromkeys(steps, StepStatus.WAITING)
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._drawn = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.live:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live:
            self._draw()

    def running(self, step: str) -> None:
        """The step started executing."""
        self.started[step] = time.monotonic()
        self._set(step, StepStatus.RUNNING)

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None:
        """The step ended as ran, cached, failed or not_run."""
        self.seconds[step] = seconds
        self._set(step, status)

    def line(self, step: str) -> str:
        """The text shown for one step."""
        state = self.state[step]
        texts: dict[str, str] = {
            StepStatus.WAITING: "waiting",
            StepStatus.RUNNING: f"running {time.monotonic() - self.started.get(step, time.monotonic()):.1f} s",
            StepStatus.RAN: f"done in {self.seconds.get(step, 0.0):.2f} s",
            StepStatus.CACHED: "cached",
            StepStatus.FAILED: f"failed after {self.seconds.get(step, 0.0):.2f} s",
            StepStatus.NOT_RUN: "not run (an upstream step failed)",
        }
        return f"{_SYMBOLS[state]} {step.ljust(self.width)}  {texts[state]}"

    def _set(self, step: str, state: str) -> None:
        with self._lock:
            self.state[step] = state
            if self.live:
                self._draw_locked()
            elif state != StepStatus.WAITING:
                self.stream.write(self.line(step) + "\n")
                self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            self._draw_locked()

    def _draw_locked(self) -> None:
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        lines = "".join(f"\x1b[2K{self.line(s)}\n" for s in self.steps)
        self.stream.write(up + lines)
        self.stream.flush()
        self._drawn = len(self.steps)


class ProgressEvents:
    """Progress for programs: one JSON line per state change on ``stream`` (stderr).

    Each line is ``{"step": NAME, "state": STATE, "seconds": S}`` with STATE one of waiting,
    running, ran, cached, failed, not_run; every step is announced as ``waiting`` on enter,
    in pipeline order. Same interface as :class:`Progress`; safe from several threads.
    """

    def __init__(self, steps: list[str], stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.steps = steps
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressEvents:
        for step in self.steps:
            self._emit(step, StepStatus.WAITING, 0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def running(self, step: str) -> None:
        """The step started executing."""
        self._emit(step, StepStatus.RUNNING, 0.0)

    def finished(self, step: str, status: str, seconds: float = 0.0) -> None:
        """The step ended as ran, cached, failed or not_run."""
        self._emit(step, status, seconds)

    def _emit(self, step: str, state: str, seconds: float) -> None:
        line = json.dumps({"step": step, "state": state, "seconds": round(seconds, 3)})
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
