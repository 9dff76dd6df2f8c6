"""Deploy to a ``package`` target: build the candidate's package into a staging folder
beside ``output``, verify it (``verify.py``), and only then swap it in for ``output``,
keeping the build it replaces as ``<output>.previous`` and moving the target's alias to the
candidate. A failed check (or a failed build) removes the staging folder, leaves ``output``
as it was and records the rollback in the alias history. ``rollback_package`` swaps
``<output>.previous`` back and moves the alias back; ``package_state`` is the panel's view.

Every deploy is logged to MLflow like a rollout (``rollout/record.py``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy import one_step
from jupyter_mlops.deploy.package import folder_swap
from jupyter_mlops.deploy.package.output import MARKER
from jupyter_mlops.deploy.package.target import PackageTarget
from jupyter_mlops.deploy.package.verify import failed, verify_package
from jupyter_mlops.deploy.rollout.analysis import Check
from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult
from jupyter_mlops.errors import DeployError, MlopsError

if TYPE_CHECKING:
    from jupyter_mlops.deploy.package.build import PackageOptions
    from jupyter_mlops.deploy.rollout.runner import RolloutRequest
    from jupyter_mlops.registry.alias_history import AliasMove

Progress = Callable[[RolloutEvent], None]


def deploy_package(
    request: RolloutRequest[PackageTarget], progress: Progress | None = None
) -> RolloutResult:
    """Build, verify and swap in the candidate's package; returns promoted or rolled back."""
    from jupyter_mlops.deploy.rollout.runner import new_rollout_id
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    target = request.target
    output = Path(target.output)
    _claim(output)
    with mlflow_errors(request.tracking_uri, f"read registered model '{request.model}'"):
        client = make_client(request.tracking_uri)
        stable, gate = _versions(client, request)
    result = RolloutResult(
        rollout=new_rollout_id(),
        model=request.model,
        target=target.name,
        alias=target.alias,
        url=str(output),
        strategy=request.strategy,
        stable=stable,
        candidate=request.candidate,
    )
    return _Deploy(request, client, result, gate, progress or (lambda event: None)).run()


def _claim(output: Path) -> None:
    """``output``'s parent is created; an ``output`` that is not a package is refused."""
    from jupyter_mlops.deploy.package.output import claim_output

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeployError(f"cannot create the output's folder: {error}", path=str(output)) from None
    claim_output(output, force=False)


def _versions(client: Any, request: RolloutRequest[PackageTarget]) -> tuple[str | None, str | None]:
    """(the version the alias holds now, the candidate's gate outcome); ``DeployError`` when
    the candidate does not exist, was rejected by the gates or is already deployed."""
    from jupyter_mlops.deploy.candidate import check_candidate

    name, candidate, alias = request.model, request.candidate, request.target.alias
    checked = check_candidate(client, name, alias, candidate)
    if checked.stable == candidate and built_version(request.target) == candidate:
        raise DeployError(
            f"alias '{alias}' of model '{name}' already holds version {candidate}, built in "
            f"{request.target.output}",
            name=name,
        )
    return checked.stable, checked.gate


class _Deploy:
    """One deploy to a package target while it runs."""

    def __init__(
        self,
        request: RolloutRequest[PackageTarget],
        client: Any,
        result: RolloutResult,
        gate: str | None,
        progress: Progress,
    ) -> None:
        self.request, self.client, self.result = request, client, result
        self.target = request.target
        self.gate = gate
        self.progress = progress
        output = Path(self.target.output)
        self.staging = output.with_name(f".{output.name}.{result.rollout}")

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.progress(RolloutEvent(kind, message, data))

    def run(self) -> RolloutResult:
        result, target = self.result, self.target
        self.emit(
            "start",
            f"deploy {result.rollout}: {result.model} version {result.candidate} → "
            f"{target.format} package in {target.output} (now {result.stable or 'none'})",
        )
        try:
            checks = self._build_and_verify()
            if failed(checks):
                self._roll_back(checks)
            else:
                self._promote()
        except BaseException as error:
            why = "interrupted" if isinstance(error, KeyboardInterrupt) else f"failed: {error}"
            with suppress(Exception):  # the registry may be what failed: keep the first error
                self._roll_back([Check("deploy", None, None, False, why)])
                self._record("KILLED")
            raise
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        self._record("FINISHED")
        return result

    def _record(self, status: str) -> None:
        from jupyter_mlops.deploy.rollout.record import record_rollout

        settings = {"format": self.target.format}
        self.result.mlflow_run = record_rollout(
            self.request.tracking_uri, self.result, settings, status
        )

    def _build_and_verify(self) -> list[Check]:
        """The build's checks; a build that fails is one failed ``build`` check."""
        from jupyter_mlops.deploy.package.build import build_package

        request, target = self.request, self.target
        try:
            built = build_package(
                request.tracking_uri,
                request.model,
                request.candidate,
                target.format,
                self.staging,
                package_options(target),
                alias=target.alias,
            )
        except MlopsError as error:
            self.emit("build", f"build FAILED: {error}", passed=False)
            return [Check("build", None, None, False, str(error))]
        self.emit("build", f"built {', '.join(built.files)}", passed=True)
        checks = verify_package(
            target.format, self.staging, request.tracking_uri, request.model, request.candidate
        )
        self.result.checks = checks
        verdict = "FAILED" if failed(checks) else "passed"
        described = ", ".join(check.describe() for check in checks)
        self.emit("verify", f"verification {verdict}: {described}", passed=not failed(checks))
        return checks

    def _promote(self) -> None:
        output, previous = Path(self.target.output), self.target.previous_output
        one_step.promote(
            self.client,
            self.result,
            self.gate,
            f"{self.target.format} package to target {self.target.name}",
            self.emit,
            around=folder_swap.swapped_in(self.staging, output, previous),
        )

    def _roll_back(self, checks: list[Check]) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        bad = failed(checks)
        reason = "; ".join(check.describe() for check in bad) or "failed"
        one_step.roll_back(self.client, self.result, reason, bad, self.emit)


