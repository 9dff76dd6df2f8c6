"""One model pass for predictions and probabilities (``deploy/batch/one_pass.py``): for
forests and histogram gradient boosting it answers exactly as ``predict`` and
``predict_proba``; other models have none; and a one-pass answer that differs on the first
chunk is dropped for the plain one."""

from __future__ import annotations

from typing import Any

import numpy
import pytest

from jupyter_mlops.deploy.batch.one_pass import one_pass, plain_pass, same_answers
from jupyter_mlops.deploy.batch.scoring import ScoringModel
from jupyter_mlops.deploy.batch.validation import ScoringInput


def data(classes: int) -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer, load_iris

    loader = load_iris if classes == 3 else load_breast_cancer
    bunch = loader(as_frame=True)
    return bunch.data, bunch.target


def fitted(kind: str, classes: int) -> Any:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )

    estimators = {
        "forest": RandomForestClassifier(n_estimators=20, random_state=0),
        "extra": ExtraTreesClassifier(n_estimators=20, random_state=0),
        "boosting": HistGradientBoostingClassifier(max_iter=20, random_state=0),
    }
    frame, target = data(classes)
    return estimators[kind].fit(frame, target)


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("kind", ["forest", "extra", "boosting"])
def test_one_pass_answers_exactly_as_predict_and_predict_proba(kind: str, classes: int) -> None:
    model = fitted(kind, classes)
    fast = one_pass(model)
    assert fast is not None
    frame, _ = data(classes)
    predictions, probabilities = fast(frame)
    assert numpy.array_equal(predictions, model.predict(frame))
    assert numpy.array_equal(probabilities, model.predict_proba(frame))
    assert same_answers((predictions, probabilities), plain_pass(model, frame))


def test_other_models_have_no_one_pass() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    frame, target = data(3)
    assert one_pass(LogisticRegression(max_iter=500).fit(frame, target)) is None
    assert one_pass(DecisionTreeClassifier(random_state=0).fit(frame, target)) is None


def test_a_one_pass_differing_on_the_first_chunk_is_dropped() -> None:
    model = fitted("forest", 3)
    frame, _ = data(3)
    keyed = frame.assign(id=range(len(frame)))

    def wrong(rows: Any) -> tuple[Any, Any]:
        predictions, probabilities = plain_pass(model, rows)
        return numpy.zeros_like(predictions), probabilities

    spec = ScoringInput(tuple(frame.columns), ("double",) * frame.shape[1], "id")
    scoring = ScoringModel("iris", "1", model, spec, (0, 1, 2), ("p0", "p1", "p2"), fast=wrong)
    scored = scoring.score(keyed, "rows.parquet")
    assert scoring.fast is None and scoring.fast_checked
    assert numpy.array_equal(scored.predictions, model.predict(frame))
