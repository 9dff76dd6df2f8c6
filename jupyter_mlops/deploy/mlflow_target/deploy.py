"""Deploy to an ``mlflow`` target: create (or update) the plugin's deployment to
``models:/MODEL/<candidate>``, verify it, and only then move the target's alias.

Verification: the deployment's ``predict`` on the candidate's input example equals what
``mlflow.pyfunc`` of that version predicts (``predictions``), and ``get_deployment``
reports the candidate (``reports_candidate``). A failed check updates the deployment back
to the stable version (deletes it when there was none and this deploy created it) and
records the rollback in the alias history; the alias never moved. ``rollback_mlflow``
moves the alias back and updates the deployment to it; ``mlflow_state`` is the panel's
view (``get_deployment``).

Plugin calls go through ``plugin.py`` (the registry as MLflow's tracking URI, failures as
``DeployError``s naming the target URI and the operation).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy import one_step
from jupyter_mlops.deploy.mlflow_target.plugin import (
    deploy_client,
    model_uri,
    plugin_call,
    predictions_json,
    reports_version,
)
from jupyter_mlops.deploy.mlflow_target.target import MlflowTarget
from jupyter_mlops.deploy.rollout.analysis import Check
from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult
from jupyter_mlops.errors import DeployError

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.runner import RolloutRequest
    from jupyter_mlops.registry.alias_history import AliasMove

Progress = Callable[[RolloutEvent], None]


def deploy_mlflow(
    request: RolloutRequest[MlflowTarget], progress: Progress | None = None
) -> RolloutResult:
    """Create or update the deployment to the candidate, verify it, then move the alias;
    returns promoted or rolled back."""
    from jupyter_mlops.deploy.rollout.runner import new_rollout_id
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    target = request.target
    with mlflow_errors(request.tracking_uri, f"read registered model '{request.model}'"):
        client = make_client(request.tracking_uri)
        stable, gate = _versions(client, request)
    plugin = deploy_client(target, request.tracking_uri)
    result = RolloutResult(
        rollout=new_rollout_id(),
        model=request.model,
        target=target.name,
        alias=target.alias,
        url=target.target_uri,
        strategy=request.strategy,
        stable=stable,
        candidate=request.candidate,
    )
    deploy = _Deploy(request, client, plugin, result, gate, progress or (lambda event: None))
    return deploy.run()


def _versions(client: Any, request: RolloutRequest[MlflowTarget]) -> tuple[str | None, str | None]:
    """(the version the alias holds now, the candidate's gate outcome); ``DeployError`` when
    the candidate does not exist, was rejected by the gates or already holds the alias."""
    from jupyter_mlops.deploy.candidate import check_candidate

    name, candidate, alias = request.model, request.candidate, request.target.alias
    checked = check_candidate(client, name, alias, candidate)
    if checked.stable == candidate:
        raise DeployError(
            f"alias '{alias}' of model '{name}' already holds version {candidate}", name=name
        )
    return checked.stable, checked.gate


class _Deploy:
    """One deploy to an mlflow target while it runs."""

    def __init__(
        self,
        request: RolloutRequest[MlflowTarget],
        client: Any,
        plugin: Any,
        result: RolloutResult,
        gate: str | None,
        progress: Progress,
    ) -> None:
        self.request, self.client, self.plugin, self.result = request, client, plugin, result
        self.target = request.target
        self.gate = gate
        self.progress = progress
        self.existed_before = False  # the deployment was there before this deploy
        self.exists = False

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.progress(RolloutEvent(kind, message, data))

    def call(self, operation: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``plugin.method(*args, **kwargs)`` (``endpoint`` added when the target has one)."""
        if self.target.endpoint is not None:
            kwargs["endpoint"] = self.target.endpoint
        with plugin_call(self.target, operation, self.request.tracking_uri):
            return getattr(self.plugin, method)(*args, **kwargs)

    def run(self) -> RolloutResult:
        from jupyter_mlops.deploy.rollout.record import record_rollout

        result, target = self.result, self.target
        self.emit(
            "start",
            f"deploy {result.rollout}: {result.model} version {result.candidate} → "
            f"deployment {target.deployment} at {target.target_uri} "
            f"(now {result.stable or 'none'})",
        )
        status = "FINISHED"
        try:
            checks = self._deploy_and_verify()
            if any(not check.passed for check in checks):
                self._roll_back(checks)
            else:
                self._promote()
        except BaseException:
            status = "KILLED"
            self._roll_back([Check("deploy", None, None, False, "interrupted")])
            raise
        finally:
            settings = {"target_uri": target.target_uri, "deployment": target.deployment}
            result.mlflow_run = record_rollout(self.request.tracking_uri, result, settings, status)
        return result

    def _deploy_and_verify(self) -> list[Check]:
        """The deploy's checks; a create/update the plugin refuses is one failed check."""
        candidate = self.request.candidate
        try:
            self.existed_before = self.exists = self._exists()
            self._point_at(candidate)
        except DeployError as error:
            self.emit("deploy", f"deploy FAILED: {error}", passed=False)
            return [Check("deploy", None, None, False, str(error))]
        self.emit("deploy", f"deployment {self.target.deployment} updated to version {candidate}")
        checks = [self._predictions_check(), self._reports_check()]
        self.result.checks = checks
        verdict = "FAILED" if any(not c.passed for c in checks) else "passed"
        described = ", ".join(check.describe() for check in checks)
        self.emit("verify", f"verification {verdict}: {described}", passed=verdict == "passed")
        return checks

    def _exists(self) -> bool:
        listed = self.call("list deployments", "list_deployments") or []
        names = {str(d.get("name")) if isinstance(d, dict) else str(d) for d in listed}
        return self.target.deployment in names

    def _point_at(self, version: str) -> None:
        """Create the deployment of ``version``, or update it to ``version``."""
        target, uri = self.target, model_uri(self.request.model, version)
        config = dict(target.config)
        if self.exists:
            what = f"update deployment '{target.deployment}' to {uri}"
            self.call(what, "update_deployment", target.deployment, model_uri=uri, config=config)
        else:
            what = f"create deployment '{target.deployment}' of {uri}"
            self.call(what, "create_deployment", target.deployment, uri, config=config)
            self.exists = True

    def _predictions_check(self) -> Check:
        """The deployment's predictions on the input example against pyfunc's."""
        import pandas as pd

        from jupyter_mlops.deploy.rollout.verification import registry_example

        request = self.request
        try:
            example = registry_example(request.tracking_uri, request.model, request.candidate)
        except DeployError as error:
            return Check("predictions", None, None, False, str(error))
        if example.expected is None:
            return Check("predictions", None, None, False, example.problem or "no expected answer")
        frame = pd.DataFrame(example.rows, columns=example.columns)
        try:
            what = f"predict with deployment '{self.target.deployment}'"
            answer = self.call(what, "predict", self.target.deployment, frame)
        except DeployError as error:
            return Check("predictions", None, None, False, str(error))
        got = predictions_json(answer)
        same = got == example.expected
        rows = len(example.rows)
        detail = (
            f"{rows} example rows as pyfunc predicts"
            if same
            else (f"the deployment answered {_short(got)}, pyfunc {_short(example.expected)}")
        )
        return Check("predictions", None, None, same, detail)

    def _reports_check(self) -> Check:
        """``get_deployment`` names the candidate's model URI or version."""
        candidate = self.request.candidate
        try:
            what = f"get deployment '{self.target.deployment}'"
            described = self.call(what, "get_deployment", self.target.deployment)
        except DeployError as error:
            return Check("reports_candidate", None, None, False, str(error))
        uri = model_uri(self.request.model, candidate)
        reported = reports_version(described, uri, candidate)
        detail = (
            f"get_deployment shows {uri}"
            if reported
            else (f"get_deployment does not show {uri}: {_short(described)}")
        )
        return Check("reports_candidate", None, None, reported, detail)

    def _promote(self) -> None:
        target = self.target
        note = f"mlflow deployment {target.deployment} at {target.target_uri}"
        one_step.promote(self.client, self.result, self.gate, note, self.emit)

    def _roll_back(self, checks: list[Check]) -> None:
        failed = [check for check in checks if not check.passed]
        reason = "; ".join(check.describe() for check in failed)
        restored = self._restore()
        reason = f"{reason}; {restored}" if restored else reason
        one_step.roll_back(self.client, self.result, reason, failed, self.emit)

    def _restore(self) -> str:
        """Put the deployment back as it was; what went wrong doing so ('' when nothing)."""
        stable, deployment = self.result.stable, self.target.deployment
        try:
            if stable is not None and self.exists:
                self._point_at(stable)
                self.emit("restored", f"deployment {deployment} back on version {stable}")
            elif stable is None and self.exists and not self.existed_before:
                self.call(f"delete deployment '{deployment}'", "delete_deployment", deployment)
                self.emit("restored", f"deployment {deployment} deleted (no stable version)")
            elif stable is None and self.existed_before:
                return (
                    f"deployment {deployment} existed before with no version on alias "
                    f"'{self.target.alias}': left as it is, check it"
                )
        except DeployError as error:
            self.emit("warning", f"warning: {error}")
            return f"restoring the deployment failed: {error}"
        return ""


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rollback_mlflow(tracking_uri: str, model: str, target: MlflowTarget) -> AliasMove:
    """Move the target's alias back to its previous holder (recorded) and update the
    deployment to that version; ``DeployError`` naming both when the plugin refuses."""
    from jupyter_mlops.registry.alias_history import rollback
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(tracking_uri, f"roll back alias '{target.alias}' of model '{model}'"):
        move = rollback(make_client(tracking_uri), model, target.alias)
    if move.to_version is None:
        return move
    plugin = deploy_client(target, tracking_uri)
    uri = model_uri(model, move.to_version)
    kwargs: dict[str, Any] = {"model_uri": uri, "config": dict(target.config)}
    if target.endpoint is not None:
        kwargs["endpoint"] = target.endpoint
    try:
        with plugin_call(target, f"update deployment '{target.deployment}' to {uri}", tracking_uri):
            plugin.update_deployment(target.deployment, **kwargs)
    except DeployError as error:
        raise DeployError(
            f"alias '{target.alias}' moved back to version {move.to_version}, but {error}",
            path=target.target_uri,
        ) from None
    return move


def mlflow_state(
    target: MlflowTarget, model: str | None, tracking_uri: str | None
) -> dict[str, Any]:
    """The panel's view of the deployment: ``get_deployment``'s description (JSON), or the
    problem reading it."""
    from jupyter_mlops.tracking.store import resolve_tracking_uri

    state: dict[str, Any] = {
        "target_uri": target.target_uri,
        "deployment": target.deployment,
        "reachable": False,
        "problem": None,
        "description": None,
    }
    uri = tracking_uri or resolve_tracking_uri(None, os.getcwd())
    try:
        plugin = deploy_client(target, uri)
        kwargs = {} if target.endpoint is None else {"endpoint": target.endpoint}
        with plugin_call(target, f"get deployment '{target.deployment}'", uri):
            described = plugin.get_deployment(target.deployment, **kwargs)
    except DeployError as error:
        return {**state, "problem": str(error)}
    plain = json.loads(json.dumps(described, default=str))
    return {**state, "reachable": True, "description": plain}
