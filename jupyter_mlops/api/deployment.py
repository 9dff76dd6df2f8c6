"""Use cases that take a registered model to production: the alias history and rollback,
the prediction service, rollouts to deploy targets and their live state (for the panel).
Re-exported by :mod:`jupyter_mlops.api`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.pipeline.layout import resolve_target

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult
    from jupyter_mlops.deploy.targets import Target as DeployTarget
    from jupyter_mlops.registry.alias_history import ModelHistory, RolledBack


def history(
    target: str,
    alias: str | None = None,
    tracking_uri: str | None = None,
    limit: int | None = None,
) -> ModelHistory:
    """The recorded alias moves of the model of ``target`` (folder, notebook or model
    name), oldest first: only ``alias``'s when given, the latest ``limit`` when given."""
    from jupyter_mlops.errors import PromotionError
    from jupyter_mlops.registry.alias_history import ModelHistory, alias_history
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    if limit is not None and limit < 1:
        raise PromotionError(f"the history limit must be at least 1, not {limit}")
    name, uri = resolve_model(target, tracking_uri)
    with mlflow_errors(uri, f"read the alias history of model '{name}'"):
        moves = alias_history(make_client(uri), name, alias)
    return ModelHistory(name, tuple(moves[-limit:] if limit else moves))


def rollback(
    target: str,
    alias: str = "production",
    tracking_uri: str | None = None,
    model: str | None = None,
) -> RolledBack:
    """Move ``alias`` of the model of ``target`` (``model`` of a pipeline registering
    several) back to the version it held before its current one (recorded; its traffic
    split cleared)."""
    from jupyter_mlops.registry.alias_history import RolledBack
    from jupyter_mlops.registry.alias_history import rollback as roll_back
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    name, uri = resolve_model(target, tracking_uri, model)
    with mlflow_errors(uri, f"roll back alias '{alias}' of model '{name}'"):
        return RolledBack(name, roll_back(make_client(uri), name, alias))


@dataclass(frozen=True)
class ServeOptions:
    """``serve``'s settings as given (sizes and durations as text, e.g. ``10MB``, ``5s``)."""

    alias: str = "production"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    tracking_uri: str | None = None
    poll_interval: str = "5s"
    log_dir: str | None = "serve-log"
    log_sample: float = 1.0
    max_body: str = "10MB"
    max_rows: int = 10_000
    batch_max: int = 32
    batch_wait: str = "2ms"
    token: str | None = None
    trust_digest: str | None = None
    lookup: str | None = None  # URL#TABLE: also answer GET /predictions/{key} from it


