"""The gate decision: is a new model version validated or rejected, and why.

Pure logic over numbers: this run's metrics, the champion's re-scored metrics and per-slice
values (``rescoring.py``) against a ``GateConfig`` (``config.py``). Without a champion only
the absolute thresholds decide; with one, every gated metric must also improve on it by
``min_improvement`` (default 0: not worse) and/or ``min_relative_improvement``, and no
slice may regress by more than the slice tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.quality.gates.config import REJECTED, VALIDATED, GateConfig, MetricGate


@dataclass
class GateOutcome:
    """The decision on one model version (``to_json`` is the ``gates`` of ``run --json``)."""

    outcome: str
    version: str
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    champion: dict[str, Any] | None = None
    slices: dict[str, Any] | None = None
    aliases: list[str] = field(default_factory=list)  # aliases set on the version
    model: str = ""  # the registered model the version belongs to

    @property
    def validated(self) -> bool:
        return self.outcome == VALIDATED

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "outcome": self.outcome,
            "version": self.version,
            "reasons": list(self.reasons),
            "metrics": self.metrics,
            "champion": self.champion,
            "slices": self.slices,
            "aliases": list(self.aliases),
        }


def decide(
    config: GateConfig,
    version: str,
    new: dict[str, dict[str, float]],
    champion: dict[str, Any] | None,
    errors: list[str] | None = None,
) -> GateOutcome:
    """Validated or rejected, with every reason.

    ``new`` holds this run's metrics per ``--metrics`` step. ``champion`` is None without a
    champion (absolute thresholds alone decide), else ``{"version", "metrics": {step:
    {name: value}}, "slices": {value: {"new": {step: …}, "champion": {step: …}}}}``.
    ``errors`` (e.g. the champion could not be re-scored) are reasons to reject.
    """
    outcome = GateOutcome(VALIDATED, version, reasons=list(errors or []))
    champion_version = champion["version"] if champion else None
    champion_metrics: dict[str, float] = {}
    for key, gate in config.metrics.items():
        value = new.get(gate.step, {}).get(gate.name)
        old = (champion or {}).get("metrics", {}).get(gate.step, {}).get(gate.name)
        if old is not None:
            champion_metrics[key] = old
        outcome.metrics[key] = {"value": value, "champion": old}
        if value is None:
            outcome.reasons.append(f"{key}: step '{gate.step}' produced no metric '{gate.name}'")
            continue
        outcome.reasons += threshold_reasons(key, gate, value)
        if champion is not None and old is None and not errors:
            outcome.reasons.append(f"{key}: champion version {champion_version} has no value")
        if old is not None:
            outcome.reasons += champion_reasons(key, gate, value, old, champion_version)
    if champion is not None:
        outcome.champion = {"version": champion_version, "metrics": champion_metrics}
        if config.slices is not None and champion.get("slices"):
            outcome.slices = slice_report(config, champion["slices"], champion_version, outcome)
    if outcome.reasons:
        outcome.outcome = REJECTED
    return outcome


def threshold_reasons(key: str, gate: MetricGate, value: float) -> list[str]:
    """The absolute thresholds ``value`` misses."""
    reasons = []
    if gate.min is not None and value < gate.min:
        reasons.append(f"{key} {value:.4g} is below min {gate.min:g}")
    if gate.max is not None and value > gate.max:
        reasons.append(f"{key} {value:.4g} is above max {gate.max:g}")
    return reasons


def champion_reasons(
    key: str, gate: MetricGate, value: float, old: float, champion_version: str | None
) -> list[str]:
    """The improvements over the champion that ``value`` misses (default: not worse)."""
    reasons = []
    gain = gate.improvement(value, old)
    versus = f"champion version {champion_version} ({old:.4g})"
    required = gate.min_improvement
    if required is None and gate.min_relative_improvement is None:
        required = 0.0
    if required is not None and gain < required:
        rule = f"min_improvement {required:g}"
        reasons.append(compared(key, value, versus, gain, f"{gain:.4g}", rule, required == 0))
    relative = gate.min_relative_improvement
    if relative is not None:
        ratio = gain / abs(old) if old else (math.inf if gain > 0 else 0.0)
        if ratio < relative:
            rule = f"min_relative_improvement {relative:.2%}"
            reasons.append(compared(key, value, versus, ratio, f"{ratio:.2%}", rule, False))
    return reasons


def compared(
    key: str, value: float, versus: str, gain: float, shown: str, rule: str, plain: bool
) -> str:
    """``accuracy 0.88 is worse than champion version 3 (0.9) by 0.02 (rule)``, or
    ``… improves on … by only …``; ``plain`` leaves out the rule (the default one)."""
    if gain < 0:
        text = f"{key} {value:.4g} is worse than {versus} by {shown.lstrip('-')}"
    else:
        text = f"{key} {value:.4g} improves on {versus} by only {shown}"
    return text if plain else f"{text} ({rule})"


def slice_report(
    config: GateConfig,
    slices: dict[str, dict[str, dict[str, dict[str, float]]]],
    champion_version: str | None,
    outcome: GateOutcome,
) -> dict[str, Any]:
    """Per-slice values of both models; a regression beyond the tolerance is a reason."""
    assert config.slices is not None
    tolerance = config.slices.tolerance
    report: dict[str, Any] = {"column": config.slices.column, "tolerance": tolerance, "values": {}}
    for label, scores in slices.items():
        row: dict[str, Any] = {}
        for key in config.slices.metrics:
            gate = config.metrics[key]
            value = scores.get("new", {}).get(gate.step, {}).get(gate.name)
            old = scores.get("champion", {}).get(gate.step, {}).get(gate.name)
            row[key] = {"value": value, "champion": old}
            if value is None or old is None:
                continue
            loss = -gate.improvement(value, old)
            if loss > tolerance:
                outcome.reasons.append(
                    f"{key} in slice {config.slices.column}={label} regressed by {loss:.4g} "
                    f"versus champion version {champion_version} ({old:.4g} → {value:.4g}), "
                    f"more than tolerance {tolerance:g}"
                )
        report["values"][label] = row
    return report
