"""What deploying to, rolling back and showing a target means for each kind of target.

A ``rest`` target is a live service taken through a progressive rollout
(``rollout/runner.py``); the other kinds replace what they hold in one verified step:
``batch`` a pre-scored table (``batch/``), ``package`` a built package folder
(``package/``), ``mlflow`` a deployment of any MLflow deployment plugin
(``mlflow_target/``). Every kind moves the target's alias only after its checks passed,
and records a failed deploy as a rollback, so the registry stays the source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jupyter_mlops.errors import DeployError

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult
    from jupyter_mlops.deploy.rollout.runner import RolloutRequest
    from jupyter_mlops.registry.alias_history import AliasMove

Progress = Callable[["RolloutEvent"], None]
ONE_STEP_STRATEGY = {"batch": "swap", "package": "replace", "mlflow": "replace"}


@dataclass(frozen=True)
class KindActions:
    """A kind's deploy (request, progress → result), rollback (tracking URI, model,
    target → the alias move back) and live state (target, model, tracking URI → JSON)."""

    deploy: Callable[[RolloutRequest[Any], Progress | None], RolloutResult]
    rollback: Callable[[str, str, Any], AliasMove]
    state: Callable[[Any, str | None, str | None], dict[str, Any]]


def kind_actions(kind: str) -> KindActions:
    """The actions of target kind ``kind``."""
    if kind == "rest":
        from jupyter_mlops.deploy.rollout.runner import run_rollout

        return KindActions(run_rollout, rollback_alias, _service_state)
    if kind == "batch":
        from jupyter_mlops.deploy.batch import deploy as batch

        return KindActions(batch.deploy_batch, batch.rollback_batch, batch.batch_state)
    if kind == "package":
        from jupyter_mlops.deploy.package import deploy as package

        return KindActions(package.deploy_package, package.rollback_package, package.package_state)
    if kind == "mlflow":
        from jupyter_mlops.deploy.mlflow_target import deploy as plugin

        return KindActions(plugin.deploy_mlflow, plugin.rollback_mlflow, plugin.mlflow_state)
    raise DeployError(f"no deploy target kind '{kind}'")


def strategy_of(target: Any, strategy: str | None = None) -> str:
    """The strategy a deploy to ``target`` uses: ``strategy`` or the rest target's own; the
    other kinds have one (``swap`` or ``replace``) and refuse another."""
    one_step = ONE_STEP_STRATEGY.get(target.kind)
    if one_step is None:
        return strategy or str(target.strategy)
    if strategy not in (None, one_step):
        raise DeployError(
            f"--strategy {strategy} applies to rest targets; {target.kind} target "
            f"'{target.name}' replaces what it holds in one verified step",
            name=target.name,
        )
    return one_step


def deploy_to(
    tracking_uri: str,
    model: str,
    target: Any,
    version: str,
    strategy: str | None = None,
    progress: Progress | None = None,
) -> RolloutResult:
    """Deploy ``version`` of ``model`` to ``target`` the way its kind does; the result says
    whether the alias moved to it (promoted) or it was rolled back."""
    from jupyter_mlops.deploy.rollout.runner import RolloutRequest

    request = RolloutRequest(tracking_uri, model, target, version, strategy_of(target, strategy))
    return kind_actions(target.kind).deploy(request, progress)


def rollback_alias(tracking_uri: str, model: str, target: Any) -> AliasMove:
    """Move the alias ``target`` serves back to its previous holder (recorded; a rest
    service follows the registry, so this is its whole rollback)."""
    from jupyter_mlops.registry.alias_history import rollback
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(tracking_uri, f"roll back alias '{target.alias}' of model '{model}'"):
        return rollback(make_client(tracking_uri), model, target.alias)


def _service_state(target: Any, model: str | None, tracking_uri: str | None) -> dict[str, Any]:
    from jupyter_mlops.deploy.status import service_state

    return service_state(target, model)
