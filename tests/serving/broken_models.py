"""Deliberately broken scikit-learn-compatible models, for rollouts that must roll back.

This module is not installed, so a registered model using these classes carries their code
by value (``registry/model_code.py``) and the service loads it without this file.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Raising(ClassifierMixin, BaseEstimator):
    """Predicts the first class for several rows at once, and raises on a single row (so it
    registers with a signature and passes its smoke test, then fails 1-row requests)."""

    def fit(self, X: Any, y: Any) -> Raising:
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        if len(X) == 1:
            raise ValueError("broken on purpose")
        return np.full(len(X), self.classes_[0])


class Slow(ClassifierMixin, BaseEstimator):
    """A depth-2 tree that sleeps ``delay`` seconds before each prediction."""

    def __init__(self, delay: float = 0.15) -> None:
        self.delay = delay

    def fit(self, X: Any, y: Any) -> Slow:
        from sklearn.tree import DecisionTreeClassifier

        self.tree_ = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X: Any) -> Any:
        time.sleep(self.delay)
        return self.tree_.predict(X)


class Constant(ClassifierMixin, BaseEstimator):
    """Predicts the first class for every row."""

    def fit(self, X: Any, y: Any) -> Constant:
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.classes_[0])
