"""What a pipeline run produced: per-step outcomes and the run summary (``--json``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.store import ArtifactRef
from jupyter_mlops.execute.status import RunStatus, StepStatus

if TYPE_CHECKING:
    from jupyter_mlops.quality.drift import DriftReport
    from jupyter_mlops.quality.gates.decision import GateOutcome
    from jupyter_mlops.quality.validation import ValidationReport

DATA_METRIC_PREFIX = "drift."  # drift metrics of a step's outputs, kept apart from --metrics


@dataclass
class StepResult:
    """One step's outcome in a run.

    ``inputs`` maps each input variable to its artifact; ``outputs`` likewise. For a
    cached step, ``run_id`` / ``parent_run_id`` are the MLflow step run and pipeline run
    that originally produced the outputs.
    """

    name: str
    status: StepStatus = StepStatus.NOT_RUN
    seconds: float = 0.0
    cache_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, ArtifactRef] = field(default_factory=dict)
    outputs: dict[str, ArtifactRef] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    report: Path | None = None
    error: str | None = None
    traceback: str | None = None
    run_id: str | None = None
    parent_run_id: str | None = None
    model_version: str | None = None  # the registered version of a --model step's model
    model_name: str | None = None  # the registered model that version belongs to
    tracking_uri: str | None = None  # the MLflow store run_id and model_version are in
    # output name -> report, for outputs that failed their schema / drifted above threshold
    validation: dict[str, ValidationReport] = field(default_factory=dict)
    drift: dict[str, DriftReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def declared_metrics(self) -> dict[str, float]:
        """The ``--metrics`` values: ``metrics`` without the ``drift.*`` data metrics."""
        return {k: v for k, v in self.metrics.items() if not k.startswith(DATA_METRIC_PREFIX)}

    @property
    def validation_report(self) -> str | None:
        """The full text of every failing validation report of this step (None: none)."""
        if not self.validation:
            return None
        return "\n".join(report.to_text() for report in self.validation.values())


@dataclass
class RunResult:
    """A whole pipeline run. ``run_id`` is the MLflow parent run (or the one that produced
    every cached artifact when nothing ran)."""

    pipeline: str
    pipeline_dir: Path
    params: dict[str, Any]
    steps: dict[str, StepResult]
    status: RunStatus = RunStatus.SUCCEEDED
    run_id: str | None = None
    model_version: str | None = None  # the new version, when the pipeline has one --model step
    error: str | None = None
    model_versions: dict[str, str] = field(default_factory=dict)  # model name -> new version
    model_gates: dict[str, GateOutcome] = field(default_factory=dict)  # model name -> decision

    metrics_vars: dict[str, str] = field(default_factory=dict)  # step -> its --metrics variable
    schemas_written: list[Path] = field(default_factory=list)  # data schemas this run inferred
    warnings: list[str] = field(default_factory=list)  # e.g. an artifact with no schema
    notes: list[str] = field(default_factory=list)  # e.g. test fixtures captured
    failed_links: dict[str, str] = field(default_factory=dict)  # after-run link -> its error
    results: dict[str, list[str]] = field(default_factory=dict)  # sink step -> results it keeps

    @property
    def gates(self) -> GateOutcome | None:
        """The gate decision when exactly one model was gated (``model_gates`` has them all)."""
        if len(self.model_gates) != 1:
            return None
        return next(iter(self.model_gates.values()))

    @property
    def gates_rejected(self) -> list[str]:
        """The models whose new version the gates rejected."""
        return [name for name, gates in self.model_gates.items() if not gates.validated]

    @property
    def metrics(self) -> dict[str, float]:
        """The ``--metrics`` values under the names :func:`run_metrics` gives them."""
        declared = {name: step.declared_metrics for name, step in self.steps.items()}
        return run_metrics(declared, self.metrics_vars)

    def to_json(self) -> dict[str, Any]:
        """The summary ``jupyter mlops run --json`` prints (a contract: keep its shape)."""
        return {
            "status": str(self.status),
            "run_id": self.run_id,
            "steps": {
                name: {"status": str(step.status), "seconds": round(step.seconds, 3)}
                for name, step in self.steps.items()
            },
            "metrics": self.metrics,
            "model_version": self.model_version,
            "model_versions": dict(self.model_versions),
            "error": self.error,
            "failed_links": dict(self.failed_links),
            "gates": self.gates.to_json() if self.gates is not None else None,
            "model_gates": {name: gates.to_json() for name, gates in self.model_gates.items()},
            "validation": {
                f"{step.name}.{name}": report.to_json()
                for step in self.steps.values()
                for name, report in step.validation.items()
            },
            "drift": {
                f"{step.name}.{name}": report.to_json()
                for step in self.steps.values()
                for name, report in step.drift.items()
            },
            "results": self.results_json(),
        }

    def results_json(self) -> dict[str, dict[str, str]]:
        """``<step>.<name>`` -> artifact hash, file and type of each result this run holds."""
        from jupyter_mlops.artifacts.store import ArtifactStore

        store = ArtifactStore.for_pipeline(self.pipeline_dir)
        refs = {
            f"{step}.{name}": self.steps[step].outputs[name]
            for step, names in self.results.items()
            for name in names
            if step in self.steps and name in self.steps[step].outputs
        }
        return {
            key: {
                "hash": ref.hash,
                "path": str(store.path_of(ref.hash).resolve()),
                "type": ref.type,
            }
            for key, ref in refs.items()
        }


def run_metrics(
    step_metrics: Mapping[str, Mapping[str, float]], metrics_vars: Mapping[str, str]
) -> dict[str, float]:
    """The metrics of a whole run (pipeline or notebook) from each step's ``--metrics`` values.

    ``step_metrics`` maps a step to its values, ``metrics_vars`` every step that declares
    ``--metrics`` to its variable. Plain names when one step declares metrics; else
    ``<metrics variable>.<name>``, or ``<step>.<name>`` for a variable several steps declare,
    so two steps' values never overwrite each other.
    """
    with_metrics = {step: values for step, values in step_metrics.items() if values}
    if len(set(metrics_vars) | set(with_metrics)) <= 1:
        return {key: value for values in with_metrics.values() for key, value in values.items()}
    declaring = Counter(metrics_vars.values())
    prefixes = {step: var if declaring[var] == 1 else step for step, var in metrics_vars.items()}
    return {
        f"{prefixes.get(step, step)}.{key}": value
        for step, values in with_metrics.items()
        for key, value in values.items()
    }
