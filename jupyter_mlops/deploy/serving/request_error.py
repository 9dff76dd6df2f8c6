"""A client's mistake in a prediction request: a 4xx status, an MLflow-style error code and
a message naming the problem. Not an ``MlopsError``: it never reaches the CLI."""

from __future__ import annotations

import json

MALFORMED_REQUEST = "MALFORMED_REQUEST"
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
UNAUTHENTICATED = "UNAUTHENTICATED"


class RequestError(Exception):
    """A request the service refuses; ``to_body()`` is the JSON answer."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def to_body(self) -> bytes:
        """``{"error_code": ..., "message": ...}`` as UTF-8 JSON."""
        return json.dumps({"error_code": self.error_code, "message": self.message}).encode()

    def __repr__(self) -> str:
        return f"RequestError({self.status}, {self.error_code!r}, {self.message!r})"


def bad_request(message: str) -> RequestError:
    """400 BAD_REQUEST: the request is well-formed but does not fit the model."""
    return RequestError(400, BAD_REQUEST, message)


def malformed(message: str) -> RequestError:
    """400 MALFORMED_REQUEST: the body cannot be read (bad JSON or CSV, wrong shape)."""
    return RequestError(400, MALFORMED_REQUEST, message)
