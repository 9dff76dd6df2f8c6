"""The monitoring reference stored with a version at registration (``registry/
reference_sample.py``) and read back (``monitor/reference.py``): files, description, the
seeded capped sample, labels found beside the inputs, and a version without one named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from monitor_models import FEATURES, NAME, TRAIN_ROWS, labels_of, register, rows

from jupyter_mlops.errors import MonitorError
from jupyter_mlops.monitor.reference import load_reference
from jupyter_mlops.registry import reference_sample
from jupyter_mlops.registry.reference_sample import reference_files, training_labels


@pytest.fixture
def classifier() -> tuple[Any, Any, Any]:
    from sklearn.linear_model import LogisticRegression

    X = rows(TRAIN_ROWS, seed=0)
    y = labels_of(X)
    return LogisticRegression().fit(X, y), X, y


def test_reference_is_stored_with_the_version(tracking_uri: str, classifier: Any) -> None:
    model, X, y = classifier
    version = register(tracking_uri, model, {"X_train": X, "y_train": y}, alias="champion")
    client = client_for(tracking_uri)
    run_id = client.get_model_version(NAME, version).run_id
    stored = sorted(a.path for a in client.list_artifacts(run_id, "monitoring"))
    assert stored == [
        "monitoring/features.parquet",
        "monitoring/labels.parquet",
        "monitoring/predictions.parquet",
        "monitoring/reference.json",
    ]
    reference = load_reference(tracking_uri, NAME, version)
    assert reference.description == {
        "format": 1,
        "rows": TRAIN_ROWS,
        "sample_rows": TRAIN_ROWS,
        "seed": 0,
        "columns": FEATURES,
        "kinds": {"x1": "numeric", "x2": "numeric", "x3": "numeric"},
        "task": "classification",
        "classes": [0, 1],
        "proba_columns": ["proba_0", "proba_1"],
        "labels": True,
    }
    assert reference.features.equals(X)
    assert reference.labels is not None and reference.labels.tolist() == y.tolist()
    assert reference.predictions["prediction"].tolist() == model.predict(X).tolist()
    proba = reference.proba
    assert reference.is_binary and proba is not None and list(proba.columns) == [0, 1]


def test_sample_is_capped_seeded_and_keeps_the_real_row_count(
    monkeypatch: pytest.MonkeyPatch, classifier: Any
) -> None:
    model, X, y = classifier
    monkeypatch.setattr(reference_sample, "REFERENCE_ROWS", 300)
    first = reference_files(model, X, y)
    second = reference_files(model, X, y)
    assert first.description["rows"] == TRAIN_ROWS
    assert first.description["sample_rows"] == 300
    features = first.frames["features.parquet"]
    assert len(features) == 300 and features.equals(second.frames["features.parquet"])
    picked = X.merge(features, on=FEATURES, how="inner")
    assert len(picked) == 300  # sampled rows, not invented ones
    labels = first.frames["labels.parquet"]["label"]
    assert labels.tolist() == labels_of(features).tolist()


def test_labels_are_found_beside_the_inputs_or_in_the_frame(classifier: Any) -> None:
    _, X, y = classifier
    assert id(training_labels("X_train", X, {"X_train": X, "y_train": y})) == id(y)
    both = {"X_train": X, "weights": y.astype(float), "y_train": y}
    assert id(training_labels("X_train", X, both)) == id(y)
    assert id(training_labels("X_train", X, {"X_train": X, "outcome": y})) == id(y)
    unnamed = {"X_train": X, "w1": y.astype(float), "w2": y.astype(float)}
    assert training_labels("X_train", X, unnamed) is None
    framed = X.assign(target=y)
    found = training_labels("frame", X, {"frame": framed})
    assert found is not None and found.tolist() == y.tolist()
    assert training_labels("X_train", X, {"X_train": X, "y_short": y[:10]}) is None


def test_regressor_reference_has_no_classes(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    X = rows(200, seed=3)
    target = X["x1"] * 2.0
    files = reference_files(LinearRegression().fit(X, target), X, target)
    assert files.description["task"] == "regression"
    assert files.description["proba_columns"] == []
    assert list(files.frames["predictions.parquet"].columns) == ["prediction"]
    json.dumps(files.description)  # plain JSON


def test_version_without_reference_is_named(tracking_uri: str, classifier: Any) -> None:
    model, _, _ = classifier
    version = register(tracking_uri, model, {}, alias=None)  # no training input found
    with pytest.raises(
        MonitorError,
        match=f"version {version} of model '{NAME}' has no monitoring reference.*re-running",
    ):
        load_reference(tracking_uri, NAME, version)
