"""REST handlers of pipeline runs, under ``<base_url>/jupyter-mlops/``: start one, list them,
show one, cancel one.

The server's own runs (``run_manager.py``) are merged by id with the live records of runs
started anywhere else — the CLI, the widgets, another server, CI writing to the same folder
(``execute/live_record.py``, read through ``api.live_runs``). Same rules as ``handlers.py``:
authenticated, paths confined to the server root, JSON errors; docs/rest-api.md has the shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tornado import web

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError, RunNotFound
from jupyter_mlops.server import actions
from jupyter_mlops.server.api_error import ApiError
from jupyter_mlops.server.handlers import MlopsHandler
from jupyter_mlops.server.request_limits import check_params
from jupyter_mlops.server.run_manager import ManagedRun


class RunsBase(MlopsHandler):
    """The pipeline a request names (``path``) and its runs as the API shows them."""

    def pipeline_folder(self, path: Path) -> Path:
        """The pipeline folder of notebook or folder ``path``, confined to the root."""
        try:
            folder = api.pipeline_folder(path)
        except MlopsError as error:
            raise self.api_error(error) from error
        return self.inside_root(folder, "pipeline folder")

    def shown(self, record: dict[str, Any], folder: Path) -> dict[str, Any]:
        """A live record with its path relative to the root and no absolute root path in
        its texts (a path outside the root is shown as the pipeline folder)."""
        path = self.relative(record.get("path") or folder)
        shown = {**record, "path": path if not Path(path).is_absolute() else self.relative(folder)}
        for key in ("error", "traceback"):
            if isinstance(shown.get(key), str):
                shown[key] = self.strip_root(shown[key])
        return shown

    def own_runs(self, folder: Path) -> list[ManagedRun]:
        """The runs this server started in ``folder``."""
        resolved = str(folder.resolve())
        return [run for run in self.run_manager.runs() if run.folder == resolved]


def merged(snapshot: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """The server's snapshot of a run over its live record: the snapshot's values, the
    record's where the snapshot has none (source, failed step, traceback, pid…)."""
    if record is None:
        return snapshot
    return {**record, **{k: v for k, v in snapshot.items() if v is not None or k not in record}}


class RunsHandler(RunsBase):
    """``POST run {path, params?, engine?, force?}`` starts a run (202); ``GET run`` lists the
    runs this server remembers; ``GET run?path=`` every run of that pipeline, newest first."""

    @web.authenticated
    async def get(self) -> None:
        api_path = self.get_query_argument("path", None)
        if api_path is None:
            self.reply({"runs": [run.snapshot(log_lines=0) for run in self.run_manager.runs()]})
            return
        no_log = self.get_query_argument("log", None) == "0"
        lines = 0 if no_log else self.query_int("log", 200)
        path = self.resolve(api_path)
        folder = self.pipeline_folder(path)
        records = {r["id"]: self.shown(r, folder) for r in await self.call(api.live_runs, path)}
        for run in self.own_runs(folder):
            records[run.id] = merged(run.snapshot(log_lines=lines), records.get(run.id))
        runs = sorted(records.values(), key=lambda r: str(r.get("started") or ""), reverse=True)
        self.reply({"runs": runs})

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        target = self.resolve(body.get("path"))
        params, engine, force = _run_options(body)
        run = await self.call(self._start, target, params, engine, force)
        self.reply(run.snapshot(), status=202)

    def _start(
        self, target: Path, params: dict[str, Any], engine: str | None, force: bool
    ) -> ManagedRun:
        folder, pipeline, values = actions.run_plan(target, params)
        self.inside_root(folder, "pipeline folder")
        return self.run_manager.start(
            target,
            folder=folder,
            pipeline=pipeline.name,
            steps=[step.name for step in pipeline.steps],
            label=self.relative(target),
            params=params,
            values=values,
            engine=engine,
            force=force,
            cwd=self.root,
        )


class RunHandler(RunsBase):
    """``GET run/<id>?path=`` (state, steps, log tail, summary: the server's run, else the
    live record of that pipeline's run); ``DELETE run/<id>`` cancels a run of this server."""

    @web.authenticated
    async def get(self, run_id: str) -> None:
        lines = self.query_int("log", 200)
        api_path = self.get_query_argument("path", None)
        try:
            own: ManagedRun | None = self.run_manager.get(run_id)
        except RunNotFound as error:
            if api_path is None:
                raise self.api_error(error) from error
            own = None
        if api_path is None and own is not None:
            self.reply(own.snapshot(log_lines=lines))
            return
        path = self.resolve(api_path)
        folder = self.pipeline_folder(path)
        try:
            record: dict[str, Any] | None = await self.call(api.live_run, path, run_id)
        except ApiError:
            if own is None:
                raise
            record = None
        shown = self.shown(record, folder) if record is not None else None
        self.reply(merged(own.snapshot(log_lines=lines), shown) if own is not None else shown)

    @web.authenticated
    async def delete(self, run_id: str) -> None:
        run = await self.call(self.run_manager.cancel, run_id)
        self.reply(run.snapshot(), status=202)


def _run_options(body: dict[str, Any]) -> tuple[dict[str, Any], str | None, bool]:
    params = check_params(body.get("params") or {})
    engine = body.get("engine")
    if engine is not None and (
        not isinstance(engine, str) or not engine.isidentifier() or len(engine) > 100
    ):
        raise ApiError(400, "'engine' must be an engine name such as 'papermill' or 'inprocess'")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ApiError(400, "'force' must be true or false")
    return params, engine, force
