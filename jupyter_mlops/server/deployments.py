"""REST handlers of the panel's Deployments section, under ``<base_url>/jupyter-mlops/``.

``GET deployments?path=`` (each deploy target of the pipeline: settings, its service's live
``/version`` and ``/stats``, the latest moves of its alias), ``POST deployments/rollback
{path, target}`` (the target's alias moved back), ``POST deployments/deploy {path, target,
version?}`` (a rollout started in the background, 202; 409 while one to that target is going
on), ``GET deployments/rollouts/<id>`` (its progress lines and outcome) and ``DELETE
deployments/rollouts/<id>`` (stop it: it rolls back at its next step). Same rules as
``handlers.py``: authenticated, XSRF on writes, paths confined to the server root, JSON
errors. The JSON shapes are in docs/rest-api.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tornado import web

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.server.api_error import ApiError
from jupyter_mlops.server.handlers import MlopsHandler
from jupyter_mlops.server.request_limits import check_name
from jupyter_mlops.server.rollout_manager import ManagedRollout, RolloutManager

ROLLOUTS_SETTING = "jupyter_mlops.rollouts"
MAX_VERSION_DIGITS = 18


class DeploymentsBase(MlopsHandler):
    """The rollout manager, the request's pipeline and target, root-relative replies."""

    @property
    def rollouts(self) -> RolloutManager:
        manager: RolloutManager = self.settings[ROLLOUTS_SETTING]
        return manager

    def pipeline_and_target(self, body: dict[str, Any]) -> tuple[Path, str, str]:
        """(the notebook or folder named by ``path``, the target's name, the resolved
        pipeline folder, which must lie inside the root)."""
        path = self.resolve(body.get("path"))
        target = check_name(body.get("target"), "target")
        try:
            folder = api.resolve_target(path).folder
        except MlopsError as error:
            raise self.api_error(error) from error
        self.inside_root(folder, "pipeline folder")
        return path, target, str(folder.resolve())

    def rollout_json(self, rollout: ManagedRollout) -> dict[str, Any]:
        """A rollout's snapshot, its error without the root's absolute path."""
        shown = rollout.snapshot()
        if shown["error"]:
            shown["error"] = self.strip_root(shown["error"])
        return shown


class DeploymentsHandler(DeploymentsBase):
    """``GET deployments?path=``: every deploy target of the pipeline, live."""

    @web.authenticated
    async def get(self) -> None:
        path = self.resolve(self.get_query_argument("path", None))
        try:
            self.inside_root(api.resolve_target(path).folder, "pipeline folder")
        except MlopsError as error:
            raise self.api_error(error) from error
        shown = await self.call(api.deployments, path)
        if shown["problem"]:
            shown["problem"] = self.strip_root(shown["problem"])
        folder = str(Path(shown["folder"]).resolve())
        for target in shown["targets"]:
            going = self.rollouts.active(folder, target["name"])
            target["active_rollout"] = going.id if going is not None else None
        shown["folder"] = self.relative(shown["folder"])
        self.reply(shown)


class RollbackHandler(DeploymentsBase):
    """``POST deployments/rollback {path, target}``: the alias the target serves moved
    back to its previous holder (recorded); 409 while a rollout to it is going on."""

    @web.authenticated
    async def post(self) -> None:
        path, target, folder = self.pipeline_and_target(self.json_body())
        going = self.rollouts.active(folder, target)
        if going is not None:
            raise ApiError(
                409,
                f"a rollout to target '{target}' is going on (rollout {going.id}): it rolls "
                "back by itself when a check fails",
                id=going.id,
            )
        done = await self.call(api.rollback_target, path, target)
        self.reply({"model": done.model, "move": done.move.to_json(), "message": done.describe()})


class DeployHandler(DeploymentsBase):
    """``POST deployments/deploy {path, target, version?}``: start a rollout (202) of
    ``version`` (default: the version alias challenger points at) to ``target``."""

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        path, target, folder = self.pipeline_and_target(body)
        version = _version(body.get("version"))
        await self.call(api.deploy_target, path, target)  # an unknown target is a 400 now
        try:
            rollout = self.rollouts.start(
                lambda progress: api.deploy(path, target, version=version, progress=progress),
                path=self.relative(path),
                folder=folder,
                target=target,
                version=version,
            )
        except MlopsError as error:
            raise self.api_error(error) from error
        self.reply(self.rollout_json(rollout), status=202)


class RolloutHandler(DeploymentsBase):
    """``GET deployments/rollouts/<id>``: a rollout's progress lines and outcome;
    ``DELETE``: stop it (202; it rolls back at its next step; 409 once it ended)."""

    @web.authenticated
    async def get(self, rollout_id: str) -> None:
        try:
            rollout = self.rollouts.get(rollout_id)
        except MlopsError as error:
            raise self.api_error(error) from error
        self.reply(self.rollout_json(rollout))

    @web.authenticated
    async def delete(self, rollout_id: str) -> None:
        try:
            rollout = self.rollouts.stop(rollout_id)
        except MlopsError as error:
            raise self.api_error(error) from error
        self.reply(self.rollout_json(rollout), status=202)


def _version(value: object) -> str | None:
    """The ``version`` field: absent, or a registered version number (text or integer)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if not isinstance(value, str) or not value.isdigit() or len(value) > MAX_VERSION_DIGITS:
        raise ApiError(400, "'version' must be a model version number, e.g. \"3\"")
    return value


def deployment_handlers(base_url: str) -> list[tuple[str, type[MlopsHandler]]]:
    """The URL patterns of the Deployments endpoints under ``base_url`` (part of
    ``handlers.handlers``, before its last pattern, the 404 of every other path)."""
    prefix = base_url.rstrip("/") + "/jupyter-mlops/deployments"
    return [
        (prefix, DeploymentsHandler),
        (prefix + "/rollback", RollbackHandler),
        (prefix + "/deploy", DeployHandler),
        (prefix + "/rollouts/([0-9a-f]{1,64})", RolloutHandler),
    ]
