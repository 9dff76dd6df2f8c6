"""Predictions and class probabilities from one pass of the model, for scikit-learn models
whose own ``predict`` is computed from the same pass: forests (``predict`` is the class of
the largest ``predict_proba``) and histogram gradient boosting (both come from its raw
predictions). Scoring needs both, and computing them separately runs the model twice.

Exactness is checked, not assumed: the first rows of a run (``scoring.CHECK_ROWS``) are also
scored the plain way (``predict`` and ``predict_proba``) and must give identical arrays,
else the run scores the plain way throughout (``ScoringModel.score``). The one pass runs the
same library code as the model's own ``predict``, so rows that agree show the code agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Pass = Callable[[Any], tuple[Any, Any]]
FORESTS = ("RandomForestClassifier", "ExtraTreesClassifier")
HISTOGRAM_BOOSTING = "HistGradientBoostingClassifier"


def one_pass(model: Any) -> Pass | None:
    """``frame → (predictions, probabilities)`` in one model pass, or None when ``model`` is
    not one of the estimators above."""
    kind = type(model)
    if not kind.__module__.startswith("sklearn.ensemble"):
        return None
    if kind.__name__ in FORESTS and getattr(model, "n_outputs_", None) == 1:
        return lambda frame: _forest(model, frame)
    if kind.__name__ == HISTOGRAM_BOOSTING and hasattr(model, "_raw_predict"):
        return lambda frame: _histogram_boosting(model, frame)
    return None


def plain_pass(model: Any, frame: Any) -> tuple[Any, Any]:
    """``predict`` and ``predict_proba``, each on its own."""
    return model.predict(frame), model.predict_proba(frame)


def same_answers(first: tuple[Any, Any], second: tuple[Any, Any]) -> bool:
    """Whether two (predictions, probabilities) pairs are identical, value for value."""
    import numpy

    return all(numpy.array_equal(a, b) for a, b in zip(first, second, strict=True))


def _forest(model: Any, frame: Any) -> tuple[Any, Any]:
    import numpy

    probabilities = model.predict_proba(frame)
    return model.classes_.take(numpy.argmax(probabilities, axis=1), axis=0), probabilities


def _histogram_boosting(model: Any, frame: Any) -> tuple[Any, Any]:
    import numpy

    raw = model._raw_predict(frame)
    binary = raw.shape[1] == 1  # binary: the positive class when its raw score is above 0
    encoded = (raw.ravel() > 0).astype(int) if binary else numpy.argmax(raw, axis=1)
    return model.classes_[encoded], model._loss.predict_proba(raw)
