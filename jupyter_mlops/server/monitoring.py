"""REST handlers of the panel's Monitoring section, under ``<base_url>/jupyter-mlops/``.

``GET monitoring?path=`` (per registered model of the pipeline: its latest monitoring window,
the performance trend; the pipeline's triggers) and ``GET monitoring/report?path=&model=``
(the HTML report logged with the model's latest window, opened as a page: the XSRF check of
jupyter_server's ``/files/`` — ``_xsrf`` in the query or token authentication — and served with a Content-Security-Policy
that lets it run nothing and load nothing: the report is self-contained). Same rules as
``handlers.py``: authenticated, paths confined to the server root, JSON errors. The JSON
shapes are in docs/rest-api.md.
"""

from __future__ import annotations

from pathlib import Path

from tornado import web

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.server.api_error import ApiError
from jupyter_mlops.server.handlers import MlopsHandler
from jupyter_mlops.server.request_limits import check_model_name

REPORT_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
"""The report's Content-Security-Policy: its inline styles and data: images, no script, no
request anywhere, and a sandbox (a unique origin: no access to the Jupyter session)."""


class MonitoringBase(MlopsHandler):
    """The request's pipeline (``path``), its folder confined to the root."""

    def pipeline_path(self) -> Path:
        path = self.resolve(self.get_query_argument("path", None))
        try:
            self.inside_root(api.resolve_target(path).folder, "pipeline folder")
        except MlopsError as error:
            raise self.api_error(error) from error
        return path


class MonitoringHandler(MonitoringBase):
    """``GET monitoring?path=``: the Monitoring overview of the pipeline."""

    @web.authenticated
    async def get(self) -> None:
        shown = await self.call(api.monitoring, self.pipeline_path())
        shown["folder"] = self.relative(shown["folder"])
        for key in ("problem", "triggers_problem"):
            if shown[key]:
                shown[key] = self.strip_root(shown[key])
        for model in shown["models"]:
            if model["problem"]:
                model["problem"] = self.strip_root(model["problem"])
        self.reply(shown)


class MonitoringReportHandler(MonitoringBase):
    """``GET monitoring/report?path=&model=``: the latest window's HTML report of ``model``;
    404 (JSON) when that window has none."""

    @web.authenticated
    async def get(self) -> None:
        self.check_xsrf_cookie()  # opened as a page (a new tab): as jupyter_server's /files/
        path = self.pipeline_path()
        model = check_model_name(self.get_query_argument("model", None), "model")
        html = await self.call(api.monitoring_report, path, model)
        if html is None:
            raise ApiError(
                404,
                f"model '{model}' has no monitoring report: run `jupyter mlops monitor {model} "
                "--report FILE.html` to record one with its latest window",
                model=model,
            )
        self.set_header("Content-Security-Policy", REPORT_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(html, set_content_type="text/html; charset=utf-8")


def monitoring_handlers(base_url: str) -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns of the Monitoring endpoints under ``base_url`` (part of
    ``handlers.handlers``, before its last pattern, the 404 of every other path)."""
    prefix = base_url.rstrip("/") + "/jupyter-mlops/monitoring"
    return [(prefix, MonitoringHandler), (prefix + "/report", MonitoringReportHandler)]
