"""``mlflow deployments … -t jupyter-mlops:/batch``: serving as data through our plugin, with
the real ``mlflow`` CLI in subprocesses: a table scored by the version, re-scored on update,
dropped on delete; the registry alias ``deploy-<name>`` records the version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from plugin_helpers import NAME, aliases, field, pyfunc_predictions

pytest_plugins = ("mlflow_fixtures", "plugin_fixtures")

TARGET = "jupyter-mlops:/batch"


def table_versions(database: Path, table: str) -> dict[str, int]:
    """``model_version`` → rows of ``table``."""
    with sqlite3.connect(database) as connection:
        query = f"SELECT model_version, COUNT(*) FROM {table} GROUP BY model_version"
        return {str(version): rows for version, rows in connection.execute(query)}


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {name for (name,) in connection.execute(query)}


def test_batch_create_predict_update_delete_with_the_mlflow_cli(
    mlflow_cli: Any, store: str, iris: Any, tmp_path: Path
) -> None:
    keyed = iris[0].copy()
    keyed.insert(0, "id", range(len(keyed)))
    keyed.to_parquet(tmp_path / "flowers.parquet", index=False)
    database = tmp_path / "scores.db"
    settings = [
        *("-C", "input=flowers.parquet", "-C", "key=id"),
        *("-C", f"into=sqlite:///{database}", "-C", "table=iris_scores"),
    ]

    mlflow_cli("create", "-t", TARGET, "--name", "nightly", "-m", f"models:/{NAME}/1", *settings)
    assert table_versions(database, "iris_scores") == {"1": 150}
    assert aliases(store) == {"deploy-nightly": "1"}
    described = mlflow_cli("get", "-t", TARGET, "--name", "nightly").stdout
    assert (field(described, "table_rows"), field(described, "table_version")) == ("150", "1")

    rows = tmp_path / "rows.json"
    frame = iris[0].iloc[[0, 70, 140]]
    rows.write_text(frame.to_json(orient="records"))
    predicted = mlflow_cli("predict", "-t", TARGET, "--name", "nightly", "--input-path", str(rows))
    assert json.loads(predicted.stdout)["predictions"] == pyfunc_predictions(store, "1", frame)

    mlflow_cli("update", "-t", TARGET, "--name", "nightly", "-m", f"models:/{NAME}/2")
    assert table_versions(database, "iris_scores") == {"2": 150}
    assert aliases(store) == {"deploy-nightly": "2"}
    assert "'name': 'nightly'" in mlflow_cli("list", "-t", TARGET).stdout
    assert "[]" in mlflow_cli("list", "-t", "jupyter-mlops").stdout  # rest deployments

    mlflow_cli("delete", "-t", TARGET, "--name", "nightly")
    assert "iris_scores" not in tables(database)
    assert aliases(store) == {}
    assert "[]" in mlflow_cli("list", "-t", TARGET).stdout


def test_batch_create_without_a_key_is_refused_naming_it(mlflow_cli: Any, store: str) -> None:
    failed = mlflow_cli(
        *("create", "-t", TARGET, "--name", "nightly", "-m", f"models:/{NAME}/1"),
        *("-C", "input=flowers.parquet"),
        check=False,
    )
    assert failed.returncode != 0
    assert "config key 'key' is required for a batch deployment" in failed.stderr
    assert aliases(store) == {}
