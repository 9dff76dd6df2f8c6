"""The monitoring report as HTML: sections, escaping, determinism, edge cases, atomic writing."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
from report_samples import sample_result

from jupyter_mlops.errors import FileSystemError, MonitorError
from jupyter_mlops.monitor.report_html import SUMMARY_ROWS, render_report, write_report
from jupyter_mlops.monitor.report_sections import HISTOGRAM_CHARTS
from jupyter_mlops.monitor.svg_charts import PALETTE, Series, fmt, line_chart, nice_ticks

SECTIONS = [
    "features",
    "histograms",
    "prediction-drift",
    "drift-over-time",
    "performance",
    "versions",
]


def _feature_rows(html: str) -> list[str]:
    return re.findall(r"<tr class='(?:drifted|stable)'>.*?</tr>", html)


def test_every_section_is_present_with_its_charts() -> None:
    html = render_report(sample_result())
    for section in SECTIONS:
        assert f"<h2 id='{section}'>" in html
    header = html.split("</header>")[0]
    for fact in ("iris@champion", "3, 4", "version 3, 120 rows, 5 feature columns", "service-log"):
        assert fact in header
    assert "/srv/iris/requests.jsonl" in header and "iris-monitoring" in header
    assert "Data drift" in header and "3 of 5 features drifted" in header
    assert "Asked to fail on drift: it fired (drift): the command failed." in header
    # 5 features + the prediction histogram, the prediction statistic over time, the drift
    # share, three performance metrics, the versions.
    assert html.count("<svg ") == 5 + 1 + 1 + 1 + 3 + 1
    assert 'class="threshold"' in html and "drift share threshold" in html
    assert 'data-series="version 4"' in html and 'data-series="version 3"' in html


def test_drifted_features_come_first_marked_with_an_icon_and_a_word() -> None:
    rows = _feature_rows(render_report(sample_result()))
    flags = ["⚠ drifted" in row for row in rows]
    assert flags == sorted(flags, reverse=True) and sum(flags) == 3
    assert all("✓ no" in row for row in rows if "⚠ drifted" not in row)
    assert "p-value &lt; 0.050" in rows[0]


def test_estimated_performance_points_are_hollow_and_labelled() -> None:
    html = render_report(sample_result(windows=4))
    accuracy = html.split("<strong>accuracy</strong>")[1].split("</figure>")[0]
    points = re.findall(
        r"<circle class=\"point\"[^>]*fill=\"([^\"]+)\"[^>]*>(<title>[^<]*)", accuracy
    )
    assert [fill == "#ffffff" for fill, _ in points] == [False, False, True, True]
    assert all("(estimated)" in title for fill, title in points if fill == "#ffffff")
    assert "open points are estimated with CBPE" in html
    assert "accuracy (estimated)</text>" in html and "f1 (estimated)" not in html


def test_every_user_string_is_escaped() -> None:
    hostile = "<script>alert('x')</script>"
    result = sample_result(features=[hostile, 'a&b"c'], categorical="<img src=x>")
    result["model"] = "<b>model</b>"
    result["source"]["location"] = "/data/<x>.jsonl"
    result["histograms"]["<img src=x>"]["categories"] = ["<i>", "&amp;", '"q"']
    result["windows"][-1]["versions"] = {"<v>": 5, "3": 10}
    result["fired"] = ["drift", "<odd>"]
    html = render_report(result)
    for raw in ("<script", "<img", "<b>model", "<x>", "<i>", "<v>", "<odd>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "a&amp;b&quot;c" in html and "&amp;amp;" in html and "version &lt;v&gt;" in html


def test_the_same_result_gives_the_same_bytes_whatever_its_key_order() -> None:
    result = sample_result()
    shuffled = copy.deepcopy(result)
    shuffled["histograms"] = dict(reversed(list(shuffled["histograms"].items())))
    for window in shuffled["windows"]:
        window["versions"] = dict(reversed(list(window["versions"].items())))
        window["performance"]["metrics"] = dict(
            reversed(list(window["performance"]["metrics"].items()))
        )
        window["drift"]["columns"].reverse()
    shuffled["windows"].reverse()
    assert render_report(result) == render_report(result) == render_report(shuffled)


def test_the_report_is_self_contained() -> None:
    html = render_report(sample_result())
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert re.findall(r"(?:src|href)=", html) == []
    assert set(re.findall(r"https?://[^\s\"')]+", html)) == {"http://www.w3.org/2000/svg"}


def test_one_window() -> None:
    html = render_report(sample_result(windows=1))
    for section in SECTIONS:
        assert f"<h2 id='{section}'>" in html
    drift_chart = html.split("<h2 id='drift-over-time'>")[1].split("</figure>")[0]
    assert drift_chart.count('<circle class="point"') == 1
    assert "<polyline" not in drift_chart


def test_no_windows() -> None:
    result = sample_result()
    result["windows"], result["fired"] = [], []
    html = render_report(result)
    assert "No windows: the source had no rows to compare." in html
    assert "No performance" in html and "No rows per version" in html
    assert "Nothing fired on the latest window. No feature drift was measured." in html


def test_no_performance_and_no_histograms() -> None:
    html = render_report(sample_result(performance=False, histograms=False))
    assert "No performance: the windows had no labels, no feedback and no estimate." in html
    assert "No histograms in this result." in html
    assert "<h2 id='versions'>" in html


def test_hundreds_of_features_fold_into_tables() -> None:
    names = [f"f{i:03d}" for i in range(300)]
    html = render_report(sample_result(windows=2, features=names, categorical=None))
    assert len(_feature_rows(html)) == 300
    visible = html.split("<details>")[0]
    assert len(_feature_rows(visible)) == SUMMARY_ROWS
    assert f"{300 - SUMMARY_ROWS} more features</summary>" in html
    assert html.count("<figure class='histogram'>") == HISTOGRAM_CHARTS
    assert f"{300 - HISTOGRAM_CHARTS} more features (not drawn)" in html


def test_missing_and_non_finite_numbers_read_n_a() -> None:
    result = sample_result(windows=3)
    latest = result["windows"][-1]
    latest["drift"]["columns"][0].update(statistic=math.nan, p_value=None, psi=math.inf)
    latest["drift"]["share"] = None
    latest["performance"]["metrics"]["accuracy"] = math.nan
    latest["rows"] = None
    latest["versions"]["3"] = None
    result["histograms"]["sepal_length"]["current"][2] = None
    result["histograms"]["sepal_width"]["reference"] = [math.nan] * 10
    result["windows"][0]["prediction_drift"] = None
    html = render_report(result)
    body = html.split("</style>")[1]
    assert re.search(r"\b(nan|inf)\b", body, re.IGNORECASE) is None and "None" not in body
    assert "n/a" in html


def test_fired_decay_names_the_metrics_and_says_estimated() -> None:
    result = sample_result(windows=3)
    result["fired"] = ["decay"]
    result["fail_on"] = []
    result["windows"][-1]["decayed"] = ["accuracy"]
    accuracy = fmt(result["windows"][-1]["performance"]["metrics"]["accuracy"])
    header = render_report(result).split("</header>")[0]
    assert (
        f"Performance decay</strong>: accuracy {accuracy} is past its <code>monitor.decay</code> "
        "threshold in the latest window (estimated with CBPE, no labels yet)."
    ) in header
    assert "roc_auc" not in header and "Asked to fail on" not in header


def test_nothing_fired_says_so_in_plain_words() -> None:
    result = sample_result()
    result["fired"] = []
    header = render_report(result).split("</header>")[0]
    assert "✓ Nothing fired on the latest window." in header
    assert "Asked to fail on drift: it passed." in header


def test_write_report_replaces_the_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    assert write_report(sample_result(), target) == target
    assert target.read_text(encoding="utf-8") == render_report(sample_result())
    target.write_text("old", encoding="utf-8")
    with pytest.raises(MonitorError, match="'windows' must be a list"):
        write_report({"windows": "every hour"}, target)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_write_report_into_a_missing_folder_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "report.html"
    with pytest.raises(FileSystemError, match="cannot write the monitoring report") as caught:
        write_report(sample_result(), target)
    assert caught.value.path == str(target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("result", "key"),
    [([], "JSON object"), ({"histograms": []}, "histograms"), ({"windows": [1]}, r"windows\[0\]")],
)
def test_a_malformed_result_is_refused_by_key(result: object, key: str) -> None:
    with pytest.raises(MonitorError, match=key):
        render_report(result)  # type: ignore[arg-type]


def test_number_formats_and_ticks_are_fixed() -> None:
    assert [fmt(v) for v in (None, math.nan, 3, 0.5, 0.123456, 1234.5, 0.0001, True)] == [
        "n/a", "n/a", "3", "0.500", "0.123", "1234.5", "1.00e-04", "n/a",
    ]  # fmt: skip
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.91, 0.95) == [0.91, 0.92, 0.93, 0.94, 0.95]
    assert nice_ticks(5.0, 5.0) == [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6]


def test_a_line_breaks_at_missing_values() -> None:
    svg = line_chart(
        "t", ["a", "b", "c", "d", "e"], [Series("s", [1, 2, None, 3, 4], PALETTE[0])], "y"
    )
    assert svg.count("<polyline") == 2 and svg.count('<circle class="point"') == 4


def test_a_result_built_from_the_real_statistics_renders() -> None:
    """The report reads what monitor/ really produces: DatasetDrift, ColumnDrift, histogram()
    and MonitorResult.to_json(), with numeric, categorical and binary columns."""
    from datetime import UTC, datetime, timedelta

    import numpy as np
    import pandas as pd

    from jupyter_mlops.monitor.column_drift import column_drift, dataset_drift
    from jupyter_mlops.monitor.histograms import histogram
    from jupyter_mlops.monitor.result import MonitorResult, WindowResult
    from jupyter_mlops.monitor.settings import MonitorSettings

    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {
            "<width>": rng.normal(5.0, 1.0, 400),
            "region": rng.choice(["north", "south", "east"], 400),
            "member": rng.choice([0, 1], 400),
        }
    )
    current = pd.DataFrame(
        {
            "<width>": rng.normal(6.0, 1.0, 300),
            "region": rng.choice(["north", "south", "east", "west"], 300),
            "member": rng.choice([0, 1], 300, p=[0.2, 0.8]),
        }
    )
    settings = MonitorSettings()
    drift = dataset_drift(reference, current, settings)
    kinds = {c.column: c.kind for c in drift.columns}
    start = datetime(2026, 12, 2, 10, tzinfo=UTC)
    window = WindowResult(
        start=start,
        end=start + timedelta(hours=1),
        rows=300,
        versions={"3": 300},
        drift=drift.to_json(),
        prediction_drift={
            "reference": column_drift(
                "prediction", reference["member"], current["member"], settings
            ).to_json(),
            "between_versions": None,
        },
        performance=None,
    )
    result = MonitorResult(
        model="iris",
        selector="iris@champion",
        reference={"version": "3", "rows": 400, "columns": list(reference.columns)},
        source={"kind": "data", "location": "/data/current.csv", "since": None, "window": "1h"},
        windows=[window],
        histograms={
            name: histogram(reference[name], current[name], kinds[name]) for name in reference
        },
        fail_on=[],
        experiment="iris-monitoring",
    ).to_json()
    html = render_report(result)
    assert kinds["<width>"] == "numeric" and "&lt;width&gt;" in html and "<width>" not in html
    assert html.count("<figure class='histogram'>") == 3
    assert ">west</text>" in html and "Data drift" in html
