"""A model no two processes agree on, for package deploys that must roll back.

This module is not installed, so a registered model using this class carries its code by
value (``registry/model_code.py``) and a wheel of it imports without this file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Unstable(ClassifierMixin, BaseEstimator):
    """Predicts fresh random numbers on every call: its wheel never predicts what pyfunc
    predicts."""

    def fit(self, X: Any, y: Any) -> Unstable:
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        return np.random.default_rng().random(len(X))
