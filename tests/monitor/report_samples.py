"""Realistic monitor results (the contract's "Monitor result JSON") for the report's tests.

Seeded and built from plain Python, so the same call gives the same dict.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
NUMERIC = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def column_drift(column: str, kind: str, drifted: bool, rng: random.Random) -> dict[str, Any]:
    """A ColumnDrift.to_json(): KS for numeric, chi-squared for categorical columns."""
    test = "ks" if kind == "numeric" else "chi2"
    statistic = round(rng.uniform(0.3, 0.6) if drifted else rng.uniform(0.01, 0.1), 4)
    p_value = round(rng.uniform(0.0, 0.01) if drifted else rng.uniform(0.2, 0.9), 4)
    return {
        "column": column,
        "kind": kind,
        "test": test,
        "statistic": statistic,
        "p_value": p_value,
        "threshold": 0.05,
        "drifted": drifted,
        "psi": round(statistic * 0.8, 4),
        "missing": round(rng.uniform(0.0, 0.02), 4),
    }


def numeric_histogram(shift: float, bins: int = 10) -> dict[str, Any]:
    """Shares per bin of a reference and a current bell shape, ``shift`` bins apart."""
    edges = [round(4.0 + 0.4 * i, 2) for i in range(bins + 1)]

    def bell(centre: float) -> list[float]:
        weights = [2.0 ** -(((i - centre) / 1.8) ** 2) for i in range(bins)]
        return [round(w / sum(weights), 4) for w in weights]

    return {
        "kind": "numeric",
        "edges": edges,
        "reference": bell(4.5),
        "current": bell(4.5 + shift),
    }


def categorical_histogram(categories: list[str]) -> dict[str, Any]:
    count = len(categories)
    reference = [round(1 / count, 4)] * count
    current = [round((i + 1) / (count * (count + 1) / 2), 4) for i in range(count)]
    return {
        "kind": "categorical",
        "categories": categories,
        "reference": reference,
        "current": current,
    }


def sample_result(
    windows: int = 6,
    features: list[str] | None = None,
    categorical: str | None = "region",
    performance: bool = True,
    histograms: bool = True,
    seed: int = 7,
) -> dict[str, Any]:
    """A monitor result over ``windows`` hourly windows of an iris classifier with versions 3
    and 4 (4 canaried in from the third window); drift grows in the last windows, the last
    two windows' performance is a CBPE estimate."""
    rng = random.Random(seed)
    names = list(NUMERIC if features is None else features)
    kinds = {name: "numeric" for name in names}
    if categorical:
        kinds[categorical] = "categorical"
    out_windows = []
    for index in range(windows):
        start = START + timedelta(hours=index)
        late = index >= windows - 2
        columns = [
            column_drift(name, kind, late and i % 2 == 0, rng)
            for i, (name, kind) in enumerate(kinds.items())
        ]
        drifted = sum(c["drifted"] for c in columns)
        share = round(drifted / len(columns), 4)
        new_rows = 0 if index < 2 else 200 + 50 * index
        versions = {"3": 1000 - new_rows, **({"4": new_rows} if new_rows else {})}
        out_windows.append(
            {
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "rows": 1000,
                "versions": versions,
                "drift": {
                    "share": share,
                    "drifted": share >= 0.5,
                    "drift_share": 0.5,
                    "columns": columns,
                },
                "prediction_drift": {
                    "reference": column_drift("prediction", "categorical", late, rng),
                    "between_versions": (
                        {
                            "versions": ["3", "4"],
                            **column_drift("prediction", "categorical", False, rng),
                        }
                        if new_rows
                        else None
                    ),
                },
                "performance": _performance(index, windows, rng) if performance else None,
                "decayed": [],
                "mlflow_run_id": f"run{index:04d}",
            }
        )
    result: dict[str, Any] = {
        "model": "iris",
        "selector": "iris@champion",
        "versions": ["3", "4"],
        "reference": {"version": "3", "rows": 120, "columns": list(kinds)},
        "source": {
            "kind": "service-log",
            "location": "/srv/iris/requests.jsonl",
            "since": None,
            "window": "1h",
        },
        "windows": out_windows,
        "histograms": {},
        "fired": ["drift"] if out_windows and out_windows[-1]["drift"]["drifted"] else [],
        "fail_on": ["drift"],
        "experiment": "iris-monitoring",
        "report": None,
    }
    if histograms:
        result["histograms"] = {
            name: numeric_histogram(1.5 if i % 2 == 0 else 0.1) for i, name in enumerate(names)
        }
        if categorical:
            result["histograms"][categorical] = categorical_histogram(["north", "south", "east"])
        result["histograms"]["prediction"] = categorical_histogram(
            ["setosa", "versicolor", "virginica"]
        )
    return result


def _performance(index: int, windows: int, rng: random.Random) -> dict[str, Any]:
    estimated = index >= windows - 2
    accuracy = round(0.95 - 0.03 * max(0, index - windows + 3) + rng.uniform(-0.01, 0.01), 4)
    return {
        "source": "cbpe" if estimated else "labels",
        "rows": 950,
        "metrics": {"accuracy": accuracy, "roc_auc": round(min(accuracy + 0.03, 1.0), 4)}
        | ({} if estimated else {"f1": round(accuracy - 0.01, 4)}),
    }
