"""Judge and print the serving benchmark's measurements: tables, ratios to mlflow, targets.

Targets (issue 11), each server of ours against ``mlflow models serve`` measured in the same
run: throughput >= 5 x at 8 clients, >= 10 x at 32 clients (with micro-batching, the default),
p99 latency <= 1/5 of mlflow's at each. ``ours`` (the default configuration) is judged;
``ours-unbatched`` (``--no-batch``) is judged alike and printed for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrk_output import WrkResult

BASELINE = "mlflow"


@dataclass(frozen=True)
class Measurement:
    """One server under one load: wrk's numbers and the CPU seconds the server and wrk spent."""

    server: str
    connections: int
    wrk: WrkResult
    server_cpu_s: float
    wrk_cpu_s: float

    def cpu_ms_per_request(self, seconds: float) -> float | None:
        """``seconds`` of CPU per completed request, in ms (None when none completed)."""
        return seconds * 1000.0 / self.wrk.requests if self.wrk.requests else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: wrk's numbers plus CPU totals and per request."""
        return {
            "server": self.server,
            "connections": self.connections,
            **self.wrk.to_dict(),
            "server_cpu_s": self.server_cpu_s,
            "server_cpu_ms_per_request": self.cpu_ms_per_request(self.server_cpu_s),
            "wrk_cpu_s": self.wrk_cpu_s,
            "wrk_cpu_ms_per_request": self.cpu_ms_per_request(self.wrk_cpu_s),
        }


@dataclass(frozen=True)
class Target:
    """A ratio of ours to mlflow at a client count: ``throughput`` (>= bound) or ``p99`` (<=)."""

    metric: str
    connections: int
    bound: float

    def describe(self) -> str:
        """E.g. ``throughput at 8 clients >= 5 x mlflow``."""
        if self.metric == "throughput":
            return f"throughput at {self.connections} clients >= {self.bound:g} x mlflow's"
        return f"p99 at {self.connections} clients <= {self.bound:g} x mlflow's"


TARGETS = (
    Target("throughput", 8, 5.0),
    Target("throughput", 32, 10.0),
    Target("p99", 8, 0.2),
    Target("p99", 32, 0.2),
)


def ratio(target: Target, ours: Measurement, baseline: Measurement) -> float | None:
    """Ours over mlflow for the target's metric; None when mlflow's figure is zero."""
    if target.metric == "throughput":
        base, value = baseline.wrk.requests_per_s, ours.wrk.requests_per_s
    else:
        base, value = baseline.wrk.latency_ms[99], ours.wrk.latency_ms[99]
    return value / base if base else None


def judge(measurements: list[Measurement]) -> list[dict[str, object]]:
    """Each target for each server of ours measured beside mlflow at the target's client count."""
    by_key = {(m.server, m.connections): m for m in measurements}
    verdicts: list[dict[str, object]] = []
    for server in dict.fromkeys(m.server for m in measurements if m.server != BASELINE):
        for target in TARGETS:
            ours, base = (
                by_key.get((server, target.connections)),
                by_key.get((BASELINE, target.connections)),
            )
            if ours is None or base is None:
                continue
            value = ratio(target, ours, base)
            met = value is not None and (
                value >= target.bound if target.metric == "throughput" else value <= target.bound
            )
            verdicts.append(
                {
                    "server": server,
                    "target": target.describe(),
                    "metric": target.metric,
                    "connections": target.connections,
                    "bound": target.bound,
                    "ratio": value,
                    "met": met,
                }
            )
    return verdicts


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for the table, ``-`` for None."""
    return "-" if value is None else f"{value:.{digits}f}"


HEADER = ("server", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "CPU ms/req", "wrk ms/req")


def table(measurements: list[Measurement], connections: int) -> str:
    """The rows measured at ``connections`` clients, one per server, aligned."""
    rows = [HEADER]
    for m in measurements:
        if m.connections != connections:
            continue
        latency = m.wrk.latency_ms
        rows.append(
            (
                m.server,
                fmt(m.wrk.requests_per_s),
                fmt(latency[50], 2),
                fmt(latency[90], 2),
                fmt(latency[99], 2),
                str(m.wrk.errors),
                fmt(m.cpu_ms_per_request(m.server_cpu_s), 3),
                fmt(m.cpu_ms_per_request(m.wrk_cpu_s), 3),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def verdict_lines(verdicts: list[dict[str, object]]) -> list[str]:
    """One line per judged target: the ratio and ``met`` / ``NOT met``."""
    lines = []
    for v in verdicts:
        value = v["ratio"]
        throughput = v["metric"] == "throughput"
        shown = "-" if value is None else f"{value:.2f}" if throughput else f"{value:.3f}"
        unit = " x" if throughput else " of mlflow's"
        outcome = "met" if v["met"] else "NOT met"
        lines.append(f"  {v['server']:15} {v['target']:42} {shown}{unit}: {outcome}")
    return lines
