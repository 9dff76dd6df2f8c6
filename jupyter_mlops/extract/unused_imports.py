"""Unused imports in a step's own code: marked ``# noqa: F401`` so that the generated
module passes ``ruff check`` without ignoring F401 for the whole package."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable

from jupyter_mlops.authoring.analysis import import_bindings

WHOLE_FILE_NOQA_REASON = "An import the step may not use shares its line with other code"


def mark_unused_imports(
    body: str, outputs: Iterable[str], level: int, line_length: int
) -> tuple[str, bool]:
    """The body with ``# noqa: F401`` on the user's own import statements it may not use.

    A binding counts as used only when the body binds that name nowhere else and reads it
    (or returns it); anything less certain is marked, since a needless noqa is harmless.
    The mark goes where it survives ``ruff format``. Returns (body, whole_file): True when
    an import could not be marked alone (``if c: import os; x = 1``), so the module needs a
    file-wide exemption for F401.
    """
    tree = ast.parse(body)
    bound = Counter(_bindings(tree))
    used = loaded_names(tree) | set(outputs)
    marks: list[tuple[ast.Import | ast.ImportFrom, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names = [name for name, _ in import_bindings(node)]
        if names and all(bound[n] == 1 and n in used for n in names):
            continue
        marks.append((node, "F401, F811" if any(bound[n] > 1 for n in names) else "F401"))
    lines = body.split("\n")
    for number in _redefinition_lines(tree, {n for n, count in bound.items() if count > 1}):
        if not lines[number - 1].rstrip().endswith("\\"):
            lines[number - 1] += "  # noqa: F811"
    whole_file = False
    simple_lines = _simple_statement_lines(tree, lines)
    for node, codes in sorted(marks, key=lambda m: (m[0].lineno, m[0].col_offset), reverse=True):
        splittable = node.lineno in simple_lines
        whole_file |= not _mark_import(
            lines, node, f"  # noqa: {codes}", level, splittable, line_length
        )
    return "\n".join(lines), whole_file


def _simple_statement_lines(tree: ast.Module, lines: list[str]) -> set[int]:
    """Lines that start with a simple statement: what follows a ``;`` there may go on a line
    of its own (not so after ``if c:`` on the same line)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not hasattr(node, "body"):
            line = lines[node.lineno - 1]
            if node.col_offset == len(line.encode()) - len(line.lstrip().encode()):
                found.add(node.lineno)
    return found


def _mark_import(
    lines: list[str],
    node: ast.Import | ast.ImportFrom,
    noqa: str,
    level: int,
    splittable: bool,
    line_length: int,
) -> bool:
    """Put ``noqa`` where ruff reads it for this import after formatting; False if it cannot."""
    start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    end_col = node.end_col_offset or 0
    before = lines[start].encode()[: node.col_offset].decode()
    after = lines[end].encode()[end_col:].decode()
    segment = "\n".join(lines[start : end + 1]).encode()
    tail = len(lines[end].encode()) - end_col
    text = segment[node.col_offset : len(segment) - tail].decode()
    alone = after.strip()[:1] in ("", "#")
    if not alone and splittable:  # `import os; x = 1`: the rest goes on a line of its own
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        lines[end] = lines[end].encode()[:end_col].decode()
        lines.insert(end + 1, indent + after.lstrip()[1:].lstrip())
        after, alone = "", True
    width = 4 * level + len(before) + len(ast.unparse(node)) + len(after.rstrip())
    expanded = "(" in text and (start != end or text.rstrip(") \t").endswith(","))
    if isinstance(node, ast.Import) or (alone and not expanded and width <= line_length):
        if alone:
            lines[end] += noqa
        return alone
    if expanded:
        cut = text.index("(") + 1
        text = text[:cut] + noqa + "\n" + text[cut:].lstrip(" \t")
    else:
        module = "." * node.level + (node.module or "")
        names = ", ".join(ast.unparse(alias) for alias in node.names)
        text = f"from {module} import ({noqa}\n{names},\n)"
    lines[start : end + 1] = (before + text + after).split("\n")
    return True


def _redefinition_lines(tree: ast.AST, rebound: set[str]) -> list[int]:
    """Lines where a function, class or argument rebinds a name the body also imports: ruff
    reports F811 there when the import is unused."""
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name, _ in import_bindings(node)
    }
    lines = {
        node.lineno
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.name in imported & rebound
        )
        or (isinstance(node, ast.arg) and node.arg in imported & rebound)
    }
    return sorted(lines)


def _bindings(tree: ast.AST) -> list[str]:
    """Every name bound anywhere in the tree, once per binding (nested scopes included)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            found.append(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append(node.name)
        elif isinstance(node, ast.arg):
            found.append(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found += [name for name, _ in import_bindings(node)]
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found += node.names
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            found.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.append(node.rest)
    return found


def loaded_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
