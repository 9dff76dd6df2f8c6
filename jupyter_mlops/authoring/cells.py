"""Sort a notebook's code cells into steps, the parameters cell, setup code and left-out cells."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.authoring import ipython_syntax
from jupyter_mlops.authoring.analysis import (
    CodeAnalysis,
    analyze_code,
    analyze_tree,
    import_bindings,
    nested_effects,
)
from jupyter_mlops.authoring.notebook_file import Cell
from jupyter_mlops.authoring.stepline import (
    StepOptions,
    is_step_cell,
    parse_step_line,
    split_step_cell,
)
from jupyter_mlops.errors import MlopsError, StepDeclarationError
from jupyter_mlops.pipeline.model import SetupName

SETUP_RULE = (
    "a cell is shared setup code only when it holds just imports, definitions and literal constants"
)


@dataclass
class StepCell:
    """A ``%%mlstep`` cell with its options and analysis."""

    cell: int
    options: StepOptions
    code: str
    analysis: CodeAnalysis


@dataclass
class ParamsCell:
    """The papermill ``parameters`` cell: each parameter with its literal default."""

    cell: int
    params: dict[str, Any]


@dataclass
class SetupCell:
    """A cell of imports, definitions and literal constants, shared by every step.

    ``reads`` maps each function/class it defines to the global names its body reads.
    """

    cell: int
    code: str
    names: dict[str, SetupName]
    reads: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class LeftOutCell:
    """A cell that is not part of the pipeline (EDA, plots); kept for error messages.

    ``blockers`` are the lines (number in the cell, text) that keep it from being setup
    code, and ``setup_names`` what its other statements (imports, definitions, literal
    constants) define: a step reading one of those would have it but for the blockers.
    """

    cell: int
    writes: list[str]
    blockers: list[tuple[int, str]] = field(default_factory=list)
    setup_names: set[str] = field(default_factory=set)


NotebookPart = StepCell | ParamsCell | SetupCell | LeftOutCell


def classify_cells(cells: list[Cell]) -> tuple[list[NotebookPart], list[MlopsError]]:
    """Classify every non-empty code cell; collect one error per bad cell instead of stopping."""
    parts: list[NotebookPart] = []
    errors: list[MlopsError] = []
    for cell in cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        try:
            parts.append(classify_cell(cell))
        except MlopsError as error:
            error.cell = cell.number
            errors.append(error)
    return parts, errors


def classify_cell(cell: Cell) -> NotebookPart:
    """What one code cell is for the pipeline."""
    if is_step_cell(cell.source):
        return _step_cell(cell)
    if "parameters" in cell.tags:
        return _params_cell(cell)
    try:
        tree = ast.parse(ipython_syntax.without_magic_lines(cell.source))
    except SyntaxError:
        return LeftOutCell(cell.number, _writes_of_unparsable(cell.source))
    if is_setup_code(tree):
        return _setup_cell(cell.number, ipython_syntax.without_magic_lines(cell.source), tree)
    return _left_out_cell(cell)


def _left_out_cell(cell: Cell) -> LeftOutCell:
    """A cell that is not setup code, with the lines that disqualify it (numbered as in the
    cell: IPython lines, which setup code may hold, are blanked rather than removed)."""
    part = LeftOutCell(cell.number, analyze_code(cell.source).writes)
    magic = set(ipython_syntax.magic_line_numbers(cell.source))
    lines = cell.source.splitlines()
    try:
        tree = ast.parse("\n".join("" if n in magic else line for n, line in enumerate(lines, 1)))
    except SyntaxError:
        return part
    blocking = [s for s in tree.body if not _is_setup_statement(s)]
    setup = [s for s in tree.body if _is_setup_statement(s)]
    if not setup:
        return part
    rebound = set(analyze_tree(ast.Module(body=blocking, type_ignores=[])).writes)
    part.setup_names = set(_setup_cell(cell.number, "", ast.Module(setup, [])).names) - rebound
    part.blockers = [(s.lineno, _line_text(lines, s)) for s in blocking]
    return part


def _line_text(lines: list[str], statement: ast.stmt) -> str:
    """The statement's first line, shortened for a message."""
    text = lines[statement.lineno - 1].strip()
    if statement.end_lineno != statement.lineno:
        text += " …"
    return text if len(text) <= 60 else text[:57] + "…"


def _writes_of_unparsable(source: str) -> list[str]:
    try:
        return analyze_code(source).writes
    except SyntaxError:
        return []


def _step_cell(cell: Cell) -> StepCell:
    args, body = split_step_cell(cell.source)
    options = parse_step_line(args)
    try:
        analysis = analyze_code(body)
    except SyntaxError as exc:
        line = (exc.lineno or 0) + 1
        raise StepDeclarationError(
            f"syntax error on line {line}: {exc.msg}", step=options.name
        ) from None
    return StepCell(cell.number, options, body, analysis)


def _params_cell(cell: Cell) -> ParamsCell:
    try:
        tree = ast.parse(ipython_syntax.without_magic_lines(cell.source))
    except SyntaxError as exc:
        raise MlopsError(f"parameters cell: syntax error on line {exc.lineno}: {exc.msg}") from None
    params: dict[str, Any] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        target, value = _simple_assignment(statement)
        if target is None or value is None:
            raise MlopsError(
                "parameters cell: only 'name = literal' assignments are allowed, found "
                f"'{ast.unparse(statement)}'"
            )
        try:
            params[target] = ast.literal_eval(value)
        except ValueError:
            raise MlopsError(
                f"parameters cell: parameter '{target}' needs a literal default "
                f"(number, string, bool, None, list, dict), not '{ast.unparse(value)}'",
                name=target,
            ) from None
    return ParamsCell(cell.number, params)


def _simple_assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return None, None


def is_setup_code(tree: ast.Module) -> bool:
    """True when every statement is an import, a definition, a literal constant or a docstring."""
    return all(_is_setup_statement(statement) for statement in tree.body)


def _is_setup_statement(statement: ast.stmt) -> bool:
    if isinstance(
        statement,
        ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    ):
        return not any(alias.name == "*" for alias in getattr(statement, "names", []))
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant)
    target, value = _simple_assignment(statement)
    if target is None or value is None:
        return False
    try:
        ast.literal_eval(value)
    except ValueError:
        return False
    return True


def _setup_cell(number: int, code: str, tree: ast.Module) -> SetupCell:
    names: dict[str, SetupName] = {}
    reads: dict[str, set[str]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            for bound, text in import_bindings(statement):
                names[bound] = SetupName(bound, "import", number, text)
        elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[statement.name] = SetupName(statement.name, "def", number)
            reads[statement.name] = _definition_reads(statement)
        else:
            target, _ = _simple_assignment(statement)
            if target is not None:
                names[target] = SetupName(target, "const", number)
    return SetupCell(number, code, names, reads)


def _definition_reads(statement: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    """Global names a setup function or class reads, at definition time or when called."""
    reads = set(nested_effects(statement).reads)
    reads |= {name.id for name in _definition_time_names(statement)}
    return reads - {statement.name}


def _definition_time_names(statement: ast.AST) -> list[ast.Name]:
    parts: list[ast.AST] = list(getattr(statement, "decorator_list", []))
    parts += list(getattr(statement, "bases", []))
    args = getattr(statement, "args", None)
    if args is not None:
        parts += list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    return [
        node
        for part in parts
        for node in ast.walk(part)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    ]
