"""The pipeline model: what a notebook's marked cells mean, independent of any front end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.pipeline.resources import plain_amounts


@dataclass(frozen=True)
class SetupName:
    """A name the shared setup code defines: an import, a function/class or a literal constant."""

    name: str
    kind: str  # "import" | "def" | "const"
    cell: int
    statement: str = ""  # the import statement, for kind == "import"


@dataclass
class Step:
    """One pipeline step: a ``%%mlstep`` cell and what analysis found it reads and writes.

    ``inputs`` maps each variable to the step that produces it; ``outputs`` are the
    variables later steps (or the run) need from this one, in the order the cell first
    assigns them (the order the step function returns them). ``params`` are the
    pipeline parameters it reads, directly or through setup functions it calls
    (``setup_params`` are those read through setup functions);
    ``setup`` the setup definitions it uses (transitively); ``imports`` the import
    statements its code needs (from setup cells or earlier steps). ``results`` are the
    outputs a sink step (one no later step reads from) keeps as the run's results: its final
    values by the rule in ``authoring/sink_results.py``; they are also in ``outputs``.
    ``resources`` are what its ``--resources`` asks of a cluster worker (``pipeline/
    resources.py``: cpu in cores, memory in bytes).
    """

    name: str
    cell: int
    code: str
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    setup_params: list[str] = field(default_factory=list)
    model: str | None = None
    model_name: str | None = None  # --model-name: the registered model name, when given
    metrics: str | None = None
    no_cache: bool = False
    results: list[str] = field(default_factory=list)
    resources: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The step as ``jupyter mlops show --json`` prints it (``results`` only on a sink
        step that keeps some, ``resources`` only when its line declares some)."""
        shown: dict[str, Any] = {
            "name": self.name,
            "cell": self.cell,
            "inputs": dict(sorted(self.inputs.items())),
            "outputs": sorted(self.outputs),  # sorted: the contract predates the return order
            "params": list(self.params),
        }
        if self.results:
            shown["results"] = list(self.results)
        if self.resources:
            shown["resources"] = plain_amounts(self.resources)
        return shown

    def arguments(self) -> list[str]:
        """The step function's parameters: inputs sorted, then pipeline params sorted."""
        return sorted(self.inputs) + [p for p in sorted(self.params) if p not in self.inputs]

    def upstream(self) -> list[str]:
        """The steps this one depends on, sorted."""
        return sorted(set(self.inputs.values()))


@dataclass
class Pipeline:
    """A notebook's pipeline: parameters, shared setup code and steps in notebook order."""

    name: str
    notebook: str
    notebook_hash: str
    params: dict[str, Any] = field(default_factory=dict)
    params_cell: int | None = None
    setup_code: list[tuple[int, str]] = field(default_factory=list)
    setup_names: dict[str, SetupName] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The pipeline as ``jupyter mlops show --json`` prints it (a contract: keep its shape)."""
        return {
            "name": self.name,
            "params": dict(self.params),
            "steps": [step.to_json() for step in self.steps],
        }

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError when there is none)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def downstream(self, name: str) -> list[str]:
        """The steps that take an input from ``name``, in notebook order."""
        return [s.name for s in self.steps if name in s.inputs.values()]
