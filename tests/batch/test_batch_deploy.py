"""The ``batch`` deploy target: its ``deploy:`` settings, ``jupyter mlops deploy`` scoring a
version into a staging table, verifying it and swapping it in (real CLI, real MLflow store,
SQLite), a broken version rolled back automatically, and a batch target's rollback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from batch_names import NAME
from batch_tables import read_table, table_names
from mlflow_fixtures import client_for, sqlite_uri
from nbfactory import write_notebook
from service_process import register

from jupyter_mlops import api
from jupyter_mlops.deploy.batch.target import BatchTarget
from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.alias_history import alias_history

TABLE = "iris_scores"
CONSTANT, RAISING = "3", "4"  # the broken versions the module's store adds
NOTEBOOK = [
    "import pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier",
    "%%mlstep load\nfrom sklearn.datasets import load_iris\n"
    "X, y = load_iris(as_frame=True, return_X_y=True)",
    "%%mlstep train --model model\nmodel = DecisionTreeClassifier(max_depth=2).fit(X, y)",
]


@pytest.fixture(scope="module")
def versions_store(scoring_store: str, tmp_path_factory: pytest.TempPathFactory, iris: Any) -> Path:
    """A copy of the scoring store (``iris`` 1 production, 2) plus version 3 predicting one
    class for every row and version 4 raising on the last rows; the database file."""
    from batch_models import FailsOnLongSepals
    from broken_models import Constant

    frame, target = iris
    db = tmp_path_factory.mktemp("deploy-store") / "mlflow.db"
    shutil.copyfile(scoring_store.removeprefix("sqlite:///"), db)
    assert register(sqlite_uri(db), NAME, Constant().fit(frame, target), frame) == CONSTANT
    assert register(sqlite_uri(db), NAME, FailsOnLongSepals().fit(frame, target), frame) == RAISING
    return db


@pytest.fixture
def store(versions_store: Path, tmp_path: Path) -> str:
    """A fresh copy of the versions store for one test (aliases move)."""
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    shutil.copyfile(versions_store, db)
    return sqlite_uri(db)


@pytest.fixture
def pipeline(tmp_path: Path, iris_files: dict[str, Path]) -> Path:
    """The extracted ``iris`` pipeline (one model, ``iris``) with ``keys.parquet`` beside
    its pipeline.yaml; no deploy section yet."""
    notebook = write_notebook(tmp_path / f"{NAME}.ipynb", NOTEBOOK)
    folder = api.extract(notebook).folder
    shutil.copyfile(iris_files["parquet"], folder / "keys.parquet")
    return folder


def add_targets(folder: Path, text: str) -> None:
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("\ndeploy:\n" + text)


NIGHTLY = f"""  nightly:
    kind: batch
    input: keys.parquet
    key: id
    table: {TABLE}
    chunk_rows: 64
    verification: {{max_prediction_drift: 0.3}}
