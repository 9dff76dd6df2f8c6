"""MLflow run records: one parent run per pipeline run, one nested run per step.

Everything goes through an explicit ``mlflow.MlflowClient(tracking_uri=...)``: the runner
records from worker threads, so nothing here reads or sets MLflow's process-global tracking
URI or active run. mlflow is imported inside functions only (it costs over a second).

Records written (experiment = pipeline name):

* parent run: tags ``mlops.pipeline``, ``mlops.notebook_sha256``, ``mlops.git_commit`` and
  ``mlflow.source.git.commit`` (when known), ``mlops.tool_version``, ``mlops.status``; every
  pipeline parameter as a param; the merged step metrics when the run finishes.
* step run (``mlflow.parentRunId`` = the parent): tags ``mlops.step``, ``mlops.status``
  (ran|cached|failed|not_run), ``mlops.cache_key``, ``mlops.input.<var>`` /
  ``mlops.output.<var>`` = artifact hashes, ``mlops.cached_from_run`` for a cached step;
  the step's params; its metrics plus ``duration_seconds``; the executed step notebook
  (``result.report``) and, for a failed step, ``traceback.txt`` as artifacts.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jupyter_mlops import __version__
from jupyter_mlops.errors import MlopsError, TrackingError
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.tracking.server_errors import unreachable_message, unreachable_reason

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from jupyter_mlops.execute.run_result import RunResult, StepResult
    from jupyter_mlops.pipeline.pipeline_file import PipelineFile

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
REGISTRY_URI_ENV = "MLFLOW_REGISTRY_URI"
SUPPRESS_RUN_URLS_ENV = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
DEFAULT_DB_NAME = "mlflow.db"
ARTIFACTS_DIRNAME = "mlartifacts"
DURATION_METRIC = "duration_seconds"
TRACEBACK_ARTIFACT = "traceback.txt"

# MLflow limits (mlflow.utils.validation); values longer than these are cut.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000

# Step status -> MLflow run status of the step's nested run.
STEP_RUN_STATUS = {
    StepStatus.RAN: "FINISHED",
    StepStatus.CACHED: "FINISHED",
    StepStatus.FAILED: "FAILED",
    StepStatus.NOT_RUN: "KILLED",
}
# RunResult.status -> MLflow run status of the parent run (anything else: KILLED).
PIPELINE_RUN_STATUS = {"succeeded": "FINISHED", "failed": "FAILED"}

_INVALID_KEY_CHARS = re.compile(r"[^\w\-. /:]")


def resolve_tracking_uri(explicit: str | None, project_root: str | os.PathLike[str]) -> str:
    """The tracking URI to use: ``explicit`` (``--tracking-uri``), else ``$MLFLOW_TRACKING_URI``,
    else ``sqlite:///<project_root>/mlflow.db`` with ``project_root`` made absolute.

    Always pass the result to MLflow explicitly: MLflow 3's own default depends on the
    current directory.
    """
    if explicit:
        return explicit
    from_env = os.environ.get(TRACKING_URI_ENV, "").strip()
    if from_env:
        return from_env
    return "sqlite:///" + (Path(project_root).absolute() / DEFAULT_DB_NAME).as_posix()


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite://`` URI (None for other schemes and ``:memory:``)."""
    parts = urlsplit(tracking_uri)
    if parts.scheme != "sqlite" or not parts.path or parts.path in ("/", "/:memory:"):
        return None
    # sqlite:///rel.db -> path "/rel.db" (relative); sqlite:////abs.db -> "//abs.db".
    return Path(parts.path[1:])


def default_artifact_location(
    tracking_uri: str, project_root: str | os.PathLike[str] | None = None
) -> str | None:
    """Where a new experiment keeps its artifacts, as a ``file://`` URI.

    For a SQLite store: ``<project_root>/mlartifacts``, or beside the database file when no
    project root is given (never the current directory, MLflow's own default). For other
    stores None: the tracking server decides.
    """
    db = sqlite_path(tracking_uri)
    if db is None:
        return None
    root = Path(project_root) if project_root is not None else db.parent
    return (root.absolute() / ARTIFACTS_DIRNAME).as_uri()


_IMPORT_LOCK = threading.Lock()


def make_client(tracking_uri: str) -> MlflowClient:
    """A client bound to ``tracking_uri`` (registry: ``$MLFLOW_REGISTRY_URI``, else the same).

    The first ``import mlflow`` happens under a lock: two threads importing it at once (two
    REST requests) can hit a module-lock deadlock inside mlflow's circular imports.
    """
    with _IMPORT_LOCK:
        import mlflow

    for noisy in ("mlflow", "alembic"):  # store creation/migration INFO lines are not ours
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Against a tracking server MLflow prints "View run … at" lines on stdout, which is ours
    # (``run --json`` prints its JSON there).
    os.environ.setdefault(SUPPRESS_RUN_URLS_ENV, "true")

    registry_uri = os.environ.get(REGISTRY_URI_ENV, "").strip() or tracking_uri
    return mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)


