"""REST handlers of the server extension, under ``<base_url>/jupyter-mlops/``.

Thin adapters: parse and check the request (paths confined to the server root), call core
in a worker thread, reply JSON. Errors are ``{"message": …}`` with 4xx for the user's
mistakes, never a traceback. The endpoints and their JSON are documented in
docs/rest-api.md.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from http.client import responses
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from jupyter_mlops import __version__, api
from jupyter_mlops.errors import ExtractionErrors, MlopsError, TrackingError
from jupyter_mlops.pipeline.layout import check_path_length
from jupyter_mlops.server import actions
from jupyter_mlops.server.actions import extraction_errors
from jupyter_mlops.server.api_error import ApiError
from jupyter_mlops.server.request_limits import (
    check_model_name,
    check_name,
    parse_json_object,
)
from jupyter_mlops.server.run_manager import RunConflict, RunManager, RunNotFound

T = TypeVar("T")
ROOT_SETTING = "jupyter_mlops.root"
RUNS_SETTING = "jupyter_mlops.runs"
MAX_LIMIT = 200


def confine(root: Path, api_path: object, field: str = "path") -> Path:
    """``api_path`` (relative, ``/``-separated) as a path under ``root``; ApiError when it is
    missing (400), absolute (400), or leads out of the root by ``..`` or a symlink (403)."""
    if not isinstance(api_path, str) or not api_path.strip():
        raise ApiError(400, f"'{field}' is required: a path relative to the server root")
    if "\x00" in api_path:
        raise ApiError(400, f"'{field}' contains a NUL character")
    text = api_path.replace("\\", "/")
    if text.startswith("/") or PureWindowsPath(api_path).drive or os.path.isabs(api_path):
        raise ApiError(400, f"'{field}' must be relative to the server root, not absolute")
    parts = PurePosixPath(text).parts
    try:
        check_path_length(Path(text))
    except MlopsError as error:
        raise ApiError(400, f"'{field}': {error}") from None
    if ".." in parts:
        raise ApiError(403, f"'{field}' may not contain '..': {api_path}")
    candidate = root.joinpath(*[p for p in parts if p != "."])
    real = Path(os.path.realpath(candidate))
    if real != root and root not in real.parents:
        raise ApiError(403, f"'{field}' leads outside the server root: {api_path}")
    return candidate


class MlopsHandler(APIHandler):
    """Base of every jupyter_mlops handler: root, run manager, body parsing, JSON errors."""

    @property
    def root(self) -> Path:
        root: Path = self.settings[ROOT_SETTING]
        return root

    @property
    def run_manager(self) -> RunManager:
        manager: RunManager = self.settings[RUNS_SETTING]
        return manager

    def resolve(self, api_path: object, field: str = "path", must_exist: bool = True) -> Path:
        """A request path confined to the root; 404 when ``must_exist`` and it does not."""
        path = confine(self.root, api_path, field)
        if must_exist and not path.exists():
            raise ApiError(404, f"no such file or folder: {api_path}")
        if self.hides(path):
            raise ApiError(404, f"no such file or folder: {api_path} (hidden files are not served)")
        return path

    def hides(self, path: Path) -> bool:
        """jupyter_server's rule: a path with a hidden part (``.name``) under the root is not
        served unless ``ContentsManager.allow_hidden``."""
        if getattr(self.contents_manager, "allow_hidden", False):
            return False
        return any(part.startswith(".") for part in path.relative_to(self.root).parts)

    def inside_root(self, path: Path, what: str) -> Path:
        """A folder the server derives (``pipelines/<stem>/`` beside a notebook), refused
        with 403 when its real path leads outside the root (a symlinked ``pipelines/``)."""
        real = Path(os.path.realpath(path))
        if real != self.root and self.root not in real.parents:
            raise ApiError(
                403,
                f"the {what} {self.relative(path)} leads outside the server root "
                "(a symbolic link?): nothing was written",
            )
        return path

    def relative(self, path: Path | str) -> str:
        """``path`` as the API names it: relative to the root, ``/``-separated."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 when it is empty, malformed, not an object
        or beyond the bounds of ``request_limits`` (413 when too large)."""
        return parse_json_object(self.request.body)

    def query_int(self, name: str, default: int) -> int:
        """An integer query argument between 1 and MAX_LIMIT."""
        text = self.get_query_argument(name, str(default))
        try:
            value = int(text) if len(text) <= 10 else MAX_LIMIT + 1
        except ValueError:
            raise ApiError(400, f"'{name}' must be an integer, not '{text[:40]}'") from None
        if not 1 <= value <= MAX_LIMIT:
            raise ApiError(400, f"'{name}' must be between 1 and {MAX_LIMIT}")
        return value

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking core code in a worker thread; its MlopsErrors become ApiErrors."""
        try:
            return await asyncio.to_thread(function, *args)
        except MlopsError as error:
            raise self.api_error(error) from error

    def api_error(self, error: MlopsError) -> ApiError:
        """The HTTP error for a core error (messages name paths relative to the root)."""
        message = self.strip_root(str(error))
        if isinstance(error, ExtractionErrors):
            return ApiError(400, message, errors=extraction_errors(error))
        if isinstance(error, RunNotFound):
            return ApiError(404, message)
        if isinstance(error, RunConflict):
            return ApiError(409, message, id=error.name)
        if isinstance(error, TrackingError):
            return ApiError(502, message)
        return ApiError(400, message)

    def strip_root(self, text: str) -> str:
        """``text`` with the server root's absolute path taken out."""
        root = str(self.root)
        return text.replace(root + os.sep, "").replace(root, ".")

    def reply(self, data: Any, status: int = 200) -> None:
        """Finish with ``data`` as JSON."""
        self.set_status(status)
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """``{"message": …}`` (plus fields of ApiError), never a traceback."""
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        reply: dict[str, Any] = {"message": responses.get(status_code, "Unknown HTTP Error")}
        if isinstance(error, ApiError):
            reply = {"message": error.message, **error.extra}
        elif isinstance(error, web.HTTPError):
            if error.log_message:
                reply["message"] = error.log_message % error.args
        elif error is not None:
            reply["message"] = "internal error in jupyter_mlops; the server log has the details"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(reply))


