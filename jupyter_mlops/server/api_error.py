"""The REST adapter's one exception: an HTTP error with a JSON body."""

from __future__ import annotations

from typing import Any

from tornado import web


class ApiError(web.HTTPError):
    """An HTTP error whose JSON body is ``{"message": message, **extra}``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status, "%s", message)
        self.message = message
        self.extra = extra
