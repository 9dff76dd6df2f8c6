"""ServiceMetrics: Prometheus text, JSON snapshots, interval differences, prediction bins."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jupyter_mlops.deploy.serving.metrics import (
    EDGE_SAMPLE,
    LATENCY_BUCKETS,
    MAX_LABELS,
    ServiceMetrics,
)
from jupyter_mlops.deploy.serving.metrics_snapshot import histogram_quantile, snapshot_difference


def samples(metrics: ServiceMetrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the rendered text, by sample name, parsed by prometheus_client."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict, name: str, **labels: str) -> float:
    matches = [v for got, v in found[name] if all(got.get(k) == x for k, x in labels.items())]
    assert len(matches) == 1, (name, labels, found.get(name))
    return matches[0]


def test_render_counts_requests_errors_and_latency_buckets():
    metrics = ServiceMetrics("iris")
    for seconds in (0.0007, 0.0007, 0.003, 0.2, 7.0):
        metrics.observe("3", 200, seconds)
    metrics.observe("3", 500, 0.004, kind="infer")
    metrics.observe("4", 400, 0.001)
    metrics.observe(None, 415, 0.0001)

    found = samples(metrics)

    assert (
        value(found, "mlops_serve_requests_total", version="3", kind="invocations", status="200")
        == 5
    )
    assert value(found, "mlops_serve_requests_total", version="3", kind="infer", status="500") == 1
    assert value(found, "mlops_serve_errors_total", model="iris", version="3") == 1
    assert value(found, "mlops_serve_errors_total", version="4") == 0
    assert value(found, "mlops_serve_unrouted_requests_total", status="415") == 1
    buckets = {
        labels["le"]: v
        for labels, v in found["mlops_serve_request_duration_seconds_bucket"]
        if labels["version"] == "3"
    }
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    assert buckets["0.0005"] == 0
    assert buckets["0.001"] == 2
    assert buckets["0.005"] == 4  # 0.003 and the 500's 0.004
    assert buckets["0.25"] == 5
    assert buckets["5.0"] == 5
    assert buckets["+Inf"] == 6
    assert value(found, "mlops_serve_request_duration_seconds_count", version="3") == 6
    assert value(found, "mlops_serve_request_duration_seconds_sum", version="3") == pytest.approx(
        0.0007 * 2 + 0.003 + 0.2 + 7.0 + 0.004
    )


def test_render_escapes_label_values_and_has_help_and_type():
    name = 'odd "model"\\name\nline'
    metrics = ServiceMetrics(name)
    metrics.observe('v"1', 200, 0.01)
    text = metrics.render().decode()

    assert "# TYPE mlops_serve_request_duration_seconds histogram" in text
    assert "# HELP mlops_serve_requests_total " in text
    assert '\\"' in text and "\\n" in text
    found = samples(metrics)
    assert value(found, "mlops_serve_requests_total", model=name, version='v"1') == 1


def test_batches_drops_shadow_and_class_predictions_are_rendered():
    metrics = ServiceMetrics("m")
    for size in (1, 3, 3, 32, 5000):
        metrics.observe_batch(size)
    metrics.count_dropped(7)
    metrics.observe_shadow("5", matched=True)
    metrics.observe_shadow("5", matched=False)
    metrics.observe_predictions("3", np.array(["setosa", "virginica", "setosa"]))
    metrics.observe_predictions("3", np.array([1, 1, 0]))

    found = samples(metrics)

    batch = {labels["le"]: v for labels, v in found["mlops_serve_batch_size_bucket"]}
    assert (batch["1.0"], batch["2.0"], batch["4.0"], batch["32.0"], batch["+Inf"]) == (
        1,
        1,
        3,
        4,
        5,
    )
    assert value(found, "mlops_serve_batch_size_sum") == 1 + 3 + 3 + 32 + 5000
    assert value(found, "mlops_serve_request_log_dropped_total") == 7
    assert value(found, "mlops_serve_shadow_requests_total", version="5") == 2
    assert value(found, "mlops_serve_shadow_mismatches_total", version="5") == 1
    assert value(found, "mlops_serve_predictions_total", version="3", label="setosa") == 2
    assert value(found, "mlops_serve_predictions_total", version="3", label="1") == 2
    assert value(found, "mlops_serve_predictions_total", version="3", label="0") == 1


def test_snapshot_percentiles_interpolate_inside_buckets():
    metrics = ServiceMetrics("m")
    for _ in range(50):
        metrics.observe("1", 200, 0.0007)  # bucket (0.0005, 0.001]
        metrics.observe("1", 200, 0.003)  # bucket (0.0025, 0.005]

    entry = metrics.snapshot()["versions"]["1"]

    assert entry["requests"] == 100
    assert entry["p50_ms"] == pytest.approx(1.0)  # rank 50: top of the first bucket
    assert entry["p95_ms"] == pytest.approx(4.75)  # 2.5 + 2.5 * 45/50
    assert entry["p99_ms"] == pytest.approx(4.95)  # 2.5 + 2.5 * 49/50


def test_percentile_in_the_inf_bucket_is_the_highest_bound_and_none_without_data():
    counts = [0] * len(LATENCY_BUCKETS) + [3]
    assert histogram_quantile(0.5, LATENCY_BUCKETS, counts) == LATENCY_BUCKETS[-1]
    assert histogram_quantile(0.5, LATENCY_BUCKETS, [0] * (len(LATENCY_BUCKETS) + 1)) is None


def test_snapshot_error_rate_counts_5xx_and_client_errors_apart():
    metrics = ServiceMetrics("m")
    for status in (200, 200, 200, 500, 400, 422, 503, 200):
        metrics.observe("2", status, 0.001)

    entry = metrics.snapshot()["versions"]["2"]

    assert (entry["requests"], entry["errors"], entry["client_errors"]) == (8, 2, 2)
    assert entry["error_rate"] == 0.25
    assert entry["by_kind"] == {"invocations": {"200": 4, "400": 1, "422": 1, "500": 1, "503": 1}}


def test_since_gives_the_counts_of_the_interval_only():
    metrics = ServiceMetrics("m")
    for _ in range(10):
        metrics.observe("1", 200, 0.2)
    metrics.observe_predictions("1", ["a", "a"])
    metrics.count_dropped(3)
    before = json.loads(json.dumps(metrics.snapshot()))  # as fetched from a JSON endpoint
    for _ in range(4):
        metrics.observe("1", 500, 0.0007)
    metrics.observe("2", 200, 0.003)
    metrics.observe_predictions("1", ["a", "b"])
    metrics.count_dropped(1)

    window = metrics.since(before)

    one, two = window["versions"]["1"], window["versions"]["2"]
    assert (one["requests"], one["errors"], one["error_rate"]) == (4, 4, 1.0)
    assert one["p99_ms"] <= 1.0  # the 0.2 s requests are before the window
    assert one["predictions"]["labels"] == {"a": 1, "b": 1}
    assert two["requests"] == 1
    assert window["dropped_rows"] == 1
    assert window["since"] == before["time"]


def test_difference_with_another_instance_counts_everything():
    first, restarted = ServiceMetrics("m"), ServiceMetrics("m")
    first.observe("1", 200, 0.01)
    restarted.observe("1", 200, 0.01)
    restarted.observe("1", 200, 0.01)

    window = snapshot_difference(restarted.snapshot(), first.snapshot())

    assert window["versions"]["1"]["requests"] == 2
    assert window["since"] is None


def test_class_labels_are_capped_per_version():
    metrics = ServiceMetrics("m")
    metrics.observe_predictions("1", [f"label{i}" for i in range(MAX_LABELS + 5)])
    metrics.observe_predictions("1", ["label0", "label104"])

    predictions = metrics.snapshot()["versions"]["1"]["predictions"]

    assert len(predictions["labels"]) == MAX_LABELS
    assert predictions["labels"]["label0"] == 2
    assert predictions["other_labels"] == 6


def test_numeric_predictions_use_the_reference_edges_for_every_version():
    metrics = ServiceMetrics("m", prediction_edges=[1.0, 0.0, 2.0])
    metrics.observe_predictions("1", np.array([-5.0, 0.0, 0.5, 1.0, 1.5, 9.0, np.nan]))
    metrics.observe_predictions("2", [2.0, 3.0])
    metrics.observe_predictions("2", np.array([[0.1, 0.9], [0.3, 0.7]]))

    snap = metrics.snapshot()

    assert snap["prediction_edges"] == [0.0, 1.0, 2.0]
    one = snap["versions"]["1"]["predictions"]
    assert one["values"]["bins"] == [2, 2, 1, 1]  # (-inf,0] (0,1] (1,2] (2,inf)
    assert one["values"]["count"] == 6 and one["unbinned"] == 1
    two = snap["versions"]["2"]["predictions"]
    assert two["values"]["bins"] == [0, 0, 1, 1]
    assert two["unbinned"] == 2  # a probability vector per row is not binned
    found = samples(metrics)
    assert value(found, "mlops_serve_prediction_value_bucket", version="1", le="1.0") == 4


def test_numeric_edges_come_from_the_first_values_seen_and_hold_earlier_ones():
    metrics = ServiceMetrics("m")
    metrics.observe_predictions("1", [float(i) for i in range(EDGE_SAMPLE - 1)])
    assert metrics.snapshot()["prediction_edges"] is None

    metrics.observe_predictions("2", np.arange(10, dtype=float))  # fills the sample, then bins

    snap = metrics.snapshot()
    edges = snap["prediction_edges"]
    assert edges == sorted(edges) and 1 < len(edges) < 20
    one, two = (snap["versions"][v]["predictions"]["values"] for v in ("1", "2"))
    assert sum(one["bins"]) == one["count"] == EDGE_SAMPLE - 1
    assert sum(two["bins"]) == two["count"] == 10
    assert two["bins"][0] == 10  # 0..9 lie below the first edge of 0..198's quantiles


def test_concurrent_observations_are_all_counted():
    metrics = ServiceMetrics("m")

    def hammer() -> None:
        for _ in range(2000):
            metrics.observe("1", 200, 0.001)
            metrics.observe_predictions("1", [1])

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    entry = metrics.snapshot()["versions"]["1"]
    assert entry["requests"] == 12000
    assert sum(entry["latency"]["counts"]) == 12000
    assert entry["predictions"]["labels"] == {"1": 12000}
