"""The prediction service's ASGI app: raw ASGI, no web framework on the hot path.

It reads the body (refusing one over the size limit before reading it), checks the bearer
token, maps the path to a ``PredictionService`` method and writes the ``Reply``. Anything
unexpected becomes a 500 JSON answer; the service stays up.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jupyter_mlops.deploy.serving.config import ServeConfig
from jupyter_mlops.deploy.serving.lookup import LOOKUP_PATH, LookupSource, PredictionLookup
from jupyter_mlops.deploy.serving.request_error import RequestError
from jupyter_mlops.deploy.serving.service import (
    PredictionService,
    Reply,
    error_reply,
    json_reply,
)

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CONFIG_ENV = "JUPYTER_MLOPS_SERVE_CONFIG"  # the config, as JSON, for worker processes
OPEN_PATHS = frozenset({"/ping", "/health", "/v2/health/ready", "/v2/health/live"})
V2_MODELS = "/v2/models/"


class ServiceApp:
    """ASGI callable over a ``PredictionService`` and/or a ``PredictionLookup`` (``GET
    /predictions/{key}`` from a table): at least one of them."""

    def __init__(
        self,
        config: ServeConfig,
        service: PredictionService | None,
        lookup: PredictionLookup | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.lookup = lookup
        self.token = config.token.encode() if config.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            try:
                reply = await self._handle(scope["method"], scope["path"], headers, receive)
            except RequestError as error:
                reply = error_reply(error)
            except Exception:
                log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
                reply = _error(500, "INTERNAL_ERROR", "the service failed to answer; see its log")
            await _send_reply(send, reply)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.lookup is not None:
                        self.lookup.open()
                    if self.service is not None:
                        self.service.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.service is not None:
                    self.service.stop()
                if self.lookup is not None:
                    self.lookup.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(
        self, method: str, path: str, headers: dict[str, str], receive: Receive
    ) -> Reply:
        if self.token is not None and path not in OPEN_PATHS and not self._authorized(headers):
            return _error(
                401, "UNAUTHENTICATED", "missing or wrong bearer token (Authorization: Bearer …)"
            )
        if method in ("GET", "HEAD") and self.lookup and path.startswith(LOOKUP_PATH):
            return await self.lookup.answer(path[len(LOOKUP_PATH) :])
        if self.service is None:
            return self._lookup_only(method, path)
        if method == "POST":
            body = await _read_body(headers, receive, self.config.max_body_bytes)
            return await self._post(path, body, headers)
        if method in ("GET", "HEAD"):
            return self._get(path)
        return _error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token or b""
        )

    def _lookup_only(self, method: str, path: str) -> Reply:
        """A service without a model: health, ``/version`` and lookups."""
        assert self.lookup is not None
        if method not in ("GET", "HEAD"):
            return _error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
        if path in OPEN_PATHS:
            return json_reply(200, {"status": "ready", "lookup": self.lookup.source.table})
        if path == "/version":
            return json_reply(200, {"model": None, "lookup": self.lookup.describe()})
        return _not_found(path)

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        assert self.service is not None
        service = self.service
        if path == "/invocations":
            return await service.invocations(body, headers.get("content-type", ""), headers)
        if path.startswith(V2_MODELS) and path.endswith("/infer"):
            return await service.infer(path[len(V2_MODELS) : -len("/infer")], body, headers)
        if path == "/feedback":
            return service.store_feedback(body)
        return _not_found(path)

    def _get(self, path: str) -> Reply:
        assert self.service is not None
        service = self.service
        routes = {
            "/ping": service.health,
            "/health": service.health,
            "/v2/health/ready": service.health,
            "/v2/health/live": _live,
            "/version": service.version_info,
            "/metrics": service.prometheus,
            "/stats": service.stats,
        }
        if path in routes:
            return routes[path]()
        if path.startswith(V2_MODELS):
            return service.model_metadata(path[len(V2_MODELS) :].rstrip("/"))
        return _not_found(path)


async def _read_body(headers: dict[str, str], receive: Receive, limit: int) -> bytes:
    """The request body; 413 when it is (or is declared) larger than ``limit`` bytes."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(size: int, limit: int) -> RequestError:
    return RequestError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"request body of {size} bytes is over the limit of {limit} bytes (--max-body)",
    )


async def _send_reply(send: Send, reply: Reply) -> None:
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        *((name.encode(), value.encode()) for name, value in reply.headers),
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, json.dumps({"error_code": code, "message": message}).encode())


def _not_found(path: str) -> Reply:
    return _error(404, "ENDPOINT_NOT_FOUND", f"no endpoint {path}")


def _live() -> Reply:
    return Reply(200, b'{"live": true}')


def app_from_environment() -> ServiceApp:
    """The app of a worker process: its config is ``$JUPYTER_MLOPS_SERVE_CONFIG``."""
    from pathlib import Path

    data = json.loads(os.environ[CONFIG_ENV])
    if data.get("log_dir") is not None:
        data["log_dir"] = Path(data["log_dir"])
    return build_app(ServeConfig(**data))


def build_app(config: ServeConfig) -> ServiceApp:
    """The app of ``config``: its model's prediction service (unless lookup-only) and its
    ``--lookup`` table (opened at startup)."""
    service = PredictionService(config) if config.model else None
    lookup = PredictionLookup(LookupSource.parse(config.lookup)) if config.lookup else None
    return ServiceApp(config, service, lookup)
