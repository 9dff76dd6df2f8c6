"""Setup code that reads pipeline parameters, made to read the values of the calling step.

In the notebook a setup function reads a parameter such as ``threshold`` as a global. In
``common.py`` each function (or method) that reads one starts with
``threshold = runtime.parameter("threshold", 0.5)``: the value the calling step passes with
``with runtime.parameters(threshold=threshold):``, else the default. Nothing else of the
setup code changes, and no module global is ever assigned at run time, so steps of runs with
different values can share the module in one process. A parameter read while the setup code
itself runs (a default argument, a decorator, a class body) stays a module global holding its
default, as it is on import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from jupyter_mlops.authoring.analysis import nested_effects, scope_bindings
from jupyter_mlops.errors import DependencyError
from jupyter_mlops.pipeline.model import Pipeline

RUNTIME = "runtime"
RUNTIME_ALIAS = "jupyter_mlops_runtime"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def runtime_name(codes: Iterable[str]) -> str:
    """How generated code names ``jupyter_mlops.runtime``: ``runtime``, unless ``codes`` use
    that name themselves."""
    for code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        if RUNTIME in identifiers(tree):
            return RUNTIME_ALIAS
    return RUNTIME


def runtime_import(name: str) -> str:
    """The import line of ``jupyter_mlops.runtime`` under ``name``."""
    return "from jupyter_mlops import runtime" + (f" as {name}" if name != RUNTIME else "")


def identifiers(tree: ast.AST) -> set[str]:
    """Every name ``tree`` binds, reads or declares."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
    return found


def parameters_read(pipeline: Pipeline) -> set[str]:
    """The parameters setup code reads as parameters: those a step's setup functions read,
    and those the setup code reads without defining the name itself."""
    trees = [_parse(code) for _, code in pipeline.setup_code]
    defined = set().union(*(scope_bindings(tree.body) for tree in trees if tree is not None))
    through_steps = {name for step in pipeline.steps for name in step.setup_params}
    return {name for name in pipeline.params if name in through_steps or name not in defined}


def read_parameters_per_call(
    cell: int, code: str, names: set[str], defaults: dict[str, Any], runtime: str
) -> tuple[str, set[str]]:
    """``code`` with a ``name = runtime.parameter(...)`` line at the top of every function
    reading one of ``names`` as a global; and the ``names`` read when the code runs."""
    from jupyter_mlops.extract.step_notebook import literal

    tree = _parse(code)
    if tree is None or not names:
        return code, set()
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[str]]] = []
    at_import = _collect(tree.body, names, functions)
    for node in ast.walk(tree):
        if isinstance(node, _FUNCTIONS):
            _refuse_global_parameter(cell, node, names)
    lines = code.split("\n")
    for function, read in sorted(functions, key=lambda item: item[0].lineno, reverse=True):
        statements = [
            f"{name} = {runtime}.parameter({name!r}, {literal(defaults.get(name))})"
            for name in read
        ]
        _insert_at_top(lines, function, statements)
    return "\n".join(lines), at_import


def _collect(
    body: list[ast.stmt],
    names: set[str],
    functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[str]]],
) -> set[str]:
    """Find the functions and methods reading ``names`` as globals when called; return the
    ``names`` read while ``body`` runs (definition time)."""
    at_import: set[str] = set()
    for node in body:
        if isinstance(node, _FUNCTIONS):
            at_import |= _loaded(_definition_parts(node)) & names
            read = sorted(nested_effects(node).reads & names)
            if read:
                functions.append((node, read))
        elif isinstance(node, ast.ClassDef):
            at_import |= _loaded([*node.decorator_list, *node.bases, *node.keywords]) & names
            at_import |= _collect(node.body, names, functions)
        else:
            at_import |= _loaded([node]) & names
    return at_import


def _definition_parts(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    args = node.args
    parts: list[ast.AST] = [*node.decorator_list, *args.defaults]
    parts += [default for default in args.kw_defaults if default is not None]
    every = (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
    parts += [arg.annotation for arg in every if arg is not None and arg.annotation is not None]
    return parts + ([node.returns] if node.returns is not None else [])


def _refuse_global_parameter(
    cell: int, function: ast.FunctionDef | ast.AsyncFunctionDef, names: set[str]
) -> None:
    stack: list[ast.AST] = list(function.body)
    parameters: list[str] = []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            parameters += [name for name in node.names if name in names]
        elif not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    if parameters:
        raise DependencyError(
            f"setup function '{function.name}' declares 'global {parameters[0]}', but "
            f"'{parameters[0]}' is a pipeline parameter, which setup code can read but not "
            "assign: remove the global statement",
            cell=cell,
            name=parameters[0],
        )


def _insert_at_top(
    lines: list[str], function: ast.FunctionDef | ast.AsyncFunctionDef, statements: list[str]
) -> None:
    """Insert ``statements`` before the first statement of ``function`` after its docstring
    (``lines`` without their newlines; a body on the ``def`` line is moved below it)."""
    body = function.body
    has_docstring = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if has_docstring and len(body) == 1:  # nothing after the docstring reads anything
        return
    first = body[1] if has_docstring else body[0]
    index = first.lineno - 1
    before, rest = _split(lines[index], first.col_offset)
    if not before.strip():
        lines[index:index] = [before + statement for statement in statements]
        return
    indent = _indentation(lines[function.lineno - 1]) + "    "
    docstring_line = lines[body[0].lineno - 1]
    if has_docstring and not _split(docstring_line, body[0].col_offset)[0].strip():
        indent = _indentation(docstring_line)
    head = before.rstrip()
    head = head[:-1].rstrip() if head.endswith(";") else head
    lines[index : index + 1] = [head] + [indent + s for s in [*statements, rest]]


def _split(line: str, col_offset: int) -> tuple[str, str]:
    """``line`` split at an AST column (a UTF-8 byte offset)."""
    data = line.encode("utf-8")
    return data[:col_offset].decode("utf-8"), data[col_offset:].decode("utf-8")


def _indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _loaded(parts: Iterable[ast.AST]) -> set[str]:
    return {
        node.id
        for part in parts
        for node in ast.walk(part)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except SyntaxError:
        return None