class VersionHandler(MlopsHandler):
    """``GET version`` → ``{"version": …}``: lets the front end detect a mismatch."""

    @web.authenticated
    async def get(self) -> None:
        self.reply({"version": __version__})


class PipelineHandler(MlopsHandler):
    """``GET pipeline?path=`` (saved notebook or pipeline folder) and ``POST pipeline`` (the
    live notebook content): ``show --json``'s JSON, or ``{"errors": […]}`` (status 200)."""

    @web.authenticated
    async def get(self) -> None:
        path = self.resolve(self.get_query_argument("path", None))
        self.reply(await self.call(actions.pipeline_or_errors, path))

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        content = body if "cells" in body else body.get("content")
        api_path = self.get_query_argument("path", None) if "cells" in body else body.get("path")
        path = self.resolve(api_path, must_exist=False)
        if not isinstance(content, dict):
            raise ApiError(400, "'content' must be the notebook as a JSON object")
        self.reply(await self.call(actions.content_pipeline_or_errors, path, content))


class ExtractHandler(MlopsHandler):
    """``POST extract {path, output?}``: write the pipeline package."""

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        notebook = self.resolve(body.get("path"))
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            raise ApiError(400, f"'path' must be a notebook (.ipynb): {body.get('path')}")
        output = body.get("output")
        if output is not None:
            out_dir = self.resolve(output, "output", must_exist=False)
        else:
            out_dir = self.inside_root(api.default_output_dir(notebook), "pipeline folder")
        done = await self.call(actions.extract, notebook, out_dir)
        done["folder"] = self.relative(done["folder"])
        done["changed"] = [self.relative(path) for path in done["changed"]]
        self.reply(done)


class HistoryHandler(MlopsHandler):
    """``GET runs?pipeline=&path=&limit=``: recent pipeline runs recorded in MLflow."""

    @web.authenticated
    async def get(self) -> None:
        name = self.get_query_argument("pipeline", None)
        api_path = self.get_query_argument("path", None)
        path = self.resolve(api_path) if api_path is not None else self.root
        if not name:
            if api_path is None:
                raise ApiError(400, "give 'pipeline' (a pipeline name) or 'path' (its notebook)")
            name = await self.call(actions.pipeline_name_of, path)
        check_name(name, "pipeline")
        limit = self.query_int("limit", 20)
        self.reply(await self.call(actions.runs_of, path, name, limit))


class ModelHandler(MlopsHandler):
    """``GET models/<name>?path=&limit=``: versions with aliases, metrics and gate outcomes."""

    @web.authenticated
    async def get(self, name: str) -> None:
        check_model_name(name, "name")
        api_path = self.get_query_argument("path", None)
        path = self.resolve(api_path) if api_path is not None else self.root
        limit = self.query_int("limit", 10)
        self.reply(await self.call(actions.models_of, path, name, limit))


class NotFoundHandler(MlopsHandler):
    """Any other path under ``/jupyter-mlops/``: a JSON 404 naming the endpoints, not
    the server's HTML page."""

    def _not_found(self, *_args: Any) -> None:
        raise ApiError(
            404,
            f"no endpoint {self.request.method} {self.request.path}: jupyter_mlops serves "
            f"{', '.join(ENDPOINTS)}",
        )

    get = post = put = patch = delete = web.authenticated(_not_found)


ENDPOINTS = (
    "version",
    "pipeline",
    "extract",
    "run",
    "run/<id>",
    "runs",
    "models/<name>",
    "models/<name>/promote",
    "deployments",
    "deployments/rollback",
    "deployments/deploy",
    "deployments/rollouts/<id>",
    "monitoring",
    "monitoring/report",
)


def handlers(base_url: str) -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns of the REST API under ``base_url``."""
    from jupyter_mlops.server.deployments import deployment_handlers  # it imports this module
    from jupyter_mlops.server.monitoring import monitoring_handlers
    from jupyter_mlops.server.promote import PromoteHandler
    from jupyter_mlops.server.runs import RunHandler, RunsHandler

    prefix = base_url.rstrip("/") + "/jupyter-mlops"
    return [
        (prefix + "/version", VersionHandler),
        (prefix + "/pipeline", PipelineHandler),
        (prefix + "/extract", ExtractHandler),
        (prefix + "/run", RunsHandler),
        (prefix + "/run/([0-9a-zA-Z_-]+)", RunHandler),
        (prefix + "/runs", HistoryHandler),
        (prefix + "/models/([^/]+)", ModelHandler),
        (prefix + "/models/([^/]+)/promote", PromoteHandler),
        *deployment_handlers(base_url),
        *monitoring_handlers(base_url),
        (prefix + "(?:/.*)?", NotFoundHandler),
    ]
