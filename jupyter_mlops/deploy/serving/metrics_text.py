"""Prometheus text exposition (format 0.0.4) of a ``ServiceMetrics.snapshot()``.

Every metric is prefixed ``mlops_serve_`` and labelled with ``model`` (and ``version`` where
the count belongs to one); histograms are cumulative ``_bucket{le=…}`` lines plus ``_sum`` and
``_count``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "mlops_serve_"
OTHER_LABEL = "<other>"


def escape_label(value: str) -> str:
    """A label value escaped for the text format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_number(value: float) -> str:
    """A sample value or bound as Prometheus writes it (``+Inf``, ``NaN``, ``1.0``)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(pairs: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{escape_label(str(value))}"' for key, value in pairs.items())
    return "{" + inner + "}"


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} {kind}"]


def _histogram(
    name: str, labels: dict[str, str], bounds: Sequence[float], counts: Sequence[int], total: float
) -> Iterator[str]:
    cumulative = 0
    for bound, n in zip([*bounds, math.inf], counts, strict=True):
        cumulative += n
        le = _labels({**labels, "le": format_number(float(bound))})
        yield f"{PREFIX}{name}_bucket{le} {cumulative}"
    yield f"{PREFIX}{name}_sum{_labels(labels)} {format_number(total)}"
    yield f"{PREFIX}{name}_count{_labels(labels)} {cumulative}"


def _request_lines(snap: dict[str, Any]) -> Iterator[str]:
    model = snap["model"]
    yield from _header("requests_total", "counter", "Prediction requests by version, kind, status.")
    for version, entry in snap["versions"].items():
        for kind, statuses in entry["by_kind"].items():
            for status, n in statuses.items():
                pairs = {"model": model, "version": version, "kind": kind, "status": status}
                yield f"{PREFIX}requests_total{_labels(pairs)} {n}"
    yield from _header("errors_total", "counter", "Requests a version answered with a 5xx status.")
    for version, entry in snap["versions"].items():
        yield f"{PREFIX}errors_total{_labels({'model': model, 'version': version})} {entry['errors']}"
    yield from _header(
        "unrouted_requests_total", "counter", "Requests refused before a version was chosen."
    )
    for kind, statuses in snap["unrouted"].items():
        for status, n in statuses.items():
            pairs = {"model": model, "kind": kind, "status": status}
            yield f"{PREFIX}unrouted_requests_total{_labels(pairs)} {n}"
    yield from _header(
        "request_duration_seconds", "histogram", "Time to answer a request, in seconds."
    )
    for version, entry in snap["versions"].items():
        latency = entry["latency"]
        labels = {"model": model, "version": version}
        yield from _histogram(
            "request_duration_seconds",
            labels,
            snap["latency_buckets"],
            latency["counts"],
            latency["sum"],
        )


def _prediction_lines(snap: dict[str, Any]) -> Iterator[str]:
    model = snap["model"]
    yield from _header("predictions_total", "counter", "Class-label predictions per label.")
    for version, entry in snap["versions"].items():
        predictions = entry["predictions"]
        labels = [*predictions["labels"].items(), (OTHER_LABEL, predictions["other_labels"])]
        for label, n in labels:
            if n:
                pairs = {"model": model, "version": version, "label": label}
                yield f"{PREFIX}predictions_total{_labels(pairs)} {n}"
    yield from _header("prediction_value", "histogram", "Numeric predictions, fixed-edge bins.")
    edges = snap["prediction_edges"]
    for version, entry in snap["versions"].items():
        values = entry["predictions"]["values"]
        if edges is not None and values["bins"] is not None:
            labels_ = {"model": model, "version": version}
            yield from _histogram("prediction_value", labels_, edges, values["bins"], values["sum"])


def _service_lines(snap: dict[str, Any]) -> Iterator[str]:
    model = {"model": snap["model"]}
    yield from _header("batch_size", "histogram", "Rows per micro-batched predict call.")
    batches = snap["batches"]
    yield from _histogram(
        "batch_size", model, snap["batch_buckets"], batches["counts"], batches["sum"]
    )
    yield from _header(
        "request_log_dropped_total",
        "counter",
        "Request-log rows dropped (queue full, write error).",
    )
    yield f"{PREFIX}request_log_dropped_total{_labels(model)} {snap['dropped_rows']}"
    for key, help_text in (
        ("requests", "Requests copied to a shadow version."),
        ("mismatches", "Shadow answers that differed from the served answer."),
    ):
        yield from _header(f"shadow_{key}_total", "counter", help_text)
        for version, entry in snap["versions"].items():
            pairs = {**model, "version": version}
            yield f"{PREFIX}shadow_{key}_total{_labels(pairs)} {entry['shadow'][key]}"


def render_snapshot(snap: dict[str, Any]) -> bytes:
    """The exposition text of ``snap`` (a ``ServiceMetrics.snapshot()``), UTF-8."""
    lines = [*_request_lines(snap), *_prediction_lines(snap), *_service_lines(snap)]
    return ("\n".join(lines) + "\n").encode()
