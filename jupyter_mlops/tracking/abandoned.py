"""Close the MLflow records an earlier run left open (its process died, or it could not close
them): the parent run and every step run under it still RUNNING end as KILLED or FAILED,
tagged ``mlops.status`` (killed | failed) and ``mlops.reason``. The run states that name them
are in ``execute/run_state.py``."""

from __future__ import annotations

from jupyter_mlops.tracking.store import make_client, mlflow_errors, sqlite_path
from jupyter_mlops.tracking.tags import REASON, STATUS

OPEN = "RUNNING"


def close_abandoned_run(tracking_uri: str, parent_run_id: str, status: str, reason: str) -> int:
    """End ``parent_run_id`` and its step runs that are still RUNNING with ``status``
    (KILLED | FAILED) and ``reason``; returns how many runs were closed."""
    from mlflow.exceptions import MlflowException

    database = sqlite_path(tracking_uri)
    if database is not None and not database.is_file():
        return 0  # the store is gone: nothing is left open in it (and none is created)
    with mlflow_errors(tracking_uri, f"close run {parent_run_id} left open by an earlier run"):
        client = make_client(tracking_uri)
        try:
            parent = client.get_run(parent_run_id)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return 0  # deleted meanwhile: nothing left open
            raise
        children = client.search_runs(
            [parent.info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'",
        )
        open_runs = [run for run in [*children, parent] if run.info.status == OPEN]
        for run in open_runs:  # the parent last: while a step run is open, so is it
            client.set_tag(run.info.run_id, STATUS, status.lower())
            client.set_tag(run.info.run_id, REASON, reason)
            client.set_terminated(run.info.run_id, status=status)
    return len(open_runs)