@contextlib.contextmanager
def mlflow_errors(tracking_uri: str, action: str) -> Iterator[None]:
    """Turn any failure inside the block into a one-line :class:`TrackingError`
    (``<tracking uri>: cannot <action> in MLflow: <first line of the cause>``)."""
    try:
        yield
    except MlopsError:
        raise
    except Exception as exc:
        reason = unreachable_reason(tracking_uri, exc)
        if reason is not None:
            message = unreachable_message(tracking_uri, action, reason)
            raise TrackingError(message, path=tracking_uri) from exc
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"cannot {action} in MLflow: {detail}", path=tracking_uri) from exc


def get_or_create_experiment(
    client: MlflowClient, name: str, artifact_location: str | None = None
) -> str:
    """The id of experiment ``name``, created (with ``artifact_location``) when missing."""
    from mlflow.exceptions import MlflowException

    for _attempt in range(2):
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                raise TrackingError(
                    f"MLflow experiment '{name}' is deleted; restore it "
                    f"(mlflow experiments restore --experiment-id {experiment.experiment_id}) "
                    "or permanently delete it (mlflow gc) before running again",
                    name=name,
                )
            return str(experiment.experiment_id)
        try:
            return str(
                client.create_experiment(
                    name, artifact_location=artifact_location, tags={"mlops.pipeline": name}
                )
            )
        except MlflowException as exc:  # created concurrently by another process
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
    raise TrackingError(f"cannot create or find MLflow experiment '{name}'", name=name)


def param_value(value: Any) -> str:
    """A parameter value as MLflow stores it: strings as they are, others as ``repr``."""
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_PARAM_VALUE]


