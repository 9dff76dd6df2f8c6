"""Fixtures of the scoring tests: an MLflow store with registered iris models, the iris
rows with a key column as Parquet and CSV files, and table readers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))

from batch_names import BROKEN, NAME  # noqa: E402
from service_process import new_store, register  # noqa: E402


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    return data.frame.drop(columns="target"), data.target.to_numpy()


@pytest.fixture(scope="session")
def scoring_store(
    mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory, iris: Any
) -> str:
    """An MLflow store with ``iris`` versions 1 (production) and 2, and ``iris_broken``."""
    from batch_models import FailsOnLongSepals
    from sklearn.tree import DecisionTreeClassifier

    frame, target = iris
    uri = new_store(mlflow_db_template, tmp_path_factory.mktemp("scoring-store"))
    shallow = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, target)
    register(uri, NAME, shallow, frame, alias="production")
    deep = DecisionTreeClassifier(max_depth=4, random_state=0).fit(frame, target)
    register(uri, NAME, deep, frame)
    register(uri, BROKEN, FailsOnLongSepals().fit(frame, target), frame, alias="production")
    return uri


@pytest.fixture(scope="session")
def keyed_iris(iris: Any) -> Any:
    """The iris rows with a key column ``id`` (1000, 1001, ...) first."""
    frame = iris[0].copy()
    frame.insert(0, "id", range(1000, 1000 + len(frame)))
    return frame


@pytest.fixture(scope="session")
def iris_files(keyed_iris: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"parquet": path, "csv": path}`` of the keyed iris rows."""
    folder = tmp_path_factory.mktemp("iris-files")
    keyed_iris.to_parquet(folder / "iris.parquet", index=False)
    keyed_iris.to_csv(folder / "iris.csv", index=False)
    return {"parquet": folder / "iris.parquet", "csv": folder / "iris.csv"}
