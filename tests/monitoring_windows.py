"""Monitoring windows for tests: pipeline ``shop`` (models ``shop-clf`` and ``shop-reg``)
extracted under a root, and one-hour windows as ``monitor`` records them
(``monitor/recording.py`` writes them into MLflow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mlflow_fixtures import client_for
from nbfactory import write_notebook

from jupyter_mlops.monitor.result import WindowResult

CLF, REG = "shop-clf", "shop-reg"
START = datetime(2026, 12, 2, 8, tzinfo=UTC)
TRIGGERS = """
triggers:
  nightly:
    kind: schedule
    cron: "0 3 * * *"
  decaying:
    kind: decay
    model: shop-clf
    metric: accuracy
    below: 0.85
    windows: 2
    cooldown: 1h
"""


def pipeline(root: Path, triggers: str = TRIGGERS) -> Path:
    """``<root>/work/shop.ipynb`` extracted to ``work/pipelines/shop`` (models ``shop-clf``
    and ``shop-reg``), ``triggers`` appended to its pipeline.yaml."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    (root / "work").mkdir(exist_ok=True)
    notebook = write_notebook(
        root / "work" / "shop.ipynb",
        ["%%mlstep train --model clf\nclf = 1", "%%mlstep fit --model reg\nreg = 2"],
    )
    folder = root / "work" / "pipelines" / "shop"
    write_package(scan_notebook(notebook), folder)
    yaml_file = folder / "pipeline.yaml"
    yaml_file.write_text(yaml_file.read_text() + triggers)
    return folder


def window(hour: int, accuracy: float, estimated: bool = False) -> WindowResult:
    """A one-hour window from ``START + hour``: ``petal`` drifted, ``sepal`` did not."""
    columns = [
        {"column": "petal", "test": "ks", "statistic": 0.4 + hour / 10, "drifted": True},
        {"column": "sepal", "test": "ks", "statistic": 0.05, "drifted": False},
    ]
    return WindowResult(
        start=START + timedelta(hours=hour),
        end=START + timedelta(hours=hour + 1),
        rows=100 * (hour + 1),
        versions={"1": 60 * (hour + 1), "2": 40 * (hour + 1)},
        drift={"share": 0.5, "drifted": True, "drift_share": 0.5, "columns": columns},
        prediction_drift={
            "reference": {"column": "prediction", "statistic": 0.25, "drifted": False},
            "between_versions": None,
        },
        performance={
            "source": "cbpe" if estimated else "labels",
            "rows": 90,
            "metrics": {"accuracy": accuracy, "f1": accuracy - 0.05},
        },
    )


def monitoring_experiment_in(uri: str, model: str, folder: Path) -> None:
    """Create ``<model>-monitoring`` with its artifacts under ``folder`` (``monitor`` then
    records into it), so a test's reports never land in the working directory."""
    artifacts = (folder / "monitoring-artifacts").as_uri()
    client_for(uri).create_experiment(f"{model}-monitoring", artifact_location=artifacts)
