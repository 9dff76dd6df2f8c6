"""The checks a candidate passes before it gets any traffic, pinned to it while it stands
by: the smoke test (its input example answered exactly as ``mlflow.pyfunc.load_model`` of
that version answers it) and a short load check (1-row requests from a few clients,
analysed against the target's error rate and p99 thresholds)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.rollout.analysis import (
    Check,
    WindowAnalysis,
    health_checks,
    requests_check,
)
from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.deploy.targets import Analysis
from jupyter_mlops.errors import DeployError

SMOKE = "smoke"
LOAD_REQUESTS = 50
LOAD_CLIENTS = 4


@dataclass(frozen=True)
class Example:
    """A version's input example as a request body, and the registry model's answer."""

    columns: list[str]
    rows: list[list[Any]]
    expected: Any  # the predictions as JSON values, or None when the model raised
    problem: str | None = None  # why there is no expected answer

    def body(self, rows: list[list[Any]] | None = None) -> dict[str, Any]:
        """A ``dataframe_split`` request of ``rows`` (default: all)."""
        return {"dataframe_split": {"columns": self.columns, "data": rows or self.rows}}


def registry_example(tracking_uri: str, name: str, version: str) -> Example:
    """Version ``version``'s input example and what ``mlflow.pyfunc.load_model`` of it
    predicts on it (its files checked against the version's seal first)."""
    import mlflow.pyfunc
    from mlflow.models import Model

    from jupyter_mlops.deploy.serving.prediction_json import encode_predictions
    from jupyter_mlops.registry.sealed_model import download_sealed
    from jupyter_mlops.tracking.store import make_client, mlflow_errors
    from jupyter_mlops.tracking.tags import MODEL_SEAL

    with mlflow_errors(tracking_uri, f"read version {version} of model '{name}'"):
        client = make_client(tracking_uri)
        seal = client.get_model_version(name, version).tags.get(MODEL_SEAL)
        uri = client.get_model_version_download_uri(name, version)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # our own progress
    with tempfile.TemporaryDirectory(prefix="mlops-deploy-") as folder:
        local = download_sealed(uri, tracking_uri, seal, Path(folder))
        frame: Any = Model.load(str(local)).load_input_example(str(local))
        if frame is None or not hasattr(frame, "itertuples"):
            raise DeployError(
                f"version {version} of model '{name}' has no input example to smoke-test",
                name=name,
            )
        columns = [str(c) for c in frame.columns]
        rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False)]
        try:
            predictions = mlflow.pyfunc.load_model(str(local)).predict(frame)
        except Exception as exc:
            problem = f"the registered model raised {type(exc).__name__}: {exc}"
            return Example(columns, rows, None, problem.splitlines()[0])
    return Example(columns, rows, json.loads(encode_predictions(predictions))["predictions"])


def _plain(value: Any) -> Any:
    """A cell of the example as a JSON value (numpy scalars unwrapped, NaN as null)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def smoke_test(service: ServiceClient, version: str, example: Example) -> Check:
    """The example pinned to ``version``: passed when the service answers 200 with exactly
    the registry model's predictions."""
    if example.problem is not None:
        return Check(SMOKE, None, None, False, example.problem)
    answer = service.predict(example.body(), version)
    if answer.status != 200:
        message = (answer.json() or {}).get("message") or answer.body[:200].decode(errors="replace")
        return Check(SMOKE, None, None, False, f"answered {answer.status}: {message}")
    if answer.version != version:
        return Check(SMOKE, None, None, False, f"answered by version {answer.version}")
    got = (answer.json() or {}).get("predictions")
    if _canonical(got) != _canonical(example.expected):
        return Check(
            SMOKE,
            None,
            None,
            False,
            f"predictions differ from the registry model's: {_short(got)} != "
            f"{_short(example.expected)}",
        )
    return Check(
        SMOKE, None, None, True, f"{len(example.rows)} rows answered as the registry model"
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _short(value: Any) -> str:
    text = _canonical(value)
    return text if len(text) <= 80 else text[:77] + "..."


def load_check(
    service: ServiceClient,
    version: str,
    example: Example,
    settings: Analysis,
    requests: int = LOAD_REQUESTS,
) -> WindowAnalysis:
    """``requests`` 1-row requests pinned to ``version`` from ``LOAD_CLIENTS`` clients,
    analysed from the service's statistics: all reached the version (answered, errors
    included), its error rate, its p99."""
    from jupyter_mlops.deploy.serving.metrics_snapshot import snapshot_difference

    rows = [example.body([row]) for row in example.rows]
    before = service.get_json("/stats")
    with ThreadPoolExecutor(LOAD_CLIENTS, thread_name_prefix="load-check") as pool:
        list(pool.map(lambda i: service.predict(rows[i % len(rows)], version), range(requests)))
    window = snapshot_difference(service.get_json("/stats"), before)
    entry = window["versions"].get(version)
    checks = [requests_check(entry, requests), *health_checks(entry, settings)]
    return WindowAnalysis(version, None, tuple(checks))
