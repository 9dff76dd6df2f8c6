"""Parse the text report of ``wrk --latency`` into numbers.

wrk prints its results for people; this reads the lines the serving benchmark needs: the
request count and duration, ``Requests/sec``, the latency distribution (50/75/90/99 %), the
``Socket errors`` line and the ``Non-2xx or 3xx responses`` line (both absent when zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# wrk's time units (format_time_us): us, ms, s, then m and h for long latencies.
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
TIME = r"([0-9.]+)(us|ms|s|m|h)"

TOTAL_LINE = re.compile(r"^\s*(\d+) requests in " + TIME + r",", re.MULTILINE)
RATE_LINE = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)
PERCENTILE_LINE = re.compile(r"^\s+(50|75|90|99)%\s+" + TIME + r"\s*$", re.MULTILINE)
SOCKET_LINE = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
NON_2XX_LINE = re.compile(r"Non-2xx or 3xx responses: (\d+)", re.MULTILINE)
SOCKET_ERROR_KINDS = ("connect", "read", "write", "timeout")


class WrkOutputError(ValueError):
    """wrk's report lacks a line the benchmark reads (e.g. wrk failed, or ran without --latency)."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: completed requests, their rate, latency percentiles (ms) and errors."""

    requests: int
    seconds: float
    requests_per_s: float
    latency_ms: dict[int, float]
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Responses outside 2xx/3xx plus socket errors (connect, read, write, timeout)."""
        return self.non_2xx + sum(self.socket_errors.values())

    def to_dict(self) -> dict[str, object]:
        """The result as JSON-ready values (percentile keys as ``p50`` ...)."""
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "requests_per_s": self.requests_per_s,
            "latency_ms": {f"p{p}": v for p, v in sorted(self.latency_ms.items())},
            "non_2xx": self.non_2xx,
            "socket_errors": dict(self.socket_errors),
            "errors": self.errors,
        }


def to_ms(value: str, unit: str) -> float:
    """A wrk time such as ``138.56`` ``ms`` in milliseconds."""
    return float(value) * UNIT_MS[unit]


def parse_wrk(text: str) -> WrkResult:
    """The numbers of one ``wrk --latency`` report; :class:`WrkOutputError` if a line is missing."""
    total = TOTAL_LINE.search(text)
    rate = RATE_LINE.search(text)
    if total is None or rate is None:
        missing = "'N requests in T'" if total is None else "'Requests/sec:'"
        raise WrkOutputError(f"wrk output has no {missing} line:\n{text}")
    latency = {int(p): to_ms(v, u) for p, v, u in PERCENTILE_LINE.findall(text)}
    if set(latency) != {50, 75, 90, 99}:
        raise WrkOutputError(
            f"wrk output has no complete 'Latency Distribution' (--latency):\n{text}"
        )
    sockets = SOCKET_LINE.search(text)
    non_2xx = NON_2XX_LINE.search(text)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=to_ms(total.group(2), total.group(3)) / 1000.0,
        requests_per_s=float(rate.group(1)),
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(
                SOCKET_ERROR_KINDS,
                map(int, sockets.groups()) if sockets else (0, 0, 0, 0),
                strict=True,
            )
        ),
    )
