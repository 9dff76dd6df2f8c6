"""Model logging, registration and aliases in a real MLflow SQLite store."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import (
    COMMIT,
    H_RAW,
    H_TRAIN,
    assert_no_global_store,
    client_for,
    recorder,
    ref,
)

from jupyter_mlops.errors import TrackingError
from jupyter_mlops.execute.run_result import StepResult
from jupyter_mlops.registry.models import (
    get_alias_version,
    is_sklearn_model,
    log_and_register_model,
    pinned,
    set_alias,
    training_input,
)


class ThresholdModel:
    """Not scikit-learn: predicts 1 where column ``a`` exceeds a threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (np.asarray(frame["a"]) > self.threshold).astype("int64")


def training_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=40),
            "b": rng.integers(0, 5, size=40),
            "c": rng.normal(size=40),
        }
    )
    y = pd.Series((frame["a"] + frame["c"] > 0).astype("int64"), name="y")
    return frame.iloc[:30], frame.iloc[30:], y.iloc[:30]


def step_run(uri: str, tmp_path: Path) -> str:
    """A started pipeline run with a finished 'train' step run; returns the step run id."""
    rec = recorder(uri, tmp_path)
    rec.start()
    return rec.record_step(
        StepResult(
            "train",
            status="ran",
            inputs={"df": ref("df", H_RAW)},
            outputs={"X_train": ref("X_train", H_TRAIN)},
        )
    )


