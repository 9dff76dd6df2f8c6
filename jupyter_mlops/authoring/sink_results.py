"""The final values a sink step (one no later step reads from) keeps as the run's results.

The rule (also in docs/authoring.md): a sink step keeps each name its cell assigns at the top
level with ``name = …`` or ``name: T = …``, in the order first assigned, except

- names starting with ``_``;
- names the cell also binds otherwise: loop, ``with``, ``except`` and ``match`` targets,
  imports, functions and classes (comprehension variables never reach the cell's scope;
  ``a, b = …`` unpacking is not a plain assignment either);
- intermediates: names a later top-level statement of the cell reads after their last
  assignment or in-place change, unless that statement is an expression changing nothing:
  reading a name in ``print(x)``, ``x.head()`` or the last line's display shows it, while an
  assignment, a loop, an ``if`` or ``rows.append(x)`` consumes it;
- except that a name the cell's last line displays (``summary``, ``summary, best``,
  ``summary.head()``) is always kept.
"""

from __future__ import annotations

import ast

from jupyter_mlops.authoring.analysis import analyze_tree, parse_cell
from jupyter_mlops.pipeline.model import Step

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def sink_results(code: str) -> list[str]:
    """The names a sink step with this cell code keeps, in the order the cell assigns them."""
    body = parse_cell(code)[0].body
    candidates = [name for name in _assigned_names(body) if not name.startswith("_")]
    shown = _shown_by_last_line(body)
    effects = [analyze_tree(ast.Module(body=[statement], type_ignores=[])) for statement in body]
    kept = []
    for name in candidates:
        if _bound_otherwise(name, body):
            continue
        last_write = max(i for i, effect in enumerate(effects) if name in effect.writes)
        consumed = any(
            name in effect.reads and _consumes(statement, effect.writes)
            for statement, effect in zip(
                body[last_write + 1 :], effects[last_write + 1 :], strict=True
            )
        )
        if name in shown or not consumed:
            kept.append(name)
    return kept


def _assigned_names(body: list[ast.stmt]) -> list[str]:
    """Names bound by a top-level ``name = …`` / ``name: T = …``, first assignment first."""
    names: list[str] = []
    for statement in body:
        for name in _statement_targets(statement):
            if name not in names:
                names.append(name)
    return names


def _statement_targets(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Assign):
        return [t.id for t in statement.targets if isinstance(t, ast.Name)]
    if isinstance(statement, ast.AnnAssign) and statement.value is not None:
        return [statement.target.id] if isinstance(statement.target, ast.Name) else []
    return []


def _bound_otherwise(name: str, body: list[ast.stmt]) -> bool:
    """True when the cell also binds ``name`` other than by assigning it: a loop, with,
    except or match target, an import, a function or class (nested scopes aside)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if _binds_otherwise(node, name):
            return True
        if not isinstance(node, _NESTED_SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _binds_otherwise(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.For | ast.AsyncFor):
        return name in _target_names(node.target)
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return name in _target_names(node.optional_vars)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any((a.asname or a.name.split(".")[0]) == name for a in node.names)
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return node.name == name
    return False


def _target_names(target: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _consumes(statement: ast.stmt, writes: list[str]) -> bool:
    """Whether reading a name in ``statement`` feeds another value (not only shows it)."""
    return not isinstance(statement, ast.Expr) or bool(writes)


def _shown_by_last_line(body: list[ast.stmt]) -> set[str]:
    """Names the cell's last line displays: ``x``, ``x, y`` or a view such as ``x.head()``."""
    if not body or not isinstance(body[-1], ast.Expr):
        return set()
    value = body[-1].value
    items = value.elts if isinstance(value, ast.Tuple) else [value]
    return {name for name in map(_displayed_name, items) if name is not None}


def _displayed_name(node: ast.expr) -> str | None:
    """The variable at the root of ``x``, ``x.T``, ``x["a"]`` or ``x.sort_values("a").head()``."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value  # a method call: x.head()
        elif isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        else:
            break
    return node.id if isinstance(node, ast.Name) else None


def step_results(step: Step, code: str, writes: list[str]) -> list[str]:
    """:func:`sink_results` of a step's cell that it still holds at its end (``writes``),
    without its ``--model`` / ``--metrics`` variables (kept and shown as such already)."""
    declared = (step.model, step.metrics)
    return [name for name in sink_results(code) if name in writes and name not in declared]
