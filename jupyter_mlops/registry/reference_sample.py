"""The monitoring reference stored with a model version when it is registered.

The monitor compares production data with what the model was trained on; that reference
lives beside the version, as artifacts of the version's run under ``monitoring/``:

- ``features.parquet``: a seeded sample (``SAMPLE_SEED``) of the training inputs, at most
  ``REFERENCE_ROWS`` rows, in the model's column order (an array's columns are named
  ``"0"``, ``"1"``, …);
- ``predictions.parquet``: the model's ``prediction`` on those rows and, for a model with
  ``predict_proba`` and ``classes_``, one ``proba_<i>`` column per class (``i`` its
  position in ``classes`` of ``reference.json``);
- ``labels.parquet`` (column ``label``) when the fit had labels aligned with the inputs
  (a 1-D fit input, or a label column of the input frame: the names ``fixture_sampling``
  knows as labels);
- ``reference.json``: ``{"format", "rows" (the real training rows), "sample_rows",
  "seed", "columns", "kinds" (numeric | categorical | binary per column), "task"
  (classification | regression), "classes", "proba_columns", "labels"}``.

A model whose training inputs cannot be found gets no reference (a warning); the monitor
then names the version and says to register it again.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.quality.fixture_sampling import LABEL_COLUMNS, LABEL_NAME, value_module

if TYPE_CHECKING:
    import pandas
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

REFERENCE_FOLDER = "monitoring"
REFERENCE_FILE = "reference.json"
FEATURES_FILE = "features.parquet"
PREDICTIONS_FILE = "predictions.parquet"
LABELS_FILE = "labels.parquet"
REFERENCE_ROWS = 50_000
SAMPLE_SEED = 0
FORMAT = 1


def log_reference(
    client: MlflowClient, run_id: str, model: Any, fit_inputs: Mapping[str, Any]
) -> bool:
    """Store the monitoring reference of ``model`` in run ``run_id`` under ``monitoring/``;
    False (and a warning) when no fit input holds the model's features, predicting on them
    fails or they cannot be written as Parquet."""
    from jupyter_mlops.registry.models import training_input

    found = training_input(model, fit_inputs)
    if found is None:
        log.warning("no training input matches the model: no monitoring reference stored")
        return False
    name, X = found
    with tempfile.TemporaryDirectory(prefix="mlops-reference-") as tmp:
        folder = Path(tmp)
        try:
            write_reference(folder, reference_files(model, X, training_labels(name, X, fit_inputs)))
        except Exception as exc:  # noqa: BLE001 — the model cannot predict its own data, or
            # a column cannot be stored as Parquet: registering goes on without a reference
            log.warning("no monitoring reference stored for input '%s': %s", name, exc)
            return False
        client.log_artifacts(run_id, str(folder), REFERENCE_FOLDER)
    return True


def write_reference(folder: Path, files: ReferenceFiles) -> None:
    """The reference's Parquet files and ``reference.json`` in ``folder``."""
    for file_name, frame in files.frames.items():
        frame.to_parquet(folder / file_name, index=False)
    (folder / REFERENCE_FILE).write_text(json.dumps(files.description, indent=1))


class ReferenceFiles:
    """The frames to write (file name → frame) and the ``reference.json`` description."""

    def __init__(self, frames: dict[str, pandas.DataFrame], description: dict[str, Any]):
        self.frames = frames
        self.description = description


def reference_files(model: Any, X: Any, labels: Any | None) -> ReferenceFiles:
    """The reference of ``model`` trained on ``X`` (and ``labels`` when known)."""
    import numpy
    import pandas

    rows = len(X)
    picked = _sample_positions(rows)
    features = _as_frame(X).iloc[picked].reset_index(drop=True)
    sample = X.iloc[picked] if hasattr(X, "iloc") else X[picked]
    predictions = pandas.DataFrame({"prediction": numpy.asarray(model.predict(sample))})
    classes = [_plain(c) for c in getattr(model, "classes_", [])]
    proba_columns: list[str] = []
    if classes and callable(getattr(model, "predict_proba", None)):
        proba_columns = [f"proba_{index}" for index in range(len(classes))]
        proba = numpy.asarray(model.predict_proba(sample), dtype=float)
        for index, column in enumerate(proba_columns):
            predictions[column] = proba[:, index]
    frames = {FEATURES_FILE: features, PREDICTIONS_FILE: predictions}
    if labels is not None:
        values = labels.iloc[picked] if hasattr(labels, "iloc") else numpy.asarray(labels)[picked]
        frames[LABELS_FILE] = pandas.DataFrame({"label": numpy.asarray(values)})
    description = {
        "format": FORMAT,
        "rows": rows,
        "sample_rows": len(features),
        "seed": SAMPLE_SEED,
        "columns": [str(c) for c in features.columns],
        "kinds": {str(c): column_kind(features[c]) for c in features.columns},
        "task": "classification" if classes else "regression",
        "classes": classes,
        "proba_columns": proba_columns,
        "labels": labels is not None,
    }
    return ReferenceFiles(frames, description)


def training_labels(name: str, X: Any, fit_inputs: Mapping[str, Any]) -> Any | None:
    """The labels aligned with ``X`` (fit input ``name``): a label column of that frame,
    else a 1-D fit input with as many rows (and the same index for pandas values) named
    like labels (``y``, ``y_train``, ``target``…), else the only such 1-D input; None when
    there is none, or several none of which is named like labels (e.g. sample weights)."""
    frame: Any = fit_inputs.get(name)
    for column in getattr(frame, "columns", []):
        if str(column).lower() in LABEL_COLUMNS and column not in getattr(X, "columns", []):
            return frame[column]
    aligned = {key: v for key, v in fit_inputs.items() if key != name and _aligned(X, v)}
    named = [key for key in sorted(aligned) if LABEL_NAME.match(key)]
    if named:
        return aligned[named[0]]
    return next(iter(aligned.values())) if len(aligned) == 1 else None


def column_kind(values: pandas.Series) -> str:
    """``binary`` for two distinct values, ``numeric`` for numbers, else ``categorical``."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if values.nunique(dropna=True) <= 2:
        return "binary"
    if is_numeric_dtype(values) and not is_bool_dtype(values):
        return "numeric"
    return "categorical"


def _sample_positions(rows: int) -> Any:
    """Row positions of the seeded sample, in their original order."""
    import numpy

    if rows <= REFERENCE_ROWS:
        return numpy.arange(rows)
    generator = numpy.random.default_rng(SAMPLE_SEED)
    return numpy.sort(generator.choice(rows, size=REFERENCE_ROWS, replace=False))


def _as_frame(X: Any) -> pandas.DataFrame:
    import pandas

    if hasattr(X, "columns"):
        frame = X.copy()
        frame.columns = [str(c) for c in frame.columns]
        return frame
    return pandas.DataFrame(X, columns=[str(i) for i in range(X.shape[1])])


def _aligned(X: Any, value: Any) -> bool:
    if value_module(value) not in ("pandas", "numpy") or getattr(value, "ndim", 0) != 1:
        return False
    if len(value) != len(X) or len(X) == 0:
        return False
    if value_module(X) == "pandas" and value_module(value) == "pandas":
        return bool(X.index.equals(value.index))
    return True


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value (for JSON)."""
    return value.item() if hasattr(value, "item") else value