def record_key(name: str) -> str:
    """``name`` made valid as an MLflow param/metric/tag key (other characters become ``_``)."""
    return _INVALID_KEY_CHARS.sub("_", str(name)) or "_"


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The entries of ``metrics`` that are numbers, as floats, with valid keys."""
    result: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            result[record_key(name)] = float(value)
        except (TypeError, ValueError):
            continue
    return result


def log_batch(
    client: MlflowClient,
    run_id: str,
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Log params, metrics and tags in as few calls as MLflow's batch limits allow."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    param_list = [Param(record_key(k), param_value(v)) for k, v in (params or {}).items()]
    tag_list = [RunTag(record_key(k), str(v)[:MAX_TAG_VALUE]) for k, v in (tags or {}).items()]
    metric_list = [
        Metric(record_key(k), float(v), now, 0) for k, v in numeric_metrics(metrics or {}).items()
    ]
    while param_list or tag_list or metric_list:
        client.log_batch(
            run_id,
            metrics=_take(metric_list, MAX_METRICS_PER_BATCH),
            params=_take(param_list, MAX_PARAMS_TAGS_PER_BATCH),
            tags=_take(tag_list, MAX_PARAMS_TAGS_PER_BATCH),
        )


def _take(items: list[Any], count: int) -> Sequence[Any]:
    taken = items[:count]
    del items[:count]
    return taken


class RunRecorder:
    """Records one pipeline run in MLflow: :meth:`start`, :meth:`record_step` per step
    (safe from several threads at once), :meth:`finish`.

    ``artifact_location`` applies when the experiment is created; by default it is
    :func:`default_artifact_location` of the tracking URI.
    """

    def __init__(
        self,
        tracking_uri: str,
        pipeline_file: PipelineFile,
        params: Mapping[str, Any],
        notebook_hash: str,
        git_commit: str | None,
        *,
        artifact_location: str | None = None,
        extra_tags: Mapping[str, str] | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.pipeline_file = pipeline_file
        self.extra_tags = dict(extra_tags or {})  # e.g. mlops.trigger of a triggered run
        self.params = dict(params)
        self.notebook_hash = notebook_hash
        self.git_commit = git_commit
        self.artifact_location = artifact_location or default_artifact_location(tracking_uri)
        self.experiment_id: str | None = None
        self.run_id: str | None = None
        self.step_run_ids: dict[str, str] = {}
        self.closed = False  # the parent run has ended (finish() succeeded)
        self._client: MlflowClient | None = None
        self._lock = threading.Lock()

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_file.pipeline.name

    def __repr__(self) -> str:
        return f"RunRecorder({self.pipeline_name!r}, {self.tracking_uri!r}, run_id={self.run_id!r})"

    def parent_tags(self) -> dict[str, str]:
        """The tags of the parent run."""
        tags = {
            "mlops.pipeline": self.pipeline_name,
            "mlops.notebook_sha256": self.notebook_hash,
            "mlops.tool_version": __version__,
            "mlops.status": "running",
            "mlflow.source.name": str(self.pipeline_file.path),
            "mlflow.source.type": "LOCAL",
        }
        notebook = self.pipeline_file.pipeline.notebook
        if notebook:
            tags["mlops.notebook"] = str(notebook)
        if self.git_commit:
            tags["mlops.git_commit"] = self.git_commit
            tags["mlflow.source.git.commit"] = self.git_commit
        with contextlib.suppress(Exception):
            tags["mlflow.user"] = getpass.getuser()
        return {**tags, **self.extra_tags}

    def start(self) -> str:
        """Create (or reuse) the experiment and the parent run; returns the parent run id."""
        with self._lock:
            if self.run_id is not None:
                return self.run_id
            with mlflow_errors(self.tracking_uri, "start the run record"):
                client = make_client(self.tracking_uri)
                experiment_id = get_or_create_experiment(
                    client, self.pipeline_name, self.artifact_location
                )
                run = client.create_run(experiment_id, tags=self.parent_tags())
                try:
                    log_batch(client, run.info.run_id, params=self.params)
                except Exception:  # never leave the parent run RUNNING
                    with contextlib.suppress(Exception):
                        client.set_tag(run.info.run_id, "mlops.status", "failed")
                        client.set_terminated(run.info.run_id, status="FAILED")
                    raise
            self._client = client
            self.experiment_id = experiment_id
            self.run_id = run.info.run_id
            return self.run_id

    def _started(self) -> tuple[MlflowClient, str]:
        if self._client is None or self.run_id is None:
            raise RuntimeError("RunRecorder.start() must be called first")
        return self._client, self.run_id

    def step_tags(self, result: StepResult) -> dict[str, str]:
        """The tags of a step's nested run."""
        tags = {
            "mlflow.parentRunId": self._started()[1],
            "mlops.pipeline": self.pipeline_name,
            "mlops.step": result.name,
            "mlops.status": result.status,
        }
        if result.cache_key:
            tags["mlops.cache_key"] = result.cache_key
        for var, ref in result.inputs.items():
            tags[f"mlops.input.{var}"] = ref.hash
        for var, ref in result.outputs.items():
            tags[f"mlops.output.{var}"] = ref.hash
        if result.status == StepStatus.CACHED and result.run_id:
            tags["mlops.cached_from_run"] = result.run_id
        if result.error:
            tags["mlops.error"] = result.error
        if self.git_commit:
            tags["mlflow.source.git.commit"] = self.git_commit
        return tags

    def record_step(self, result: StepResult) -> str:
        """Record one finished (or cached/failed/not run) step as a nested run; returns its id."""
        client, _ = self._started()
        end = int(time.time() * 1000)
        start = end - int(max(result.seconds, 0.0) * 1000)
        metrics = {**numeric_metrics(result.metrics), DURATION_METRIC: float(result.seconds)}
        status = STEP_RUN_STATUS.get(result.status, "FAILED")
        with self._lock, mlflow_errors(self.tracking_uri, f"record step '{result.name}'"):
            run = client.create_run(
                str(self.experiment_id),
                start_time=start,
                tags=self.step_tags(result),
                run_name=result.name,
            )
            step_run_id: str = run.info.run_id
            try:
                log_batch(client, step_run_id, params=result.params, metrics=metrics)
                if result.report is not None and Path(result.report).is_file():
                    client.log_artifact(step_run_id, str(result.report))
                if result.traceback:
                    client.log_text(step_run_id, result.traceback, TRACEBACK_ARTIFACT)
            except Exception as error:  # never leave the step run RUNNING: it ends FAILED
                with contextlib.suppress(Exception):
                    client.set_tag(step_run_id, "mlops.status", "failed")
                    client.set_tag(step_run_id, "mlops.reason", f"recording failed: {error}")
                    client.set_terminated(step_run_id, status="FAILED", end_time=end)
                raise
            client.set_terminated(step_run_id, status=status, end_time=end)
            self.step_run_ids[result.name] = step_run_id
        return step_run_id

    def finish(self, result: RunResult) -> None:
        """Log the merged metrics on the parent run and close it with the run's status."""
        client, run_id = self._started()
        tags = {"mlops.status": str(result.status)}
        if result.model_version is not None:
            tags["mlops.model_version"] = str(result.model_version)
        for name, version in result.model_versions.items():  # every model, several or one
            tags[f"mlops.model_version.{name}"] = str(version)
        if result.error:
            tags["mlops.error"] = tags["mlops.reason"] = result.error
        status = PIPELINE_RUN_STATUS.get(result.status, "KILLED")
        with self._lock, mlflow_errors(self.tracking_uri, "finish the run record"):
            try:
                log_batch(client, run_id, metrics=result.metrics, tags=tags)
            except Exception:  # an incomplete record is never FINISHED: it ends FAILED
                with contextlib.suppress(Exception):
                    client.set_tag(run_id, "mlops.status", "failed")
                    client.set_terminated(run_id, status="FAILED")
                raise
            client.set_terminated(run_id, status=status)
            self.closed = True
