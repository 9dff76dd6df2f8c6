"""The monitoring reference of a model version, read back from its run's ``monitoring/``
artifacts (written at registration by ``registry/reference_sample.py``).

A version registered before references were stored has none: ``MonitorError`` names the
version and says to register it again (re-run the pipeline with ``--force`` on the model
step, or re-run the notebook). The schema's reference statistics are not used instead:
they describe the step's inputs, not the model's features and predictions.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import MonitorError
from jupyter_mlops.registry.reference_sample import (
    FEATURES_FILE,
    LABELS_FILE,
    PREDICTIONS_FILE,
    REFERENCE_FILE,
    REFERENCE_FOLDER,
)

if TYPE_CHECKING:
    import pandas


@dataclass(frozen=True)
class Reference:
    """A version's reference: its sample of training features, the predictions (and class
    probabilities) on it, labels when the fit had them, and ``reference.json``."""

    model: str
    version: str
    description: dict[str, Any]
    features: pandas.DataFrame
    predictions: pandas.DataFrame
    labels: pandas.Series | None

    @property
    def rows(self) -> int:
        """The number of training rows (the sample may hold fewer)."""
        return int(self.description["rows"])

    @property
    def columns(self) -> list[str]:
        """The feature columns, in the model's order."""
        return list(self.description["columns"])

    @property
    def task(self) -> str:
        """``classification`` or ``regression``."""
        return str(self.description["task"])

    @property
    def classes(self) -> list[Any]:
        """The classifier's classes (empty for a regressor)."""
        return list(self.description.get("classes", []))

    @property
    def proba(self) -> pandas.DataFrame | None:
        """The class probabilities, one column per class (named by the class), or None."""
        columns = self.description.get("proba_columns") or []
        if not columns:
            return None
        frame = self.predictions[columns].copy()
        frame.columns = self.classes
        return frame

    @property
    def is_binary(self) -> bool:
        """A classifier with two classes and their probabilities."""
        return self.task == "classification" and len(self.classes) == 2 and self.proba is not None

    def to_json(self) -> dict[str, Any]:
        """``{"version", "rows", "columns"}`` as the monitor result shows it."""
        return {"version": self.version, "rows": self.rows, "columns": self.columns}


def load_reference(tracking_uri: str, model: str, version: str) -> Reference:
    """The reference stored with version ``version`` of ``model``; ``MonitorError`` naming
    the version when it has none."""
    import os

    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # not a terminal UI
    with mlflow_errors(tracking_uri, f"read the monitoring reference of {model}/{version}"):
        client = make_client(tracking_uri)
        run_id = str(client.get_model_version(model, version).run_id or "")
        stored = {
            item.path.rpartition("/")[2] for item in client.list_artifacts(run_id, REFERENCE_FOLDER)
        }
        if REFERENCE_FILE not in stored:
            raise MonitorError(
                f"version {version} of model '{model}' has no monitoring reference (it was "
                "registered before references were stored, or its training inputs were not "
                "found): register it again by re-running its pipeline (run --force) or notebook",
                name=model,
            )
        with tempfile.TemporaryDirectory(prefix="mlops-reference-") as tmp:
            folder = Path(client.download_artifacts(run_id, REFERENCE_FOLDER, tmp))
            return _read(model, version, folder)


def _read(model: str, version: str, folder: Path) -> Reference:
    import pandas

    description = json.loads((folder / REFERENCE_FILE).read_text())
    labels_file = folder / LABELS_FILE
    labels = pandas.read_parquet(labels_file)["label"] if labels_file.is_file() else None
    return Reference(
        model=model,
        version=version,
        description=description,
        features=pandas.read_parquet(folder / FEATURES_FILE),
        predictions=pandas.read_parquet(folder / PREDICTIONS_FILE),
        labels=labels,
    )
