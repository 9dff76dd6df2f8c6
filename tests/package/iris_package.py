"""A registered iris classifier (a small random forest: its predictions involve no BLAS)
and the Dockerfile reading that the container tests share."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service_process import new_store, register

NAME = "iris"


@dataclass(frozen=True)
class RegisteredIris:
    uri: str
    model: Any
    frame: Any
    version: str


def register_iris(template: Path, folder: Path) -> RegisteredIris:
    """A fresh store in ``folder`` with ``iris`` version 1 under alias ``production``."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    model = RandomForestClassifier(n_estimators=7, max_depth=3, random_state=0)
    model.fit(frame, data.target)
    uri = new_store(template, folder)
    version = register(uri, NAME, model, frame, "production")
    return RegisteredIris(uri, model, frame, version)


def sample_rows(frame: Any) -> Any:
    """Rows from every class (C-ordered float64, as a DataFrame built from lists is)."""
    import pandas

    rows = frame.iloc[::10].to_numpy().tolist()
    return pandas.DataFrame(rows, columns=list(frame.columns))


def pyfunc_predictions(uri: str, version: str, rows: Any, folder: Path) -> list[Any]:
    """What ``mlflow.pyfunc.load_model(...).predict`` gives for ``rows`` (as a list)."""
    import mlflow.pyfunc

    from jupyter_mlops.registry.model_ref import download_version

    local = download_version(uri, NAME, version, folder)
    return list(mlflow.pyfunc.load_model(str(local)).predict(rows).tolist())


@dataclass(frozen=True)
class Dockerfile:
    env: dict[str, str]
    runs: list[str]
    cmd: list[str]


def read_dockerfile(path: Path) -> Dockerfile:
    """The ENV settings, RUN commands and CMD of a Dockerfile (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    env: dict[str, str] = {}
    runs: list[str] = []
    cmd: list[str] = []
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in rest.split())
        elif instruction == "RUN":
            runs.append(rest)
        elif instruction == "CMD":
            cmd = json.loads(rest)
    return Dockerfile(env, runs, cmd)
