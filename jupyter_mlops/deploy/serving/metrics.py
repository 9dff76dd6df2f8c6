"""The prediction service's counters and histograms, per model version.

Updates take one lock around a few integer additions (no prometheus_client on the hot path).
``snapshot()`` is the one read: a JSON-able dict the rollout analysis fetches, and the source
of ``render()`` (Prometheus text format 0.0.4). ``snapshot_difference(now, before)`` gives the
counts over an interval, the analysis window.

Prediction distribution, kept per version with the same bins for every version so versions
compare: strings, booleans and integers are class labels, counted per label (the first 100
distinct labels of a version; later ones add to ``other_labels``). Floats are binned by fixed
edges: ``prediction_edges`` given at construction (e.g. quantiles of the training
predictions), else 19 interior quantiles of the first 200 finite float predictions the service
saw (any version); until then those values are held and binned once the edges are set. Other
predictions (vectors, dicts, NaN) are counted as ``unbinned``.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

from jupyter_mlops.deploy.serving.metrics_snapshot import derive, snapshot_difference
from jupyter_mlops.deploy.serving.metrics_text import render_snapshot

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MAX_LABELS = 100
MAX_LABEL_LENGTH = 100
EDGE_SAMPLE = 200
EDGE_QUANTILES = 20


class _VersionStats:
    """Raw counts of one version; read and written under ``ServiceMetrics._lock`` only."""

    __slots__ = (
        "requests",
        "latency",
        "latency_sum",
        "labels",
        "other_labels",
        "value_bins",
        "value_count",
        "value_sum",
        "unbinned",
        "shadow_requests",
        "shadow_mismatches",
    )

    def __init__(self, n_latency: int, n_value_bins: int) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency = [0] * n_latency
        self.latency_sum = 0.0
        self.labels: dict[str, int] = {}
        self.other_labels = 0
        self.value_bins = [0] * n_value_bins
        self.value_count = 0
        self.value_sum = 0.0
        self.unbinned = 0
        self.shadow_requests = 0
        self.shadow_mismatches = 0


class ServiceMetrics:
    """Thread-safe metrics of one served model (all its versions)."""

    def __init__(
        self,
        model_name: str,
        prediction_edges: Sequence[float] | None = None,
        latency_buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        self.model_name = model_name
        self.instance = uuid.uuid4().hex[:12]
        self._latency_bounds = tuple(float(b) for b in latency_buckets)
        self._edges: tuple[float, ...] | None = (
            tuple(sorted({float(e) for e in prediction_edges})) if prediction_edges else None
        )
        self._pending_values: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._versions: dict[str, _VersionStats] = {}
        self._unrouted: dict[tuple[str, int], int] = {}
        self._batches = [0] * (len(BATCH_BUCKETS) + 1)
        self._batch_sum = 0
        self._dropped = 0

    def _stats(self, version: str) -> _VersionStats:
        stats = self._versions.get(version)
        if stats is None:
            n_bins = len(self._edges) + 1 if self._edges is not None else 0
            stats = self._versions[version] = _VersionStats(len(self._latency_bounds) + 1, n_bins)
        return stats

    def observe(
        self, version: str | None, status: int, seconds: float, kind: str = "invocations"
    ) -> None:
        """Count one answered request; ``version`` None = refused before a version was chosen."""
        index = bisect_left(self._latency_bounds, seconds)
        key = (kind, status)
        with self._lock:
            if version is None:
                self._unrouted[key] = self._unrouted.get(key, 0) + 1
                return
            stats = self._stats(version)
            stats.requests[key] = stats.requests.get(key, 0) + 1
            stats.latency[index] += 1
            stats.latency_sum += seconds

    def observe_batch(self, size: int) -> None:
        """Count one ``predict`` call over ``size`` micro-batched rows."""
        index = bisect_left(BATCH_BUCKETS, size)
        with self._lock:
            self._batches[index] += 1
            self._batch_sum += size

    def count_dropped(self, n: int) -> None:
        """Count ``n`` request-log rows that were not written."""
        with self._lock:
            self._dropped += n

    def observe_shadow(self, version: str, matched: bool) -> None:
        """Count one shadow request of ``version`` and whether it matched the served answer."""
        with self._lock:
            stats = self._stats(version)
            stats.shadow_requests += 1
            stats.shadow_mismatches += not matched

    def observe_predictions(self, version: str, predictions: Any) -> None:
        """Add a request's predictions (array, list, Series, scalar) to ``version``'s distribution."""
        labels, values, unbinned = split_predictions(predictions)
        edges = self._edges
        bins = bin_counts(edges, values) if edges is not None else None
        with self._lock:
            stats = self._stats(version)
            _add_labels(stats, labels)
            stats.unbinned += unbinned
            if values:
                stats.value_count += len(values)
                stats.value_sum += sum(values)
                if bins is None:
                    self._hold_values(version, values)
                else:
                    _add_bins(stats, bins)

    def _hold_values(self, version: str, values: list[float]) -> None:
        """Bin ``values`` if the edges are set, else keep them until the sample is full."""
        if self._edges is None:
            room = EDGE_SAMPLE - len(self._pending_values)
            self._pending_values.extend((version, v) for v in values[:room])
            values = values[room:]
            if len(self._pending_values) >= EDGE_SAMPLE:
                self._set_edges_from_sample()
        if values and self._edges is not None:
            _add_bins(self._stats(version), bin_counts(self._edges, values))

    def _set_edges_from_sample(self) -> None:
        sample = sorted(v for _, v in self._pending_values)
        last = len(sample) - 1
        points = {sample[round(i * last / EDGE_QUANTILES)] for i in range(1, EDGE_QUANTILES)}
        self._edges = tuple(sorted(points))
        for stats in self._versions.values():
            stats.value_bins = [0] * (len(self._edges) + 1)
        for version, value in self._pending_values:
            self._versions[version].value_bins[bisect_left(self._edges, value)] += 1
        self._pending_values = []

    def snapshot(self) -> dict[str, Any]:
        """Every count now, as JSON-able data (the totals and percentiles: ``metrics_snapshot.derive``)."""
        with self._lock:
            versions = {v: _raw_version(s) for v, s in self._versions.items()}
            snap = {
                "model": self.model_name,
                "instance": self.instance,
                "time": time.time(),
                "latency_buckets": list(self._latency_bounds),
                "batch_buckets": list(BATCH_BUCKETS),
                "prediction_edges": list(self._edges) if self._edges is not None else None,
                "versions": versions,
                "unrouted": _nest(self._unrouted),
                "batches": {"counts": list(self._batches), "sum": self._batch_sum},
                "dropped_rows": self._dropped,
            }
        for entry in versions.values():
            derive(entry, self._latency_bounds)
        return snap

    def since(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        """The counts since ``previous`` (an earlier ``snapshot()``)."""
        return snapshot_difference(self.snapshot(), previous)

    def render(self) -> bytes:
        """The Prometheus text exposition (format 0.0.4) of ``snapshot()``."""
        return render_snapshot(self.snapshot())


def split_predictions(predictions: Any) -> tuple[dict[str, int], list[float], int]:
    """(label counts, finite float values, count of other predictions) of one request."""
    if hasattr(predictions, "to_numpy"):
        predictions = predictions.to_numpy()
    if isinstance(predictions, np.ndarray):
        return _split_array(predictions)
    if isinstance(predictions, list | tuple):
        return _split_items(predictions)
    if isinstance(predictions, dict):
        return {}, [], 1
    return _split_items([predictions])


def _split_array(array: np.ndarray) -> tuple[dict[str, int], list[float], int]:
    if array.ndim == 0 or (array.ndim == 2 and array.shape[1] == 1):
        array = array.reshape(-1)
    if array.ndim != 1:
        return {}, [], int(array.shape[0])
    if array.size <= 8 or array.dtype.kind not in "fiub":
        return _split_items(array.tolist())
    if array.dtype.kind == "f":
        finite = array[np.isfinite(array)].astype(float, copy=False)
        return {}, finite.tolist(), int(array.size - finite.size)
    keys, counts = np.unique(array, return_counts=True)
    return (
        {str(k): int(n) for k, n in zip(keys.tolist(), counts.tolist(), strict=True)},
        [],
        0,
    )


def _split_items(items: Sequence[Any]) -> tuple[dict[str, int], list[float], int]:
    labels: dict[str, int] = {}
    values: list[float] = []
    unbinned = 0
    for item in items:
        if isinstance(item, np.generic):
            item = item.item()
        if isinstance(item, str | bool | int):
            label = str(item)[:MAX_LABEL_LENGTH]
            labels[label] = labels.get(label, 0) + 1
        elif isinstance(item, float) and math.isfinite(item):
            values.append(item)
        else:
            unbinned += 1
    return labels, values, unbinned


def bin_counts(edges: Sequence[float], values: list[float]) -> list[int]:
    """Counts of ``values`` per bin ``(-inf, e0], (e0, e1], …, (e_last, +inf)``."""
    if len(values) <= 16:
        counts = [0] * (len(edges) + 1)
        for value in values:
            counts[bisect_left(edges, value)] += 1
        return counts
    indexes = np.searchsorted(np.asarray(edges), values, side="left")
    return [int(n) for n in np.bincount(indexes, minlength=len(edges) + 1)]


def _add_labels(stats: _VersionStats, labels: dict[str, int]) -> None:
    for label, n in labels.items():
        if label in stats.labels:
            stats.labels[label] += n
        elif len(stats.labels) < MAX_LABELS:
            stats.labels[label] = n
        else:
            stats.other_labels += n


def _add_bins(stats: _VersionStats, counts: list[int]) -> None:
    for index, n in enumerate(counts):
        stats.value_bins[index] += n


def _nest(counts: dict[tuple[str, int], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (kind, status), n in sorted(counts.items()):
        nested.setdefault(kind, {})[str(status)] = n
    return nested


def _raw_version(stats: _VersionStats) -> dict[str, Any]:
    return {
        "by_kind": _nest(stats.requests),
        "latency": {"counts": list(stats.latency), "sum": stats.latency_sum},
        "predictions": {
            "labels": dict(stats.labels),
            "other_labels": stats.other_labels,
            "values": {
                "count": stats.value_count,
                "sum": stats.value_sum,
                "bins": list(stats.value_bins) if stats.value_bins else None,
            },
            "unbinned": stats.unbinned,
        },
        "shadow": {"requests": stats.shadow_requests, "mismatches": stats.shadow_mismatches},
    }
