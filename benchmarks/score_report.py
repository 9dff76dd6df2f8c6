"""Judge and render the scoring benchmark: throughput and peak memory, ours vs the baseline.

Targets (issue 12), ``jupyter mlops score`` against the hand-written pandas scoring measured
in the same run: throughput >= 1 x the baseline's, peak memory <= 0.25 x the baseline's. The
memory target is judged on the peak above each child's floor (its resident set after the
imports and one model load), which is what scoring itself added; the ratio of the raw peaks
is printed beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

BASELINE, OURS = "baseline", "ours"
THROUGHPUT_BOUND = 1.0
MEMORY_BOUND = 0.25


@dataclass(frozen=True)
class Measurement:
    """One contender's run: rows scored, seconds of the timed part, floor and peak RSS (kB)."""

    contender: str
    rows: int
    seconds: float
    floor_rss_kb: int
    peak_rss_kb: int
    vmhwm_kb: int = 0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def above_floor_kb(self) -> int:
        """The peak minus the floor: the memory scoring added (never below 0)."""
        return max(self.peak_rss_kb - self.floor_rss_kb, 0)

    def to_dict(self) -> dict[str, object]:
        return {
            "contender": self.contender,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "floor_rss_mb": mb(self.floor_rss_kb),
            "peak_rss_mb": mb(self.peak_rss_kb),
            "peak_above_floor_mb": mb(self.above_floor_kb),
            "vmhwm_mb": mb(self.vmhwm_kb),
        }


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


def _ratio(value: float, base: float) -> float | None:
    return value / base if base else None


def judge(ours: Measurement, baseline: Measurement) -> list[dict[str, object]]:
    """Both targets, each with ours, the baseline's figure, the ratio and met or not."""
    throughput = _ratio(ours.rows_per_s, baseline.rows_per_s)
    memory = _ratio(ours.above_floor_kb, baseline.above_floor_kb)
    raw_memory = _ratio(ours.peak_rss_kb, baseline.peak_rss_kb)
    return [
        {
            "metric": "throughput",
            "target": f"rows/s >= {THROUGHPUT_BOUND:g} x the baseline's",
            "ours": round(ours.rows_per_s, 1),
            "baseline": round(baseline.rows_per_s, 1),
            "ratio": throughput,
            "met": throughput is not None and throughput >= THROUGHPUT_BOUND,
        },
        {
            "metric": "peak_memory",
            "target": f"peak memory above the floor <= {MEMORY_BOUND:g} x the baseline's",
            "ours": mb(ours.above_floor_kb),
            "baseline": mb(baseline.above_floor_kb),
            "ratio": memory,
            "raw_ratio": raw_memory,
            "met": memory is not None and memory <= MEMORY_BOUND,
        },
    ]


def measurement_table(measurements: list[Measurement]) -> str:
    """A markdown table, one row per contender."""
    lines = [
        "| contender | rows | seconds | rows/s | floor RSS MB | peak RSS MB | peak above floor MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.contender} | {m.rows:,} | {m.seconds:.2f} | {m.rows_per_s:,.0f} | "
            f"{mb(m.floor_rss_kb)} | {mb(m.peak_rss_kb)} | {mb(m.above_floor_kb)} |"
        )
    return "\n".join(lines)


def verdict_lines(verdicts: list[dict[str, object]]) -> list[str]:
    """One markdown bullet per target: the figures, the ratio, met or NOT met."""
    lines = []
    for v in verdicts:
        ratio = v["ratio"]
        shown = "n/a" if ratio is None else f"{ratio:.3f} x"
        unit = "rows/s" if v["metric"] == "throughput" else "MB"
        line = f"- {v['target']}: ours {v['ours']} {unit}, baseline {v['baseline']} {unit}"
        line += f" → {shown}: {'met' if v['met'] else 'NOT met'}"
        if v.get("raw_ratio") is not None:
            line += f" (raw peaks: {v['raw_ratio']:.3f} x)"
        lines.append(line)
    return lines


def equality_line(tables: dict[str, dict[str, object]]) -> str:
    """Whether every contender's table has the same row count and key+prediction digest."""
    digests = {(t["rows"], t["sha256"]) for t in tables.values()}
    details = ", ".join(
        f"{name}: {t['rows']:,} rows, {str(t['sha256'])[:12]}" for name, t in tables.items()
    )
    verdict = "same predictions" if len(digests) == 1 else "DIFFERENT predictions"
    return f"{verdict} ({details})"


def markdown(
    settings: dict[str, object],
    measurements: list[Measurement],
    verdicts: list[dict[str, object]],
    tables: dict[str, dict[str, object]],
) -> str:
    """The whole report: settings, the table, the equality check, the verdicts."""
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    parts = [
        "## Scoring benchmark (`benchmarks/bench_score.py`)",
        "",
        f"Settings: {described}.",
        "",
        measurement_table(measurements),
        "",
        "Tables: " + (equality_line(tables) if tables else "not compared"),
    ]
    if verdicts:
        parts += [
            "",
            "Targets (issue 12), ours / baseline in the same run:",
            *verdict_lines(verdicts),
        ]
    return "\n".join(parts) + "\n"
