"""One exception hierarchy; every error carries the fields a user needs to act on it."""

from __future__ import annotations

import re


class MlopsError(Exception):
    """Base of every error jupyter_mlops raises on purpose.

    ``exit_code`` is what the CLI exits with: 2 for bad input, 1 for a failed run.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        cell: int | None = None,
        name: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.cell = cell
        self.name = name
        self.path = path

    def __str__(self) -> str:
        return self.where() + self.message

    def where(self) -> str:
        """The location prefix, e.g. ``cell 4, step 'train': ``."""
        parts = []
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        if self.step is not None:
            parts.append(f"step '{self.step}'")
        location = ", ".join(parts) + ": " if parts else ""
        return f"{self.path}: {location}" if self.path is not None else location

    def to_dict(self) -> dict[str, object]:
        """The structured form used by ``--json`` output and the REST API."""
        return {
            "message": str(self),
            "step": self.step,
            "cell": self.cell,
            "name": self.name,
            "path": self.path,
        }


class NotebookError(MlopsError):
    """The notebook file cannot be read: not JSON, not nbformat 4, missing."""


class StepDeclarationError(MlopsError):
    """A ``%%mlstep`` line is malformed: bad name, unknown option, duplicate step."""


class DependencyError(MlopsError):
    """A step reads a name nothing earlier defines, or explicit options form a cycle."""


class ExtractionErrors(MlopsError):
    """Several extraction problems found in one notebook; ``errors`` holds each one."""

    def __init__(self, errors: list[MlopsError], path: str | None = None) -> None:
        self.errors = errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(str(first) + more, path=path)

    def __str__(self) -> str:
        return self.message


class PipelineError(MlopsError):
    """An extracted pipeline folder is missing or its pipeline.yaml is invalid."""


class DuplicateModelName(PipelineError):
    """Two ``--model`` steps would register the same model name."""


class StepFailed(MlopsError):
    """A step raised while running; the run failed."""

    exit_code = 1


class ArtifactError(MlopsError):
    """A value cannot be stored, or a stored artifact is missing, corrupt or unreadable."""

    exit_code = 1


class UntrustedArtifactError(ArtifactError):
    """A stored object in a format that runs code when loaded was not written (sealed) by
    this user's jupyter_mlops: refused, never deserialized."""


class TrackingError(MlopsError):
    """MLflow cannot be reached or refuses a record (bad URI, deleted experiment, ...)."""

    exit_code = 1


class UnusableTrackingStore(TrackingError):
    """The tracking store cannot hold a run's records, found before any step runs."""

    exit_code = 2


class GateConfigError(PipelineError):
    """The ``gates:`` section of pipeline.yaml is malformed (names the field)."""


class PromotionError(MlopsError):
    """A promotion cannot be done: unknown model, version or alias (bad input)."""


class PromotionRefused(MlopsError):
    """A promotion was refused because the version's gate outcome is ``rejected``."""

    exit_code = 1


class RunCancelled(MlopsError):
    """A run was cancelled (panel Cancel button): no new step started after the request."""

    exit_code = 1


class FixtureError(MlopsError):
    """Test fixtures cannot be captured or read: no run yet, bad manifest, unreadable file."""


class CiWorkflowError(MlopsError):
    """``jupyter mlops ci init`` cannot write the workflow: nothing to test, file exists."""


class DriftConfigError(PipelineError):
    """The ``drift:`` section of pipeline.yaml is malformed (names the field)."""


class MonitorConfigError(PipelineError):
    """The ``monitor:`` section of pipeline.yaml is malformed (names the field)."""


class MonitorDataError(MlopsError):
    """Data to monitor cannot be compared with its reference: a column is missing, has no
    values, or does not fit the test asked for it (names the column)."""


class TriggerConfigError(PipelineError):
    """The ``triggers:`` section of pipeline.yaml is malformed (names the trigger and field)."""


class DataSchemaError(MlopsError):
    """A data schema or its reference statistics cannot be read, inferred or written, or
    there is no run whose artifacts a schema could be inferred from."""


class RunNotFound(MlopsError):
    """No run with this id (never started, or finished too long ago)."""


class RunConflict(MlopsError):
    """The run cannot do that now: already finished, or the pipeline is already running."""


class PipelineBusy(RunConflict):
    """Another run holds the pipeline folder's run lock (``execute/run_lock.py``)."""


class RolloutBusy(RunConflict):
    """A rollout to this deploy target is already going on in this Jupyter server."""


class RolloutNotFound(RunNotFound):
    """No rollout with this id in this Jupyter server (or it finished too long ago)."""


class ParameterError(MlopsError):
    """A ``-p`` value is malformed or names no declared parameter."""


class KernelPoolError(MlopsError):
    """A kernel could not be started, or the pool is closed."""

    exit_code = 1


class WorkerPoolError(MlopsError):
    """The in-process engine's worker template cannot fork (it died, or the pool is closed)."""

    exit_code = 1


class EngineError(MlopsError):
    """An unknown engine name."""


class ExecutorError(MlopsError):
    """An unknown executor, or one that cannot start: an unreachable ``--scheduler``."""


class StoreUrlError(MlopsError):
    """A ``--store`` URL that cannot be used: unknown protocol, missing bucket, no access."""


class ExportError(MlopsError):
    """A pipeline cannot be exported: unknown ``--to`` target or ``--operator``, a bad
    option value (names the option), a parameter the target cannot type."""


class FileSystemError(MlopsError):
    """A file or folder the tool must write cannot be: a read-only folder, a file where a
    folder belongs, permission denied. Names the path and the system's reason."""

    exit_code = 1

    @classmethod
    def of(cls, error: OSError, what: str, path: object = None) -> MlopsError:
        """The one-line error for ``error`` raised while doing ``what`` in ``path`` (default:
        the file at fault — an atomic writer's ``.<name>.<hex>.tmp`` named as the file it was
        to become — named in the message when it is another)."""
        written = re.sub(r"(^|/)\.([^/]+)\.[0-9a-f]{32}\.tmp$", r"\1\2", str(error.filename))
        where = str(path if path is not None else written)
        file = f" ({written})" if written != where else ""
        return cls(f"cannot {what}: {error.strerror or error}{file}", path=where)


class DeployError(MlopsError):
    """A deployment cannot start: unknown target, bad ``deploy:`` setting, no such version,
    a service that cannot load or bind."""


class ScoringFailed(MlopsError):
    """A scoring run stopped midway (the model raised on a chunk): the staging table was
    dropped and the live predictions table left as it was."""

    exit_code = 1


class RolloutFailed(MlopsError):
    """A rollout's check failed and the alias was left on (or moved back to) the stable
    version; the message names the check and its value."""

    exit_code = 1


class MonitorError(MlopsError):
    """Monitoring cannot start on this input: no reference stored with the version, a
    missing column, no rows in the window, a bad ``--since`` or ``--window``."""
