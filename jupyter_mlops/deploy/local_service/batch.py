"""Named batch deployments (serving as data): version ``version`` of a model pre-scores the
rows of ``source`` into ``table`` of database ``into`` (``deploy/batch``: staged, then
swapped in), and the registry alias ``deploy-<name>`` records which version the table
holds. Updating re-scores with another version; deleting drops the table (and the one it
replaced), removes the alias and the state file."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.local_service.state import (
    LocalDeployment,
    deployment_alias,
    find_deployment,
    move_deployment_alias,
    remove_deployment,
    write_deployment,
)
from jupyter_mlops.errors import DeployError


def create_batch(deployment: LocalDeployment) -> LocalDeployment:
    """Score ``deployment.source`` into its table with its version, then point its alias
    at that version and record it; ``deployment`` carries name, model, version, source,
    key, query, into and table."""
    if find_deployment(deployment.tracking_uri, deployment.name) is not None:
        raise DeployError(
            f"a deployment named '{deployment.name}' exists: update or delete it",
            name=deployment.name,
        )
    return _score(deployment, f"jupyter-mlops batch deployment {deployment.name}")


def new_batch(
    tracking_uri: str, name: str, model: str, version: str, settings: dict[str, Any]
) -> LocalDeployment:
    """A batch deployment not yet scored: ``settings`` holds source, key, query, into and
    table (relative file and SQLite paths resolved against the current folder)."""
    from jupyter_mlops.deploy.batch.target import is_url, sqlite_in_folder

    source = settings["source"]

    return LocalDeployment(
        name,
        "batch",
        model,
        version,
        deployment_alias(name),
        tracking_uri,
        datetime.now(UTC).isoformat(timespec="seconds"),
        into=sqlite_in_folder(settings["into"], Path.cwd()),
        table=settings.get("table"),
        source=source if is_url(source) else str(Path(source).absolute()),
        query=settings.get("query"),
        key=settings["key"],
    )


def update_batch(deployment: LocalDeployment, version: str) -> LocalDeployment:
    """Re-score the deployment's rows with ``version`` and swap the new table in."""
    note = f"jupyter-mlops batch deployment {deployment.name} updated"
    return _score(replace(deployment, version=version), note)


def _score(deployment: LocalDeployment, note: str) -> LocalDeployment:
    from jupyter_mlops.deploy.batch.runner import ScoreRequest, score_into_table

    assert deployment.source is not None and deployment.key is not None
    assert deployment.into is not None
    request = ScoreRequest(
        tracking_uri=deployment.tracking_uri,
        model=deployment.model,
        version=deployment.version,
        source=deployment.source,
        key=deployment.key,
        query=deployment.query,
        into=deployment.into,
        table=deployment.table,
    )
    scored = score_into_table(request)
    deployment = replace(deployment, table=scored.table)
    move_deployment_alias(deployment, deployment.version, "deploy", f"{note}: {scored.rows} rows")
    write_deployment(deployment)
    return deployment


def delete_batch(deployment: LocalDeployment) -> None:
    """Drop the table and the one it replaced, remove the alias, forget the deployment."""
    from jupyter_mlops.deploy.batch.database import database_errors, open_engine
    from jupyter_mlops.deploy.batch.table_swap import drop_table, previous_name

    if deployment.into is not None and deployment.table is not None:
        with database_errors(deployment.into, f"drop table {deployment.table}"):
            engine = open_engine(deployment.into)
            try:
                drop_table(engine, deployment.table)
                drop_table(engine, previous_name(deployment.table))
            finally:
                engine.dispose()
    note = f"jupyter-mlops batch deployment {deployment.name} deleted"
    move_deployment_alias(deployment, None, "undeploy", note)
    remove_deployment(deployment)


def describe_batch(deployment: LocalDeployment) -> dict[str, Any]:
    """The deployment's record plus its table's rows and the version on them."""
    from jupyter_mlops.deploy.batch.table_summary import table_summary

    described: dict[str, Any] = deployment.to_json()
    if deployment.into is None or deployment.table is None:
        return described
    try:
        summary = table_summary(deployment.into, deployment.table)
    except DeployError as error:
        return {**described, "problem": str(error)}
    if summary is None:
        return {**described, "problem": f"table {deployment.table} is missing"}
    return {**described, "table_rows": summary.rows, "table_version": summary.model_version}


def predict_batch(deployment: LocalDeployment, frame: Any) -> dict[str, Any]:
    """The predictions of the deployment's version on ``frame`` (its sealed copy, loaded
    as ``mlflow.pyfunc`` loads it): ``{"predictions": [...]}``."""
    import mlflow.pyfunc

    from jupyter_mlops.deploy.serving.prediction_json import jsonable
    from jupyter_mlops.registry.model_ref import download_version

    with tempfile.TemporaryDirectory(prefix="mlops-plugin-") as folder:
        local = download_version(
            deployment.tracking_uri, deployment.model, deployment.version, Path(folder)
        )
        try:
            predictions = mlflow.pyfunc.load_model(str(local)).predict(frame)
        except Exception as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DeployError(
                f"version {deployment.version} of '{deployment.model}' cannot score the "
                f"rows: {detail}",
                name=deployment.name,
            ) from None
    return {"predictions": jsonable(predictions)}
