"""A deliberately broken classifier for scoring runs that must stop midway.

This module is not installed, so a registered model using it carries its code by value
(``registry/model_code.py``) and loads without this file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class FailsOnLongSepals(ClassifierMixin, BaseEstimator):
    """A depth-2 tree that raises on any row whose first column exceeds ``limit`` (the
    last iris rows), so the first chunks score and a later one fails."""

    def __init__(self, limit: float = 7.0) -> None:
        self.limit = limit

    def fit(self, X: Any, y: Any) -> FailsOnLongSepals:
        from sklearn.tree import DecisionTreeClassifier

        self.tree_ = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        self.n_features_in_ = self.tree_.n_features_in_
        return self

    def predict(self, X: Any) -> Any:
        if (np.asarray(X)[:, 0] > self.limit).any():
            raise ValueError("broken on purpose")
        return self.tree_.predict(X)