def load_challenger(uri: str, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Load ``models:/<name>@challenger`` the way a user would (global tracking URI)."""
    import mlflow.pyfunc

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return mlflow.pyfunc.load_model(f"models:/{name}@challenger")


def test_register_sklearn_then_custom_model(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    X_train, X_test, y_train = training_data()
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_train, y_train)
    fit_inputs = {"y_train": y_train, "X_test": X_test, "X_train": X_train, "n": 5}
    run_id = step_run(tracking_uri, tmp_path)
    tags = {"mlops.data.X_train": H_TRAIN}

    first = log_and_register_model(tracking_uri, run_id, forest, fit_inputs, "demo", tags)
    assert first == "1"
    assert get_alias_version(tracking_uri, "demo", "challenger") == "1"

    second = log_and_register_model(
        tracking_uri, run_id, ThresholdModel(0.0), {"X_train": X_train}, "demo", {}
    )
    assert second == "2"
    assert get_alias_version(tracking_uri, "demo", "challenger") == "2"
    assert_no_global_store(tmp_path)

    client = client_for(tracking_uri)
    version = client.get_model_version("demo", "1")
    assert version.run_id == run_id
    assert version.tags["mlops.run_id"] == run_id
    assert version.tags["mlops.git_commit"] == COMMIT
    assert version.tags["mlops.notebook_sha256"] == "f" * 64
    assert version.tags["mlops.input.df"] == H_RAW
    assert version.tags["mlops.data.X_train"] == H_TRAIN
    assert version.tags["mlops.step"] == "train"
    assert client.get_registered_model("demo").aliases == {"challenger": 2}

    logged = client.get_logged_model(version.tags["mlops.model_id"])
    assert logged.source_run_id == run_id
    assert str(logged.status) == "READY"
    assert logged.artifact_location.startswith((tmp_path / "mlartifacts").as_uri())
    assert {out.model_id for out in client.get_run(run_id).outputs.model_outputs} == {
        version.tags["mlops.model_id"],
        client.get_model_version("demo", "2").tags["mlops.model_id"],
    }

    # the sklearn version: skops format, pinned requirements, signature from X_train
    import mlflow.pyfunc

    local = Path(mlflow.artifacts.download_artifacts(logged.artifact_location, dst_path=tmp_path))
    requirements = (local / "requirements.txt").read_text().split()
    assert f"scikit-learn=={metadata.version('scikit-learn')}" in requirements
    assert f"skops=={metadata.version('skops')}" in requirements
    assert (local / "model.skops").exists()
    forest_model = mlflow.pyfunc.load_model(str(local))
    assert forest_model.metadata.get_input_schema().input_names() == list(X_train.columns)
    np.testing.assert_array_equal(
        forest_model.predict(X_train.head(5)), forest.predict(X_train.head(5))
    )

    # the custom version, through the alias, as a user would load it
    challenger = load_challenger(tracking_uri, "demo", monkeypatch)
    assert challenger.metadata.get_input_schema().input_names() == ["a", "b", "c"]
    example = X_train.head(5)
    np.testing.assert_array_equal(challenger.predict(example), ThresholdModel(0.0).predict(example))


def test_registered_name_override_and_ndarray_input(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LogisticRegression

    X_train, _, y_train = training_data()
    X = X_train.to_numpy()
    model = LogisticRegression().fit(X, y_train)
    run_id = step_run(tracking_uri, tmp_path)
    fit_inputs = {"X": X, "X_wide": np.zeros((3, 7)), "y": y_train.to_numpy()}
    version = log_and_register_model(
        tracking_uri, run_id, model, fit_inputs, "demo", {}, registered_name="demo_lr"
    )
    assert version == "1"
    assert get_alias_version(tracking_uri, "demo", "challenger") is None
    loaded = load_challenger(tracking_uri, "demo_lr", monkeypatch)
    assert loaded.metadata.get_input_schema().is_tensor_spec()
    np.testing.assert_array_equal(loaded.predict(X[:5]), model.predict(X[:5]))


def test_sklearn_model_skops_cannot_load_falls_back_to_cloudpickle(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X_train, _, y_train = training_data()
    model = make_pipeline(FunctionTransformer(lambda a: a * 2), LogisticRegression())
    model.fit(X_train, y_train)
    run_id = step_run(tracking_uri, tmp_path)
    assert log_and_register_model(tracking_uri, run_id, model, {"X": X_train}, "demo", {}) == "1"
    loaded = load_challenger(tracking_uri, "demo", monkeypatch)
    assert loaded.metadata.flavors["sklearn"]["serialization_format"] == "cloudpickle"
    np.testing.assert_array_equal(loaded.predict(X_train.head(5)), model.predict(X_train.head(5)))


def test_aliases(tracking_uri: str, tmp_path: Path) -> None:
    assert get_alias_version(tracking_uri, "demo", "champion") is None  # no model yet
    run_id = step_run(tracking_uri, tmp_path)
    X_train, _, _ = training_data()
    for _ in range(2):
        log_and_register_model(
            tracking_uri, run_id, ThresholdModel(0.5), {"X_train": X_train}, "demo", {}
        )
    assert get_alias_version(tracking_uri, "demo", "champion") is None
    set_alias(tracking_uri, "demo", "champion", "1")
    assert get_alias_version(tracking_uri, "demo", "champion") == "1"
    set_alias(tracking_uri, "demo", "champion", 2)
    assert get_alias_version(tracking_uri, "demo", "champion") == "2"
    assert get_alias_version(tracking_uri, "demo", "challenger") == "2"


def test_model_without_predict_is_a_tracking_error(tracking_uri: str, tmp_path: Path) -> None:
    run_id = step_run(tracking_uri, tmp_path)
    with pytest.raises(TrackingError, match="model 'demo'.*object has no predict method"):
        log_and_register_model(tracking_uri, run_id, object(), {}, "demo", {})
    assert get_alias_version(tracking_uri, "demo", "challenger") is None


# --- pure helpers (no MLflow store) -----------------------------------------------------


def test_training_input_prefers_matching_feature_names() -> None:
    from sklearn.linear_model import LinearRegression

    X_train, X_test, y_train = training_data()
    other = X_train.rename(columns={"a": "z"})
    model = LinearRegression().fit(X_train, y_train)
    inputs = {"other": other, "X_test": X_test, "X_train": X_train, "y": y_train}
    assert training_input(model, inputs)[0] == "X_train"  # type: ignore[index]
    assert training_input(model, {"other": other}) is None  # predict would refuse its names
    assert training_input(model, {"array": X_train.to_numpy()})[0] == "array"  # type: ignore[index]
    assert training_input(model, {"wide": np.zeros((2, 4))}) is None
    assert training_input(ThresholdModel(0), {"y": y_train, "X": X_test})[0] == "X"  # type: ignore[index]
    assert training_input(ThresholdModel(0), {"y": y_train}) is None


def test_sklearn_detection_and_pins() -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert is_sklearn_model(make_pipeline(StandardScaler()))
    assert not is_sklearn_model(ThresholdModel(0))
    assert pinned("sklearn", "numpy", "not_a_distribution_xyz") == [
        f"scikit-learn=={metadata.version('scikit-learn')}",
        f"numpy=={metadata.version('numpy')}",
    ]