def package_options(target: PackageTarget) -> PackageOptions:
    """The build options a package target's settings stand for."""
    from jupyter_mlops.deploy.package.build import PackageOptions

    return PackageOptions(
        model_source=target.model_source,
        image=target.image,
        canary_percent=target.canary_percent,
        replicas=target.replicas,
        extra=target.resources.to_extra(),
    )


def rollback_package(tracking_uri: str, model: str, target: PackageTarget) -> AliasMove:
    """Swap ``<output>.previous`` back in for ``output`` (the replaced build becomes the
    previous one) and move the alias back to its previous holder, which must be the
    version of the previous build; ``DeployError`` when there is none to go back to."""
    from jupyter_mlops.registry.alias_history import rollback
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    output, previous = Path(target.output), target.previous_output
    back_to = built_version(replace(target, output=str(previous)))
    if back_to is None:
        raise DeployError(
            f"target '{target.name}' has no previous build in {previous}: nothing to roll back to",
            name=target.name,
            path=str(previous),
        )
    with mlflow_errors(tracking_uri, f"roll back alias '{target.alias}' of model '{model}'"):
        client = make_client(tracking_uri)
        _check_previous_holder(client, model, target, back_to)
        folder_swap.exchange(previous, output)
        try:
            return rollback(client, model, target.alias)
        except BaseException:
            folder_swap.exchange(previous, output)
            raise


def _check_previous_holder(client: Any, model: str, target: PackageTarget, back_to: str) -> None:
    from jupyter_mlops.registry.alias_history import (
        alias_history,
        previous_holder,
        registered_aliases,
    )

    current = registered_aliases(client, model).get(target.alias)
    earlier = None
    if current is not None:
        earlier = previous_holder(alias_history(client, model, target.alias), target.alias, current)
    if earlier != back_to:
        raise DeployError(
            f"the previous build in {target.previous_output} holds version {back_to}, but alias "
            f"'{target.alias}' of model '{model}' would move back to {earlier or 'nothing'}: "
            "deploy the version you want instead",
            name=target.name,
        )


def built_version(target: PackageTarget) -> str | None:
    """The model version the package in ``target.output`` was built from; None when none."""
    marker = _marker(Path(target.output))
    return None if marker is None else str(marker.get("version"))


def _marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def package_state(
    target: PackageTarget, model: str | None, tracking_uri: str | None
) -> dict[str, Any]:
    """``{"version", "where", "detail", "problem", "output", "format", "built_at",
    "previous_version"}``: the build in ``output`` (version None when there is none) and
    the one kept as previous (the panel shows ``where`` and the one-line ``detail``)."""
    output = Path(target.output)
    marker = _marker(output)
    previous = _marker(target.previous_output)
    built_at = None
    if marker is not None:
        mtime = (output / MARKER).stat().st_mtime
        built_at = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
    fmt = marker.get("format") if marker else target.format
    previous_version = str(previous["version"]) if previous else None
    detail = f"{fmt} built {built_at}" if built_at else f"no {fmt} package built yet"
    if previous_version:
        detail += f"; previous build: version {previous_version}"
    return {
        "version": str(marker["version"]) if marker else None,
        "where": str(output),
        "detail": detail,
        "problem": None,
        "output": str(output),
        "format": fmt,
        "built_at": built_at,
        "previous_version": previous_version,
    }
