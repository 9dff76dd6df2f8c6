"""Model gates: the ``gates:`` section of pipeline.yaml, read and checked field by field.

::

    gates:
      metrics:                      # keys as in the run summary: `accuracy`, or
        accuracy:                   # `<metrics variable>.<key>` when several steps have --metrics
          min: 0.9                  # absolute thresholds (checked with or without a champion)
          max: 1.0
          greater_is_better: true   # default true
          min_improvement: 0.0      # over the champion, absolute; default 0 (never worse)
          min_relative_improvement: 0.01   # over the champion, relative (0.01 = 1 %)
      slices:                       # optional: per value of a column of the evaluation data
        column: group
        tolerance: 0.02             # max allowed regression versus the champion per slice
        metrics: [accuracy]         # optional subset of the gated metrics (default: all)
      promote: champion             # optional: move this alias to a validated version
      models:                       # optional: gates of one registered model (model_names.py)
        regression-ridge:           # metrics, slices, promote as above; they add to (and
          metrics:                  # override) the gates above that depend on this model
            ridge_eval.rmse: {max: 10, greater_is_better: false}

A gate under ``metrics`` applies to every model its metric depends on; with several
``--metrics`` steps its key is ``<metrics variable>.<key>``, or ``<step>.<key>`` when
several steps declare the same variable (as the run summary names metrics).

This module only reads the section; ``decision.py`` decides, ``rescoring.py`` re-scores
the champion on the run's evaluation data, and ``champion.py`` (called by the after-run link
in ``link.py``) runs the gates after a registration and records the outcome.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.errors import GateConfigError
from jupyter_mlops.pipeline.pipeline_file import PipelineFile

VALIDATED = "validated"
REJECTED = "rejected"
SECTION_KEYS = ("metrics", "slices", "promote", "models")
MODEL_KEYS = ("metrics", "slices", "promote")
METRIC_KEYS = ("min", "max", "greater_is_better", "min_improvement", "min_relative_improvement")
SLICE_KEYS = ("column", "tolerance", "metrics")
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_RESERVED_ALIASES = ("challenger", "latest")


@dataclass(frozen=True)
class MetricGate:
    """The gate on one metric: ``name`` in the dict of the ``--metrics`` step ``step``."""

    key: str
    step: str
    name: str
    min: float | None = None
    max: float | None = None
    greater_is_better: bool = True
    min_improvement: float | None = None
    min_relative_improvement: float | None = None
    models: tuple[str, ...] = ()  # the --model steps this metric depends on

    def improvement(self, value: float, champion: float) -> float:
        """How much better ``value`` is than ``champion`` (negative: worse)."""
        return value - champion if self.greater_is_better else champion - value


@dataclass(frozen=True)
class SliceGate:
    """Per-slice regression limit: slices are the values of ``column``."""

    column: str
    tolerance: float
    metrics: tuple[str, ...]  # gate keys checked per slice


@dataclass(frozen=True)
class GateConfig:
    """The parsed ``gates:`` section."""

    metrics: dict[str, MetricGate]
    slices: SliceGate | None = None
    promote: str | None = None
    models: dict[str, GateConfig] = field(default_factory=dict)  # model step -> its own gates

    def for_model(self, model_step: str) -> GateConfig | None:
        """The gates of the model of ``model_step``: the gates on metrics that depend on it,
        then its own (``gates.models.<name>``); None when there are none."""
        metrics = {k: g for k, g in self.metrics.items() if model_step in g.models}
        slices = self.slices
        if slices is not None:
            kept = tuple(k for k in slices.metrics if k in metrics)
            slices = SliceGate(slices.column, slices.tolerance, kept) if kept else None
        own = self.models.get(model_step)
        if own is not None:
            metrics |= own.metrics
            slices = own.slices or slices
        if not metrics:
            return None
        return GateConfig(metrics, slices, own.promote if own and own.promote else self.promote)

    def metrics_steps(self) -> list[str]:
        """The ``--metrics`` steps gated on, in the order the gates name them."""
        return list(dict.fromkeys(g.step for g in self.metrics.values()))


def read_gates(pipeline_file: PipelineFile) -> GateConfig | None:
    """The ``gates:`` section of pipeline.yaml, checked; None when absent or empty.

    ``GateConfigError`` (exit 2) names the field that is wrong.
    """
    section = pipeline_file.settings.get("gates")
    if section is None or section == {}:
        return None
    return _Parser(pipeline_file).config(section)


class _Parser:
    def __init__(self, pipeline_file: PipelineFile) -> None:
        self.file = pipeline_file
        self.pipeline = pipeline_file.pipeline
        self.metrics_vars = {s.name: s.metrics for s in self.pipeline.steps if s.metrics}

    def fail(self, name: str, problem: str) -> GateConfigError:
        return GateConfigError(f"field '{name}' {problem}", path=str(self.file.path), name=name)

    def mapping(self, value: Any, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a mapping, not {type(value).__name__}")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{name}.{key}", f"is unknown (expected one of: {', '.join(allowed)})"
                )
        return value

    def number(self, data: dict[str, Any], key: str, name: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(f"{name}.{key}", f"must be a number, not {value!r}")
        return float(value)

    def config(self, section: Any) -> GateConfig:
        if isinstance(section, dict) and not {"metrics", "models"} & set(section):
            stray = [k for k in section if k not in SECTION_KEYS]
            if stray:
                raise self.fail(
                    f"gates.{stray[0]}",
                    f"is unknown (expected one of: {', '.join(SECTION_KEYS)}; "
                    "gates on metrics go under gates.metrics)",
                )
            raise self.fail("gates.metrics", "is missing: name at least one metric to gate on")
        data = self.mapping(section, "gates", SECTION_KEYS)
        if not self.metrics_vars:
            raise self.fail("gates", "needs a step with --metrics, and this pipeline has none")
        gates = self.metric_gates(data.get("metrics"), "gates.metrics", "models" not in data)
        slices = None
        if data.get("slices") is not None:
            slices = self.slices(data["slices"], gates, "gates.slices")
        promote = self.promote(data.get("promote"), "gates.promote")
        return GateConfig(gates, slices, promote, self.models(data.get("models")))

    def metric_gates(self, value: Any, name: str, required: bool) -> dict[str, MetricGate]:
        """The gates of a ``metrics`` mapping (``name`` is its field)."""
        if value is None and not required:
            return {}
        if not isinstance(value, dict) or not value:
            raise self.fail(name, "must map at least one metric to its gate")
        return {str(key): self.metric(str(key), gate, name) for key, gate in value.items()}

    def models(self, value: Any) -> dict[str, GateConfig]:
        """``gates.models``: registered model name → its gates, keyed by its model step."""
        if value is None:
            return {}
        if not isinstance(value, dict) or not value:
            raise self.fail("gates.models", "must map a registered model name to its gates")
        from jupyter_mlops.pipeline.model_names import model_names

        steps = {name: step for step, name in model_names(self.pipeline).items()}
        configs: dict[str, GateConfig] = {}
        for name, section in value.items():
            where = f"gates.models.{name}"
            step = steps.get(str(name))
            if step is None:
                known = ", ".join(steps) or "none: no step has --model"
                raise self.fail(where, f"names no model of this pipeline (its models: {known})")
            data = self.mapping(section, where, MODEL_KEYS)
            gates = self.metric_gates(data.get("metrics"), f"{where}.metrics", True)
            for key, gate in gates.items():
                if step not in gate.models:
                    raise self.fail(
                        f"{where}.metrics.{key}",
                        f"is computed by step '{gate.step}', which does not depend on model "
                        f"'{name}' (step '{step}')",
                    )
            slices = None
            if data.get("slices") is not None:
                slices = self.slices(data["slices"], gates, f"{where}.slices")
            promote = self.promote(data.get("promote"), f"{where}.promote")
            configs[step] = GateConfig(gates, slices, promote)
        return configs

    def metric(self, key: str, value: Any, section: str) -> MetricGate:
        name = f"{section}.{key}"
        data = self.mapping(value if value is not None else {}, name, METRIC_KEYS)
        step, metric_name = self.resolve_key(key, name)
        gib = data.get("greater_is_better", True)
        if not isinstance(gib, bool):
            raise self.fail(f"{name}.greater_is_better", f"must be true or false, not {gib!r}")
        low, high = self.number(data, "min", name), self.number(data, "max", name)
        if low is not None and high is not None and low > high:
            raise self.fail(f"{name}.min", f"({low:g}) is greater than max ({high:g})")
        models = self.model_steps(step)
        if not models:
            raise self.fail(name, f"is computed by step '{step}', which depends on no --model step")
        return MetricGate(
            key=key,
            step=step,
            name=metric_name,
            min=low,
            max=high,
            greater_is_better=gib,
            min_improvement=self.number(data, "min_improvement", name),
            min_relative_improvement=self.number(data, "min_relative_improvement", name),
            models=models,
        )

    def resolve_key(self, key: str, name: str) -> tuple[str, str]:
        """(metrics step, key in its dict) of a gate key, as the run summary names metrics:
        ``<variable>.<key>``, or ``<step>.<key>`` (the only form for a variable several
        steps declare)."""
        prefix, dot, rest = key.partition(".")
        declaring = Counter(self.metrics_vars.values())
        for step, var in self.metrics_vars.items():
            if dot and rest and (prefix == step or (prefix == var and declaring[var] == 1)):
                return step, rest
        if len(self.metrics_vars) == 1:
            return next(iter(self.metrics_vars)), key
        options = ", ".join(
            f"{var if declaring[var] == 1 else step}.<key>"
            for step, var in self.metrics_vars.items()
        )
        raise self.fail(name, f"must name its --metrics variable or step, as in: {options}")

    def model_steps(self, step: str) -> tuple[str, ...]:
        """The ``--model`` steps that ``step`` depends on (directly or not)."""
        found: set[str] = {step}  # a step may train the model and compute its metrics
        todo = [step]
        while todo:
            for parent in self.pipeline.step(todo.pop()).upstream():
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return tuple(s.name for s in self.pipeline.steps if s.name in found and s.model)

    def slices(self, value: Any, gates: dict[str, MetricGate], where: str) -> SliceGate:
        data = self.mapping(value, where, SLICE_KEYS)
        column = data.get("column")
        if not isinstance(column, str) or not column:
            raise self.fail(f"{where}.column", f"must be a column name, not {column!r}")
        tolerance = self.number(data, "tolerance", where)
        if tolerance is None or tolerance < 0:
            raise self.fail(f"{where}.tolerance", "must be a number ≥ 0")
        names = data.get("metrics", list(gates))
        if not isinstance(names, list) or not names:
            raise self.fail(f"{where}.metrics", "must be a non-empty list of gated metrics")
        metrics_field = where.rpartition(".")[0] + ".metrics"
        for metric in names:
            if metric not in gates:
                raise self.fail(
                    f"{where}.metrics", f"names '{metric}', which is not in {metrics_field}"
                )
        return SliceGate(column, tolerance, tuple(str(n) for n in names))

    def promote(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _ALIAS.fullmatch(value):
            raise self.fail(where, f"must be an alias name, not {value!r}")
        if value in _RESERVED_ALIASES:
            raise self.fail(where, f"cannot be '{value}' (set by the gates themselves)")
        return value
