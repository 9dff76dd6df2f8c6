"""Infer each step's inputs (with producers), outputs, parameters and setup code.

Notebook semantics are the spec: walking the cells top to bottom, a name a step reads
resolves to whatever defined it most recently before that cell — a step (an input), the
parameters cell, setup code, an import made by a step — else to a builtin.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.authoring.cells import (
    SETUP_RULE,
    LeftOutCell,
    NotebookPart,
    ParamsCell,
    SetupCell,
    StepCell,
)
from jupyter_mlops.authoring.sink_results import step_results
from jupyter_mlops.errors import DependencyError, MlopsError, StepDeclarationError
from jupyter_mlops.pipeline.model import SetupName, Step

NOTEBOOK_BUILTINS = frozenset(dir(builtins)) | {"get_ipython", "In", "Out", "exit", "quit"}
IMPLICIT_IMPORTS = {"display": "from IPython.display import display"}
"""Names IPython provides that a plain module must import."""


@dataclass(frozen=True)
class Definer:
    """Where the current value of a name comes from, at some point in the notebook."""

    kind: str  # "step" | "param" | "setup" | "step_import" | "deleted"
    cell: int
    step: str | None = None
    setup: SetupName | None = None
    statement: str = ""


@dataclass
class Resolution:
    """The result of walking the notebook: steps with their dependencies, and what else it found."""

    steps: list[Step] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    params_cell: int | None = None
    setup_code: list[tuple[int, str]] = field(default_factory=list)
    setup_names: dict[str, SetupName] = field(default_factory=dict)
    left_out: list[int] = field(default_factory=list)
    errors: list[MlopsError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Resolver:
    def __init__(self, parts: list[NotebookPart]) -> None:
        self.parts = parts
        self.result = Resolution()
        self.defined: dict[str, Definer] = {}
        self.setup_reads: dict[str, set[str]] = {}
        self.left_out_writes: dict[str, int] = {}
        self.left_out_parts: dict[int, LeftOutCell] = {}
        self.changed_by_left_out: dict[str, int] = {}
        self.reported_changes: set[tuple[int, str]] = set()
        self.blocked_reads: dict[int, list[tuple[str, Step]]] = {}  # left-out cell -> reads
        self.steps: dict[str, Step] = {}
        self.consumed: dict[str, set[str]] = {}
        self.assigned: dict[str, list[str]] = {}  # step -> what its cell writes, in order
        self.first_definition = _first_definitions(parts)
        self.step_writers = _step_writers(parts)

    def run(self) -> Resolution:
        for part in self.parts:
            if isinstance(part, StepCell):
                self._step(part)
            elif isinstance(part, ParamsCell):
                self._params(part)
            elif isinstance(part, SetupCell):
                self._setup(part)
            else:
                self._left_out(part)
        self._blocked_setup_errors()
        self._finish_outputs()
        return self.result

    def _params(self, part: ParamsCell) -> None:
        if self.result.params_cell is not None:
            self._error(
                f"a second cell tagged 'parameters'; cell {self.result.params_cell} is the first",
                cell=part.cell,
            )
            return
        self.result.params = dict(part.params)
        self.result.params_cell = part.cell
        for name in part.params:
            self.defined[name] = Definer("param", part.cell)

    def _setup(self, part: SetupCell) -> None:
        self.result.setup_code.append((part.cell, part.code))
        self.result.setup_names.update(part.names)
        self.setup_reads.update(part.reads)
        for name, setup in part.names.items():
            self.defined[name] = Definer("setup", part.cell, setup=setup, statement=setup.statement)

    def _left_out(self, part: LeftOutCell) -> None:
        self.result.left_out.append(part.cell)
        self.left_out_parts[part.cell] = part
        for name in part.writes:
            self.left_out_writes[name] = part.cell
            definer = self.defined.get(name)
            if definer is not None and definer.kind == "step":
                self.changed_by_left_out[name] = part.cell

    def _step(self, part: StepCell) -> None:
        options = part.options
        if options.name in self.steps:
            other = self.steps[options.name].cell
            self._error(
                f"step name '{options.name}' is already used by cell {other}",
                part.cell,
                step=options.name,
                name=options.name,
            )
            return
        step = Step(
            name=options.name,
            cell=part.cell,
            code=part.code,
            model=options.model,
            model_name=options.model_name,
            metrics=options.metrics,
            no_cache=options.no_cache,
            resources=dict(options.resources or {}),
        )
        self.steps[step.name] = step
        self.result.steps.append(step)
        context = _StepContext(step, part)
        for name in part.analysis.reads:
            self._resolve_read(name, context)
        for name in options.inputs or ():
            self._resolve_declared_input(name, context)
        step.params = sorted(context.params)
        step.setup = sorted(context.setup)
        step.setup_params = sorted(context.setup_params)
        step.imports = sorted(context.imports, key=lambda s: (s.startswith("from "), s))
        self._record_writes(part, step)

    def _resolve_read(self, name: str, context: _StepContext) -> None:
        step = context.step
        definer = self.defined.get(name)
        if definer is None or definer.kind == "deleted":
            if name in IMPLICIT_IMPORTS:
                context.imports.add(IMPLICIT_IMPORTS[name])
            elif name not in NOTEBOOK_BUILTINS:
                self._undefined(name, step, definer)
            return
        if definer.kind == "step":
            if context.part.options.inputs is None:
                self._take_input(name, definer, step)
            elif name not in context.part.options.inputs:
                self.result.warnings.append(
                    f"cell {step.cell}, step '{step.name}': reads '{name}' (from step "
                    f"'{definer.step}') but its --inputs does not list it"
                )
        elif definer.kind == "step_import":
            context.imports.add(definer.statement)
        elif definer.kind == "param":
            context.params.add(name)
        else:
            self._use_setup(name, definer, context)

    def _use_setup(self, name: str, definer: Definer, context: _StepContext) -> None:
        setup = definer.setup
        assert setup is not None
        if setup.kind == "import":
            context.imports.add(setup.statement)
            return
        if name in context.setup:
            return
        context.setup.add(name)
        for read in sorted(self.setup_reads.get(name, ())):
            self._resolve_setup_read(read, name, definer.cell, context)

    def _resolve_setup_read(self, name: str, user: str, cell: int, context: _StepContext) -> None:
        """A global read by setup function ``user``, resolved when a step calls it."""
        definer = self.defined.get(name)
        if definer is not None and definer.kind == "param":
            context.params.add(name)
            context.setup_params.add(name)
        elif definer is not None and definer.kind == "setup":
            assert definer.setup is not None
            if definer.setup.kind != "import":
                self._use_setup(name, definer, context)
        elif definer is None and self._blocked_setup(name, context.step):
            return
        elif definer is not None or name not in NOTEBOOK_BUILTINS | IMPLICIT_IMPORTS.keys():
            where = (
                f"step '{definer.step}' writes it"
                if definer is not None and definer.step
                else "no parameter or setup code defines it"
            )
            self._error(
                f"setup function '{user}' (cell {cell}) reads the global '{name}', but {where}; "
                f"pass it to '{user}' as an argument",
                context.step.cell,
                step=context.step.name,
                name=name,
            )

    def _take_input(self, name: str, definer: Definer, step: Step) -> None:
        assert definer.step is not None
        step.inputs[name] = definer.step
        self.consumed.setdefault(definer.step, set()).add(name)
        changed_in = self.changed_by_left_out.get(name)
        if changed_in is not None and (changed_in, name) not in self.reported_changes:
            self.reported_changes.add((changed_in, name))
            self.result.errors.append(
                DependencyError(
                    f"changes '{name}' between step '{definer.step}' (cell {definer.cell}), "
                    f"which writes it, and step '{step.name}' (cell {step.cell}), which reads "
                    f"it, but is not a step: the pipeline would give step '{step.name}' the "
                    f"value step '{definer.step}' wrote, not the one the notebook computes. "
                    f"Mark cell {changed_in} with %%mlstep NAME, or move it below the steps "
                    f"that read '{name}'",
                    cell=changed_in,
                    name=name,
                )
            )

    def _resolve_declared_input(self, name: str, context: _StepContext) -> None:
        definer = self.defined.get(name)
        if definer is not None and definer.kind != "step":
            return
        if definer is None:
            later = [s for cell, s in self.step_writers.get(name, []) if cell > context.step.cell]
            if not later:
                self._error(
                    f"--inputs names '{name}', but no step writes it",
                    context.step.cell,
                    step=context.step.name,
                    name=name,
                )
                return
            definer = Definer("step", 0, step=later[0])
        self._take_input(name, definer, context.step)

    def _record_writes(self, part: StepCell, step: Step) -> None:
        analysis = part.analysis
        writes = list(part.options.outputs) if part.options.outputs is not None else analysis.writes
        self.assigned[step.name] = list(writes)
        step.results = step_results(step, part.code, writes) if part.options.outputs is None else []
        for option, variable in (("--model", step.model), ("--metrics", step.metrics)):
            if variable is not None and variable not in writes:
                self._error(
                    f"{option} names '{variable}', but the step does not assign it",
                    part.cell,
                    step=step.name,
                    name=variable,
                )
        for name in writes:
            if name in analysis.imports and part.options.outputs is None:
                self.defined[name] = Definer(
                    "step_import", part.cell, statement=analysis.imports[name]
                )
            elif not self._is_module_attribute_change(name, analysis.mutated):
                self.defined[name] = Definer("step", part.cell, step=step.name)
                self.changed_by_left_out.pop(name, None)
        for name in analysis.deleted:
            self.defined[name] = Definer("deleted", part.cell, step=step.name)
        step.outputs.extend(o for o in (step.model, step.metrics) if o)
        step.outputs.extend(part.options.outputs or ())

    def _is_module_attribute_change(self, name: str, mutated: list[str]) -> bool:
        """``pd.options.x = 1`` or ``np.random.shuffle(...)`` change a module, not data."""
        definer = self.defined.get(name)
        if name not in mutated or definer is None:
            return False
        if definer.kind == "step_import":
            return True
        return definer.setup is not None and definer.setup.kind in ("import", "def")

    def _blocked_setup(self, name: str, step: Step) -> bool:
        """True (and noted) when a left-out cell would define ``name`` if it were setup code."""
        cell = self.left_out_writes.get(name)
        part = self.left_out_parts.get(cell) if cell is not None else None
        if part is None or not part.blockers or name not in part.setup_names:
            return False
        self.blocked_reads.setdefault(part.cell, []).append((name, step))
        return True

    def _blocked_setup_errors(self) -> None:
        """One error per cell that is not setup code only because of some lines."""
        for cell, reads in self.blocked_reads.items():
            blockers = self.left_out_parts[cell].blockers
            shown = [f"{line} (`{text}`)" for line, text in blockers[:3]]
            if len(blockers) > 3:
                shown.append(f"{len(blockers) - 3} more")
            lines = f"line {shown[0]}" if len(blockers) == 1 else f"lines {_listing(shown)}"
            names = list(dict.fromkeys(name for name, _ in reads))
            steps = list(dict.fromkeys(f"'{step.name}' (cell {step.cell})" for _, step in reads))
            quoted = [f"'{name}'" for name in names[:5]]
            if len(names) > 5:
                quoted.append(f"{len(names) - 5} more")
            moved = "that line to its own cell"
            if len(blockers) > 1:
                moved = "those lines to a cell of their own"
            self.result.errors.append(
                DependencyError(
                    f"not setup code because of {lines}: setup cells hold only imports, "
                    f"definitions and literal constants — move {moved}. "
                    f"{'Step' if len(steps) == 1 else 'Steps'} {_listing(steps)} "
                    f"{'reads' if len(steps) == 1 else 'read'} {_listing(quoted)}, which "
                    "this cell defines",
                    cell=cell,
                    name=names[0],
                )
            )

    def _undefined(self, name: str, step: Step, definer: Definer | None) -> None:
        if definer is None and self._blocked_setup(name, step):
            return
        message = f"reads '{name}', which no earlier step, parameter or setup code defines"
        left_out = self.left_out_writes.get(name)
        later = self.first_definition.get(name)
        if definer is not None and definer.kind == "deleted":
            message += f" (step '{definer.step}' in cell {definer.cell} deletes it with del)"
        elif left_out is not None:
            message += (
                f" (only cell {left_out}, which is not a step, defines it: mark that cell with "
                f"%%mlstep, or move the definition into setup code — {SETUP_RULE})"
            )
        elif later is not None and later > step.cell:
            message += f" (it is first defined later, in cell {later})"
        self._error(message, step.cell, step=step.name, name=name)

    def _error(
        self, message: str, cell: int, step: str | None = None, name: str | None = None
    ) -> None:
        cls = StepDeclarationError if "step name" in message else DependencyError
        self.result.errors.append(cls(message, cell=cell, step=step, name=name))

    def _finish_outputs(self) -> None:
        """Outputs in the order the cell first assigns them: the step function's return order.
        A sink step (no later step reads from it) also returns its results."""
        for step in self.result.steps:
            step.results = [] if step.name in self.consumed else step.results
            wanted = set(step.outputs) | self.consumed.get(step.name, set()) | set(step.results)
            assigned = self.assigned.get(step.name, [])
            step.outputs = [n for n in assigned if n in wanted] + sorted(wanted - set(assigned))
            step.inputs = dict(sorted(step.inputs.items()))


@dataclass
class _StepContext:
    """What resolving one step collects besides its inputs."""

    step: Step
    part: StepCell
    params: set[str] = field(default_factory=set)
    setup: set[str] = field(default_factory=set)
    setup_params: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)


def _first_definitions(parts: list[NotebookPart]) -> dict[str, int]:
    first: dict[str, int] = {}
    for part in parts:
        for name in _names_defined(part):
            first.setdefault(name, part.cell)
    return first


def _names_defined(part: NotebookPart) -> list[str]:
    if isinstance(part, StepCell):
        return list(part.options.outputs or part.analysis.writes)
    if isinstance(part, ParamsCell):
        return list(part.params)
    if isinstance(part, SetupCell):
        return list(part.names)
    return list(part.writes)


def _step_writers(parts: list[NotebookPart]) -> dict[str, list[tuple[int, str]]]:
    writers: dict[str, list[tuple[int, str]]] = {}
    for part in parts:
        if isinstance(part, StepCell):
            for name in _names_defined(part):
                writers.setdefault(name, []).append((part.cell, part.options.name))
    return writers


def _listing(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def resolve_dependencies(parts: list[NotebookPart]) -> Resolution:
    """Walk the classified cells in order and fill in every step's dependencies."""
    return _Resolver(parts).run()
