"""The ``jupyter-mlops`` MLflow deployment plugin (entry point group ``mlflow.deployments``).

``mlflow deployments create -t jupyter-mlops --name NAME -m models:/MODEL/VERSION`` starts a
local prediction service following the registry alias ``deploy-NAME``; ``update`` moves the
alias (the service hot-swaps), ``delete`` stops it and removes the alias. Target URIs:
``jupyter-mlops`` or ``jupyter-mlops:/rest``; ``jupyter-mlops:/batch`` pre-scores a table
instead (serving as data). A front end: it parses, calls :mod:`jupyter_mlops.api` and
renders.
"""

from __future__ import annotations

from typing import Any

from jupyter_mlops.mlflow_plugin.client import SCHEME, JupyterMlopsDeploymentClient

__all__ = ["JupyterMlopsDeploymentClient", "run_local", "target_help"]

HELP = """\
jupyter-mlops: local prediction services that follow the MLflow model registry.

Target URIs: jupyter-mlops, jupyter-mlops:/rest (a `jupyter mlops serve` process);
jupyter-mlops:/batch (serving as data: a table of predictions, one row per key).

Model URIs: models:/NAME/VERSION or models:/NAME@ALIAS (registered versions only: the
deployment NAME follows the registry alias deploy-NAME, which create/update point at the
version and which the history records).

Config (-C key=value):
  tracking_uri  the registry (default: $MLFLOW_TRACKING_URI, else the project's store)
  rest:
  host          the address to listen on (default: 127.0.0.1)
  port          the port (default: a free one; run-local: 8080)
  batch:
  input         the rows to score: a .parquet/.csv file, or a SQLAlchemy URL with query
  query         with a URL input: the SELECT giving the rows
  key           the input column the table is keyed by
  into          the database (default: sqlite:///predictions.db in the current folder)
  table         the table (default: <model>_predictions)

  mlflow deployments create -t jupyter-mlops --name churn -m models:/churn/3 -C port=8080
  mlflow deployments predict -t jupyter-mlops --name churn --input-path rows.json
  mlflow deployments update -t jupyter-mlops --name churn -m models:/churn/4
  mlflow deployments delete -t jupyter-mlops --name churn
  mlflow deployments create -t jupyter-mlops:/batch --name nightly -m models:/churn@champion \\
      -C input=customers.parquet -C key=customer_id -C into=sqlite:///scores.db
"""


def target_help() -> str:
    """The help ``mlflow deployments help -t jupyter-mlops`` prints."""
    return HELP


def run_local(
    name: str, model_uri: str, flavor: str | None = None, config: dict[str, Any] | None = None
) -> None:
    """Serve ``model_uri`` in the foreground until stopped (Ctrl-C). MLflow calls it as
    ``run_local(name, model_uri, flavor, config)`` (``mlflow/deployments/interface.py``;
    the base module's docstring also lists ``target``, which MLflow does not pass)."""
    from jupyter_mlops import api
    from jupyter_mlops.mlflow_plugin.client import as_mlflow_errors

    with as_mlflow_errors(SCHEME, "run-local"):
        api.run_local_rest(name, model_uri, config)