"""


def deploy_cli(folder: Path, uri: str, version: str) -> tuple[int, dict[str, Any]]:
    """``jupyter mlops deploy FOLDER nightly --version V --json``: exit code and result."""
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "deploy", str(folder), "nightly",
         "--version", version, "--tracking-uri", uri, "--json"],
        capture_output=True, text=True, timeout=300, env=os.environ.copy(),
    )  # fmt: skip
    assert done.stdout.strip().startswith("{"), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


# --- the deploy: section ------------------------------------------------------------------


def test_a_batch_target_is_read_with_its_paths_resolved(pipeline: Path) -> None:
    add_targets(
        pipeline,
        NIGHTLY + "  warehouse:\n    kind: batch\n    input: postgresql://u:secret@db/x\n"
        "    query: SELECT * FROM customers\n    key: id\n"
        "    into: postgresql+psycopg://u:secret@db/scores\n"
        "    verification: {min_rows: 100, max_null_fraction: 0.01}\n",
    )
    target = api.deploy_target(pipeline, "nightly")
    assert isinstance(target, BatchTarget)
    assert target.input == str(pipeline / "keys.parquet")
    assert target.into == f"sqlite:///{pipeline / 'predictions.db'}"
    assert (target.key, target.table, target.chunk_rows, target.alias) == (
        "id",
        TABLE,
        64,
        "production",
    )
    assert target.verification_json() == {
        "min_rows": None, "max_null_fraction": 0.0, "max_prediction_drift": 0.3,
    }  # fmt: skip
    warehouse = api.deploy_target(pipeline, "warehouse")
    shown = warehouse.to_json()
    assert shown["input"] == "postgresql://u:***@db/x"
    assert shown["into"] == "postgresql+psycopg://u:***@db/scores"
    assert shown["table"] is None and shown["verification"]["min_rows"] == 100


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("input: keys.parquet", r"deploy\.nightly\.key is required for a batch target"),
        ("key: id", r"deploy\.nightly\.input is required for a batch target"),
        ("input: keys.txt\n    key: id", r"deploy\.nightly\.input must be a \.parquet or \.csv"),
        (
            "input: postgresql://u:pw@h/db\n    key: id",
            r"deploy\.nightly\.query is required to read rows from the database "
            r"'postgresql://u:\*\*\*@h/db'",
        ),
        ("input: k.csv\n    key: id\n    query: SELECT 1", r"deploy\.nightly\.query applies to a"),
        ("input: k.csv\n    key: id\n    table: my-table", r"deploy\.nightly\.table must be an"),
        (
            "input: k.csv\n    key: id\n    table: t__previous",
            r"deploy\.nightly\.table is reserved",
        ),
        ("input: k.csv\n    key: id\n    into: predictions.db", r"deploy\.nightly\.into must be a"),
        ("input: k.csv\n    key: id\n    chunk_rows: 0", r"deploy\.nightly\.chunk_rows must be"),
        ("input: k.csv\n    key: id\n    url: http://x", r"deploy\.nightly\.url is unknown"),
        (
            "input: k.csv\n    key: id\n    verification: {max_null_fraction: 2}",
            r"deploy\.nightly\.verification\.max_null_fraction must be a number from 0 to 1",
        ),
        (
            "input: k.csv\n    key: id\n    verification: {min_rows: -1}",
            r"deploy\.nightly\.verification\.min_rows must be an integer ≥ 0",
        ),
        (
            "input: k.csv\n    key: id\n    verification: {max_drift: 1}",
            r"deploy\.nightly\.verification\.max_drift is unknown",
        ),
    ],
)
def test_a_bad_batch_setting_is_named(pipeline: Path, settings: str, message: str) -> None:
    add_targets(pipeline, f"  nightly:\n    kind: batch\n    {settings}\n")
    with pytest.raises(DeployError, match=message):
        api.deploy_target(pipeline, "nightly")


# --- deploying ---------------------------------------------------------------------------


def test_deploy_scores_verifies_swaps_and_moves_the_alias(pipeline: Path, store: str) -> None:
    add_targets(pipeline, NIGHTLY)
    url = f"sqlite:///{pipeline / 'predictions.db'}"
    code, first = deploy_cli(pipeline, store, "1")  # a first deploy: no table to compare with
    assert code == 0, first
    assert (first["outcome"], first["strategy"], first["stable"]) == ("promoted", "swap", "1")
    assert first["url"] == f"{url}#{TABLE}"
    assert [c["name"] for c in first["checks"]] == ["rows", "null_predictions", "prediction_drift"]
    assert all(check["passed"] for check in first["checks"])
    assert first["checks"][0]["value"] == 150
    code, second = deploy_cli(pipeline, store, "2")
    assert code == 0, second
    assert (second["outcome"], second["stable"], second["candidate"]) == ("promoted", "1", "2")
    drift = second["checks"][2]
    assert drift["value"] is not None and drift["value"] <= 0.3 and drift["passed"]
    table = read_table(url, TABLE)
    assert set(table["model_version"]) == {"2"} and len(table) == 150
    assert table_names(url) == [TABLE, f"{TABLE}__previous"]
    client = client_for(store)
    assert client.get_registered_model(NAME).aliases["production"] == 2
    last = alias_history(client, NAME, "production")[-1]
    assert (last.reason, last.from_version, last.to_version) == ("deploy", "1", "2")
    assert last.rollout == second["rollout"]
    run = client.get_run(second["mlflow_run"])
    assert run.data.tags["mlops.rollout.outcome"] == "promoted"
    assert run.data.params["strategy"] == "swap"
    assert run.data.metrics["rows"] == 150


@pytest.mark.parametrize(
    ("version", "failed", "reason"),
    [
        (CONSTANT, "prediction_drift", "verification: prediction_drift"),
        (RAISING, None, "broken on purpose"),
    ],
)
def test_a_broken_version_is_rolled_back(
    pipeline: Path, store: str, version: str, failed: str | None, reason: str
) -> None:
    add_targets(pipeline, NIGHTLY)
    url = f"sqlite:///{pipeline / 'predictions.db'}"
    assert api.deploy(pipeline, "nightly", version="2", tracking_uri=store).promoted
    before = read_table(url, TABLE)
    code, result = deploy_cli(pipeline, store, version)
    assert code == 1, result
    assert (result["outcome"], result["stable"], result["candidate"]) == (
        "rolled_back",
        "2",
        version,
    )
    assert reason in result["reason"]
    assert [check["name"] for check in result["failed"]] == ([failed] if failed else [])
    assert read_table(url, TABLE).equals(before)  # the live table untouched
    assert table_names(url) == [TABLE]  # no staging table left
    client = client_for(store)
    assert client.get_registered_model(NAME).aliases["production"] == 2
    last = alias_history(client, NAME, "production")[-1]
    assert (last.reason, last.from_version, last.to_version) == ("rollback", "2", "2")
    assert last.rollout == result["rollout"] and f"version {version} rolled back" in str(last.note)
    run = client.get_run(result["mlflow_run"])
    assert run.data.tags["mlops.rollout.outcome"] == "rolled_back"


def test_rolling_a_batch_target_back_restores_the_previous_table(
    pipeline: Path, store: str
) -> None:
    add_targets(pipeline, NIGHTLY)
    url = f"sqlite:///{pipeline / 'predictions.db'}"
    progress: list[str] = []
    for version in ("1", "2"):
        result = api.deploy(
            pipeline, "nightly", version=version, tracking_uri=store,
            progress=lambda event: progress.append(event.kind),
        )  # fmt: skip
        assert result.promoted, result.reason
    assert progress[0] == "start" and "scoring" in progress and progress[-1] == "promoted"
    done = api.rollback_target(pipeline, "nightly", tracking_uri=store)
    assert (done.move.from_version, done.move.to_version, done.move.reason) == (
        "2",
        "1",
        "rollback",
    )
    assert set(read_table(url, TABLE)["model_version"]) == {"1"}
    assert set(read_table(url, f"{TABLE}__previous")["model_version"]) == {"2"}
    client = client_for(store)
    assert client.get_registered_model(NAME).aliases["production"] == 1
    state = api.deployments(pipeline, tracking_uri=store)["targets"][0]["state"]
    assert (state["table"], state["version"], state["rows"]) == (TABLE, "1", 150)
    assert state["previous_version"] == "2" and state["reachable"]


def test_a_deploy_that_cannot_start_changes_nothing(pipeline: Path, store: str) -> None:
    add_targets(pipeline, NIGHTLY)
    with pytest.raises(DeployError, match="model 'iris' has no version 9"):
        api.deploy(pipeline, "nightly", version="9", tracking_uri=store)
    assert not (pipeline / "predictions.db").exists()
    with pytest.raises(DeployError, match=rf"table '{TABLE}' has no previous table"):
        api.rollback_target(pipeline, "nightly", tracking_uri=store)


def test_a_batch_deploy_into_postgres_verifies_and_rolls_back(
    pipeline: Path, store: str, fresh_postgres_url: str
) -> None:
    add_targets(pipeline, NIGHTLY + f"    into: {fresh_postgres_url}\n")
    for version in ("1", "2"):
        assert api.deploy(pipeline, "nightly", version=version, tracking_uri=store).promoted
    broken = api.deploy(pipeline, "nightly", version=CONSTANT, tracking_uri=store)
    assert not broken.promoted and [c.name for c in broken.failed] == ["prediction_drift"]
    assert set(read_table(fresh_postgres_url, TABLE)["model_version"]) == {"2"}
    assert table_names(fresh_postgres_url) == [TABLE, f"{TABLE}__previous"]
    done = api.rollback_target(pipeline, "nightly", tracking_uri=store)
    assert (done.move.from_version, done.move.to_version) == ("2", "1")
    assert set(read_table(fresh_postgres_url, TABLE)["model_version"]) == {"1"}


def test_numeric_predictions_are_compared_over_bins(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from jupyter_mlops.deploy.batch.table_summary import table_summary
    from jupyter_mlops.deploy.batch.verification import drift_check, null_check

    url = f"sqlite:///{tmp_path / 'scores.db'}"
    rng = np.random.default_rng(0)
    values = {"live": rng.normal(0, 1, 500), "same": rng.normal(0, 1, 500)}
    values["shifted"] = rng.normal(3, 1, 500)
    values["nulls"] = np.where(np.arange(500) < 50, np.nan, values["same"])
    for name, predictions in values.items():
        frame = pd.DataFrame({"id": range(500), "prediction": predictions})
        frame["model_name"], frame["model_version"], frame["scored_at"] = "m", name, "2026-12-02"
        frame.to_sql(name, url, index=False)
    live = table_summary(url, "live")
    same, shifted = table_summary(url, "same"), table_summary(url, "shifted")
    assert live is not None and same is not None and shifted is not None
    assert live.prediction_counts is None  # too many values to count: binned
    close = drift_check(url, same, live, 0.2)
    far = drift_check(url, shifted, live, 0.2)
    assert close.value is not None and far.value is not None
    assert close.passed and close.value < far.value and not far.passed
    unchecked = drift_check(url, shifted, live, None)
    assert unchecked.passed and unchecked.detail == "vs version live, not checked"
    nulls = table_summary(url, "nulls")
    assert nulls is not None
    check = null_check(nulls, 0.05)
    assert (check.value, check.passed, check.detail) == (0.1, False, "50 of 500")
