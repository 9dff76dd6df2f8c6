"""Predictions and class probabilities of the monitored version on current rows that do
not carry them (a file of features, or the probabilities CBPE needs for a request log),
computed with the sealed version loaded once (``deploy/batch/scoring.py``)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import DeployError, MonitorError, ScoringFailed

if TYPE_CHECKING:
    import pandas

_ROW_KEY = "__mlops_row__"


@dataclass(frozen=True)
class Scored:
    """Predictions (a Series) and class probabilities (columns named by class, or None)."""

    predictions: pandas.Series
    proba: pandas.DataFrame | None


def score_rows(
    tracking_uri: str, model: str, version: str, rows: pandas.DataFrame, where: str
) -> Scored:
    """Version ``version`` of ``model`` scored on ``rows`` (aligned with its index);
    ``MonitorError`` naming ``where`` when the rows do not fit the model's signature."""
    import pandas

    from jupyter_mlops.deploy.batch.scoring import load_scoring_model

    frame = rows.copy()
    frame[_ROW_KEY] = range(len(frame))
    with tempfile.TemporaryDirectory(prefix="mlops-monitor-model-") as tmp:
        try:
            scoring = load_scoring_model(tracking_uri, model, version, _ROW_KEY, Path(tmp))
            chunk = scoring.score(frame, where)
        except (DeployError, ScoringFailed) as error:
            raise MonitorError(str(error).splitlines()[0], name=model) from None
    predictions = pandas.Series(chunk.predictions, index=rows.index, name="prediction")
    proba = None
    if chunk.probabilities is not None:
        proba = pandas.DataFrame(
            chunk.probabilities, index=rows.index, columns=_plain(scoring.classes)
        )
    return Scored(predictions, proba)


def _plain(classes: tuple[Any, ...]) -> list[Any]:
    return [c.item() if hasattr(c, "item") else c for c in classes]
