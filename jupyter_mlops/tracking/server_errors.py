"""An MLflow tracking server that did not answer, told apart from other MLflow failures.

MLflow's REST client retries a request that could not connect, timed out or got a 429/5xx
answer (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, default 7, with exponential backoff of factor
``MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR``, default 2: about four minutes in all), then raises
an ``MlflowException`` whose text holds the urllib3 error. This module reads that text back
into one short reason, so the message names the server and what went wrong with it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_OS_ERROR = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_SIGNS = {
    "Read timed out": "it did not answer in time",
    "timeout exception": "it did not answer in time",
    "Max retries exceeded": "it kept failing",
    "Connection aborted": "it dropped the connection",
    "RemoteDisconnected": "it dropped the connection",
}


def unreachable_reason(tracking_uri: str, error: BaseException) -> str | None:
    """Why the server of an ``http(s)`` ``tracking_uri`` was unreachable according to
    ``error`` (``Connection refused``, …), or None when ``error`` is not about reaching it."""
    if urlsplit(tracking_uri).scheme.lower() not in ("http", "https"):
        return None
    text = str(error)
    if not text.startswith("API request to "):
        return None
    errno_text = _OS_ERROR.search(text)
    if errno_text:
        return errno_text.group(1).strip()
    return next((reason for sign, reason in _SIGNS.items() if sign in text), None)


def unreachable_message(tracking_uri: str, action: str, reason: str) -> str:
    """The one-line message for a server that did not answer while doing ``action``."""
    return (
        f"cannot {action} in MLflow: the tracking server at {tracking_uri} is unreachable "
        f"({reason}, after MLflow's retries)"
    )
