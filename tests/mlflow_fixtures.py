"""MLflow fixtures: a real SQLite store per test, copied from one pre-migrated template.

Creating and migrating an MLflow SQLite database costs seconds; copying a migrated one
costs milliseconds. A test module uses the fixtures by declaring the plugin::

    pytest_plugins = ("mlflow_fixtures",)

``tracking_uri`` also points ``$MLFLOW_TRACKING_URI`` at a trap database in the test's
tmp dir: code that falls back on MLflow's global tracking URI creates it, and
``assert_no_global_store`` catches that.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jupyter_mlops import __version__
from jupyter_mlops.artifacts.store import ArtifactRef
from jupyter_mlops.pipeline.model import Pipeline, Step
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.tracking.store import RunRecorder

TEMPLATE_NAME = "template.db"
TRAP_NAME = "global-trap.db"


def sqlite_uri(path: Path) -> str:
    return "sqlite:///" + path.absolute().as_posix()


@pytest.fixture(scope="session")
def mlflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty MLflow database (tracking and registry tables), made once."""
    import mlflow

    path = tmp_path_factory.mktemp("mlflow-template") / TEMPLATE_NAME
    client = mlflow.MlflowClient(tracking_uri=sqlite_uri(path), registry_uri=sqlite_uri(path))
    client.search_experiments()
    client.search_registered_models()
    return path


@pytest.fixture
def tracking_uri(mlflow_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store ``sqlite:///<tmp_path>/mlflow.db`` (artifacts: ``tmp_path/mlartifacts``)."""
    db = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_db_template, db)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(tmp_path / TRAP_NAME))
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    return sqlite_uri(db)


def assert_no_global_store(tmp_path: Path) -> None:
    """Fail when something used MLflow's global tracking URI (the trap) instead of ours."""
    assert not (tmp_path / TRAP_NAME).exists(), "MLflow's global tracking URI was used"


def client_for(uri: str):  # type: ignore[no-untyped-def]
    """An independent client on ``uri`` (tracking and registry), to check what was recorded."""
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


# --- a small pipeline to record -----------------------------------------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"
H_RAW, H_TRAIN, H_MODEL = "a" * 64, "b" * 64, "c" * 64


def pipeline_file(folder: Path, name: str = "demo") -> PipelineFile:
    pipeline = Pipeline(
        name=name,
        notebook=str(folder / "demo.ipynb"),
        notebook_hash="f" * 64,
        params={"n_estimators": 10, "test_size": 0.25, "label": "y"},
        steps=[Step("prepare", 2, ""), Step("train", 3, "", inputs={"df": "prepare"})],
    )
    return PipelineFile(folder, "demo", __version__, pipeline)


def ref(name: str, digest: str) -> ArtifactRef:
    return ArtifactRef(name, digest, "parquet", "pandas.DataFrame")


def recorder(uri: str, folder: Path, name: str = "demo") -> RunRecorder:
    file = pipeline_file(folder, name)
    params = {"n_estimators": 10, "test_size": 0.25, "label": "y"}
    return RunRecorder(uri, file, params, "f" * 64, COMMIT)