def serve(
    target: str | None,
    options: ServeOptions | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the model of ``target`` (a model name, pipeline folder or notebook; None: a
    lookup-only service, ``options.lookup`` required) until stopped; ``announce`` gets the
    line saying where it listens."""
    from jupyter_mlops.deploy.serving import config as serving
    from jupyter_mlops.deploy.serving.follower import check_servable
    from jupyter_mlops.deploy.serving.lookup import check_lookup
    from jupyter_mlops.deploy.serving.process import run_service
    from jupyter_mlops.registry.promotion import resolve_model

    options = options or ServeOptions()
    if options.lookup is not None:
        check_lookup(options.lookup)
    name, uri = resolve_model(target, options.tracking_uri) if target else ("", "")
    config = serving.ServeConfig(
        model=name,
        tracking_uri=uri,
        alias=options.alias,
        host=options.host,
        port=options.port,
        workers=options.workers,
        poll_seconds=serving.parse_duration(options.poll_interval, "--poll-interval"),
        log_dir=Path(options.log_dir) if options.log_dir else None,
        log_sample=options.log_sample,
        max_body_bytes=serving.parse_size(options.max_body, "--max-body"),
        max_rows=options.max_rows,
        batch_max_rows=options.batch_max,
        batch_wait_seconds=serving.parse_duration(options.batch_wait, "--batch-wait"),
        token=serving.token_from_env(options.token),
        trusted_digest=options.trust_digest,
        lookup=options.lookup,
    ).check()
    for warning in check_servable(uri, name, options.alias) if name else ():
        announce(f"warning: {warning}")
    run_service(config, announce)


def deploy(
    pipeline: str | Path,
    target: str,
    version: str | None = None,
    alias: str | None = None,
    strategy: str | None = None,
    tracking_uri: str | None = None,
    progress: Callable[[RolloutEvent], None] | None = None,
) -> RolloutResult:
    """Roll a version of the model of ``pipeline`` (folder or notebook) out to deploy target
    ``target`` of its pipeline.yaml: ``version``, else the version ``alias`` (default
    ``challenger``) points at, with ``strategy`` (default: the target's). Returns when it is
    promoted or rolled back; ``progress`` gets each step as it happens."""
    from jupyter_mlops.deploy.kinds import deploy_to
    from jupyter_mlops.deploy.targets import STRATEGIES, read_target
    from jupyter_mlops.errors import DeployError
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.registry.models import CHALLENGER, get_alias_version
    from jupyter_mlops.registry.promotion import resolve_model

    if version is not None and alias is not None:
        raise DeployError("give --version or --alias, not both")
    if strategy is not None and strategy not in STRATEGIES:
        raise DeployError(f"--strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
    pipeline_file = read_pipeline_file(resolve_target(pipeline).folder)
    settings = read_target(pipeline_file, target)
    name, uri = resolve_model(str(pipeline_file.folder), tracking_uri, settings.model)
    if version is None:
        alias = alias or CHALLENGER
        version = get_alias_version(uri, name, alias)
        if version is None:
            raise DeployError(f"model '{name}' has no alias '{alias}': name a --version", name=name)
    return deploy_to(uri, name, settings, str(version), strategy, progress)


def abort_deploy(pipeline: str | Path, target: str, tracking_uri: str | None = None) -> str:
    """Clear the traffic split a rollout to ``target`` left on its alias (its process gone):
    the alias's version serves 100 %; what was done, as one line."""
    from jupyter_mlops.deploy.rollout.runner import abort_rollout
    from jupyter_mlops.errors import DeployError
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    settings = deploy_target(pipeline, target)
    if settings.kind != "rest":
        raise DeployError(
            f"--abort applies to rest targets: {settings.kind} target '{target}' has no "
            "rollout in progress to abort",
            name=target,
        )
    name, uri = resolve_model(str(resolve_target(pipeline).folder), tracking_uri, settings.model)
    with mlflow_errors(uri, f"clear the traffic split of alias '{settings.alias}' of '{name}'"):
        cleared = abort_rollout(make_client(uri), name, settings.alias)
    if cleared is None:
        return f"{name}: alias '{settings.alias}' has no traffic split: nothing to abort"
    return f"{name}: rollout {cleared} aborted; alias '{settings.alias}' serves its version 100 %"


def deploy_target(pipeline: str | Path, name: str) -> DeployTarget:
    """Deploy target ``name`` of the pipeline.yaml of ``pipeline`` (folder or notebook)."""
    from jupyter_mlops.deploy.targets import read_target
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    return read_target(read_pipeline_file(resolve_target(pipeline).folder), name)


def rollback_target(pipeline: str | Path, name: str, tracking_uri: str | None = None) -> RolledBack:
    """Roll deploy target ``name`` of ``pipeline`` back to what it held before: its alias
    moves back to its previous holder (recorded; a service follows it), a batch target's
    previous table and a package target's previous build are restored."""
    from jupyter_mlops.deploy.kinds import kind_actions
    from jupyter_mlops.registry.alias_history import RolledBack
    from jupyter_mlops.registry.promotion import resolve_model

    settings = deploy_target(pipeline, name)
    folder = str(resolve_target(pipeline).folder)
    model, uri = resolve_model(folder, tracking_uri, settings.model)
    return RolledBack(model, kind_actions(settings.kind).rollback(uri, model, settings))


def deployments(
    target: str | Path, tracking_uri: str | None = None, history_limit: int = 10
) -> dict[str, Any]:
    """Every deploy target of the pipeline of ``target`` (folder or notebook): its
    settings, the live state of its service and the latest ``history_limit`` moves of its
    alias, newest first (``deploy/status.py``); no targets before it is extracted."""
    from jupyter_mlops.deploy.status import deployments_status

    return deployments_status(resolve_target(target).folder, tracking_uri, history_limit)
