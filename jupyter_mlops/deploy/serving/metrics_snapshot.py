"""Reading ``ServiceMetrics`` snapshots: totals, rates and latency percentiles derived from
the raw counts, and the difference of two snapshots (an analysis window).

Plain Python (no numpy), so a rollout analysis can use it on snapshots fetched from a
service's JSON endpoint. A snapshot is ``{"model", "instance" (changes on restart), "time"
(epoch s), "latency_buckets", "batch_buckets", "prediction_edges" (None until set),
"versions": {version: entry}, "unrouted": {kind: {status: n}}, "batches": {"counts", "sum"},
"dropped_rows"}``; an entry is ``{"by_kind": {kind: {status: n}}, "latency": {"counts" (per
bucket, last +Inf), "sum" (s)}, "predictions": {"labels": {label: n}, "other_labels",
"values": {"count", "sum", "bins" (per bin of prediction_edges, last +Inf; None until set)},
"unbinned"}, "shadow": {"requests", "mismatches", "mismatch_rate"}, "requests", "errors"
(5xx), "client_errors" (4xx), "error_rate" (errors / requests), "p50_ms", "p95_ms", "p99_ms"
(None without requests)}``. A difference adds ``"since"`` and ``"seconds"``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


def derive(entry: dict[str, Any], bounds: Sequence[float]) -> None:
    """Add the totals, rates and latency percentiles (ms) computed from ``entry``'s counts."""
    by_status: dict[int, int] = {}
    for statuses in entry["by_kind"].values():
        for status, n in statuses.items():
            by_status[int(status)] = by_status.get(int(status), 0) + n
    requests = sum(by_status.values())
    errors = sum(n for status, n in by_status.items() if status >= 500)
    entry["requests"] = requests
    entry["errors"] = errors
    entry["client_errors"] = sum(n for status, n in by_status.items() if 400 <= status < 500)
    entry["error_rate"] = errors / requests if requests else 0.0
    for q in (50, 95, 99):
        seconds = histogram_quantile(q / 100, bounds, entry["latency"]["counts"])
        entry[f"p{q}_ms"] = seconds * 1000 if seconds is not None else None
    shadow = entry["shadow"]
    shadow["mismatch_rate"] = (
        shadow["mismatches"] / shadow["requests"] if shadow["requests"] else 0.0
    )


def histogram_quantile(q: float, bounds: Sequence[float], counts: Sequence[int]) -> float | None:
    """The ``q`` quantile of a histogram (``counts`` per bucket, the last one +Inf), linearly
    interpolated inside its bucket as Prometheus does; the highest finite bound when it falls in
    +Inf; None without observations."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    cumulative = 0
    for index, n in enumerate(counts):
        if n and cumulative + n >= rank:
            if index == len(bounds):
                return float(bounds[-1])
            lower = float(bounds[index - 1]) if index else 0.0
            return lower + (float(bounds[index]) - lower) * (rank - cumulative) / n
        cumulative += n
    return float(bounds[-1])


def snapshot_difference(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """``current`` minus ``previous`` count by count, with rates and percentiles recomputed.
    A ``previous`` of another service instance (a restart) counts as zero."""
    if previous is None or previous.get("instance") != current["instance"]:
        previous = {"time": None, "versions": {}, "unrouted": {}, "dropped_rows": 0}
    before_versions = previous["versions"]
    versions = {
        name: _version_difference(entry, before_versions.get(name))
        for name, entry in current["versions"].items()
    }
    for entry in versions.values():
        derive(entry, current["latency_buckets"])
    before_batches = previous.get("batches") or {"counts": None, "sum": 0}
    return {
        **current,
        "since": previous["time"],
        "seconds": current["time"] - previous["time"] if previous["time"] is not None else None,
        "versions": versions,
        "unrouted": _nested_difference(current["unrouted"], previous["unrouted"]),
        "batches": {
            "counts": _list_difference(current["batches"]["counts"], before_batches["counts"]),
            "sum": current["batches"]["sum"] - before_batches["sum"],
        },
        "dropped_rows": current["dropped_rows"] - previous["dropped_rows"],
    }


def _version_difference(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    if before is None:
        return copy.deepcopy(
            {key: now[key] for key in ("by_kind", "latency", "predictions", "shadow")}
        )
    now_p, before_p = now["predictions"], before["predictions"]
    labels = {
        label: n - before_p["labels"].get(label, 0)
        for label, n in now_p["labels"].items()
        if n != before_p["labels"].get(label, 0)
    }
    values, before_values = now_p["values"], before_p["values"]
    return {
        "by_kind": _nested_difference(now["by_kind"], before["by_kind"]),
        "latency": {
            "counts": _list_difference(now["latency"]["counts"], before["latency"]["counts"]),
            "sum": now["latency"]["sum"] - before["latency"]["sum"],
        },
        "predictions": {
            "labels": labels,
            "other_labels": now_p["other_labels"] - before_p["other_labels"],
            "values": {
                "count": values["count"] - before_values["count"],
                "sum": values["sum"] - before_values["sum"],
                "bins": _list_difference(values["bins"], before_values["bins"]),
            },
            "unbinned": now_p["unbinned"] - before_p["unbinned"],
        },
        "shadow": {
            key: now["shadow"][key] - before["shadow"][key] for key in ("requests", "mismatches")
        },
    }


def _list_difference(now: list[int] | None, before: list[int] | None) -> list[int] | None:
    if now is None or before is None or len(now) != len(before):
        return now
    return [a - b for a, b in zip(now, before, strict=True)]


def _nested_difference(
    now: dict[str, dict[str, int]], before: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for kind, statuses in now.items():
        for status, n in statuses.items():
            delta = n - before.get(kind, {}).get(status, 0)
            if delta:
                out.setdefault(kind, {})[status] = delta
    return out
