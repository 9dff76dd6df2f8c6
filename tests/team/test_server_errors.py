"""An unreachable tracking server is named as such, other MLflow failures keep their text."""

from __future__ import annotations

import pytest

from jupyter_mlops.errors import TrackingError
from jupyter_mlops.tracking.server_errors import unreachable_reason
from jupyter_mlops.tracking.store import mlflow_errors

URI = "http://127.0.0.1:5999"
REFUSED = (
    f"API request to {URI}/api/2.0/mlflow/runs/create failed with exception "
    "HTTPConnectionPool(host='127.0.0.1', port=5999): Max retries exceeded with url: "
    '/api/2.0/mlflow/runs/create (Caused by NewConnectionError("HTTPConnection(host='
    "'127.0.0.1', port=5999): Failed to establish a new connection: [Errno 111] Connection "
    'refused"))'
)
TIMED_OUT = f"API request to {URI}/api/2.0/mlflow/runs/create failed with timeout exception x."


@pytest.mark.parametrize(
    ("uri", "text", "reason"),
    [
        (URI, REFUSED, "Connection refused"),
        (URI, TIMED_OUT, "it did not answer in time"),
        (URI, "RESOURCE_DOES_NOT_EXIST: no run", None),
        ("sqlite:///mlflow.db", REFUSED, None),
    ],
)
def test_unreachable_reason(uri: str, text: str, reason: str | None) -> None:
    assert unreachable_reason(uri, Exception(text)) == reason


def test_the_error_names_the_server_and_the_action() -> None:
    with pytest.raises(TrackingError) as caught, mlflow_errors(URI, "start the run record"):
        raise RuntimeError(REFUSED)
    assert caught.value.message == (
        f"cannot start the run record in MLflow: the tracking server at {URI} is unreachable "
        "(Connection refused, after MLflow's retries)"
    )
