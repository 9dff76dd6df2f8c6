"""One registered version loaded once for a scoring run, and the rows it gives a chunk:
the key, the prediction, ``proba_<class>`` per class when the model has ``predict_proba``,
then ``model_name``, ``model_version`` and ``scored_at`` (one timestamp per run)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.batch.one_pass import Pass, one_pass, plain_pass, same_answers
from jupyter_mlops.deploy.batch.validation import ScoringInput, model_frame
from jupyter_mlops.errors import DeployError, ScoringFailed

PREDICTION = "prediction"
META_COLUMNS = ("model_name", "model_version", "scored_at")
CHECK_ROWS = 1000  # rows on which a one-pass prediction must equal the plain one


@dataclass(frozen=True)
class OutputColumn:
    """A column of the predictions table: its name and kind (``integer``, ``float``,
    ``boolean``, ``text`` or ``datetime``)."""

    name: str
    kind: str


@dataclass
class ScoringModel:
    """A loaded version: the model object, what it takes, and its classes (empty when it
    has no ``predict_proba``) with their column names; ``fast`` its one-pass prediction
    (``one_pass.py``) until the first chunk shows it differs from the plain one."""

    name: str
    version: str
    model: Any
    input: ScoringInput
    classes: tuple[Any, ...]
    proba_columns: tuple[str, ...]
    fast: Pass | None = None
    fast_checked: bool = False

    def score(self, chunk: Any, source: str) -> ScoredChunk:
        """The predictions (and probabilities) of ``chunk``, validated first;
        ``ScoringFailed`` when the model raises."""
        frame = model_frame(chunk, self.input, source)
        try:
            predictions, probabilities = self._predict(frame)
            predictions = _one_per_row(predictions, len(frame))
        except Exception as error:
            raise ScoringFailed(
                f"version {self.version} of model '{self.name}' failed on a chunk of "
                f"{source}: {type(error).__name__}: {error}",
                name=self.name,
                path=source,
            ) from error
        return ScoredChunk(self, chunk[self.input.key].to_numpy(), predictions, probabilities)

    def _predict(self, frame: Any) -> tuple[Any, Any]:
        """(predictions, probabilities or None): one pass when it answers exactly as
        ``predict`` and ``predict_proba`` do on the first ``CHECK_ROWS`` rows of the run."""
        if not self.classes:
            return self.model.predict(frame), None
        if self.fast is None:
            return plain_pass(self.model, frame)
        if not self.fast_checked:
            self.fast_checked = True
            sample = frame.iloc[:CHECK_ROWS]
            if not same_answers(self.fast(sample), plain_pass(self.model, sample)):
                self.fast = None
                return plain_pass(self.model, frame)
        return self.fast(frame)


@dataclass
class ScoredChunk:
    """One chunk's keys, predictions and probabilities (None without classes)."""

    model: ScoringModel
    keys: Any
    predictions: Any
    probabilities: Any

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, scored_at: Any) -> Iterator[tuple[Any, ...]]:
        """The table rows as plain Python tuples, in the order of ``columns``, made one
        at a time as they are written (no list of the whole chunk)."""
        columns = [self.keys.tolist(), self.predictions.tolist()]
        if self.probabilities is not None:
            columns.extend(self.probabilities.T.tolist())
        meta = (repeat(self.model.name), repeat(self.model.version), repeat(scored_at))
        return zip(*columns, *meta, strict=False)  # meta values repeat

    def columns(self) -> list[OutputColumn]:
        """The table's columns, typed from this chunk's keys and predictions."""
        columns = [
            OutputColumn(self.model.input.key, kind_of(self.keys)),
            OutputColumn(PREDICTION, kind_of(self.predictions)),
        ]
        columns += [OutputColumn(name, "float") for name in self.model.proba_columns]
        meta = zip(META_COLUMNS, ("text", "text", "datetime"), strict=True)
        return columns + [OutputColumn(name, kind) for name, kind in meta]


def load_scoring_model(
    tracking_uri: str, name: str, version: str, key: str, workdir: Path
) -> ScoringModel:
    """Download (seal checked) and load version ``version`` of ``name`` into ``workdir``;
    ``DeployError`` when it has no column signature or the key is one of the output
    columns' names."""
    from mlflow.models import Model

    from jupyter_mlops.registry.model_ref import download_version
    from jupyter_mlops.registry.sealed_model import load_model_object

    local = download_version(tracking_uri, name, version, workdir)
    spec = ScoringInput.from_signature(Model.load(str(local)).signature, key, name)
    model = load_model_object(local)
    classes = tuple(getattr(model, "classes_", ())) if hasattr(model, "predict_proba") else ()
    proba = proba_column_names(classes)
    if key in (PREDICTION, *META_COLUMNS, *proba):
        raise DeployError(f"key column '{key}' has the name of an output column", name=key)
    return ScoringModel(name, version, model, spec, classes, proba, fast=one_pass(model))


def proba_column_names(classes: tuple[Any, ...]) -> tuple[str, ...]:
    """``proba_<class>`` per class, made identifiers and unique."""
    names: list[str] = []
    for label in classes:
        name = "proba_" + (re.sub(r"\W+", "_", str(label)).strip("_") or "class")
        while name in names:
            name += "_"
        names.append(name)
    return tuple(names)


def kind_of(values: Any) -> str:
    """The column kind of a numpy array."""
    kinds = {"b": "boolean", "i": "integer", "u": "integer", "f": "float", "M": "datetime"}
    return kinds.get(values.dtype.kind, "text")


def scoring_time() -> datetime:
    """The run's ``scored_at``: now, in UTC."""
    from datetime import UTC

    return datetime.now(UTC)


def _one_per_row(predictions: Any, rows: int) -> Any:
    import numpy

    values = numpy.asarray(predictions)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or len(values) != rows:
        raise DeployError(
            f"the model gave predictions of shape {values.shape} for {rows} rows; scoring "
            "into a table needs one prediction per row"
        )
    return values
