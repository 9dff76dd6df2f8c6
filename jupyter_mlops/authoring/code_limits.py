"""Bounds on the cell code the analysis accepts: its size and how deeply it nests.

Python parses ``1+1+…+1`` (100,000 terms) or deeply nested brackets only to fail with a
RecursionError or MemoryError, and the recursive walks of the analysis, the code
generator and ``ast.unparse`` fail on trees far shallower than the parser accepts. Every
cell is checked here once, when the notebook is read, so the rest of the analysis only
ever sees bounded trees.
"""

from __future__ import annotations

import ast

from jupyter_mlops.authoring import ipython_syntax

MAX_CELL_CHARS = 1_000_000
"""The longest cell source analysed (characters)."""

MAX_CODE_DEPTH = 200
"""The deepest syntax tree analysed: an expression nested (operators, brackets, calls)
more deeply than this is refused."""


class CodeTooComplex(SyntaxError):
    """Cell code beyond the bounds: a SyntaxError, so callers report it as they report
    invalid code (naming the cell and step)."""


def parse_bounded(code: str) -> ast.Module:
    """``ast.parse(code)``, refusing code beyond the bounds with CodeTooComplex (never a
    RecursionError or MemoryError); invalid code raises SyntaxError as usual."""
    if len(code) > MAX_CELL_CHARS:
        raise CodeTooComplex(
            f"the code has {len(code):,} characters, more than the {MAX_CELL_CHARS:,} "
            "jupyter_mlops analyses in one cell"
        )
    try:
        tree = ast.parse(code)
    except (RecursionError, MemoryError):
        raise CodeTooComplex(_too_deep_message()) from None
    too_deep = _first_node_too_deep(tree)
    if too_deep is not None:
        error = CodeTooComplex(_too_deep_message())
        error.lineno = getattr(too_deep, "lineno", None)
        raise error
    return tree


def check_cell_code(code: str) -> None:
    """Raise CodeTooComplex when ``code`` (IPython lines allowed) is beyond the bounds;
    code that does not parse is left to the analysis to report."""
    try:
        parse_bounded(code)
    except CodeTooComplex:
        raise
    except SyntaxError:
        python, magic_lines = ipython_syntax.to_python(code)
        if not magic_lines:
            return
        try:
            parse_bounded(python)
        except CodeTooComplex:
            raise
        except SyntaxError:
            return


def _too_deep_message() -> str:
    return (
        f"an expression is nested more than {MAX_CODE_DEPTH} levels deep (operators, "
        "brackets or calls): too complex to analyse; split it into several statements"
    )


def _first_node_too_deep(tree: ast.AST) -> ast.AST | None:
    """A node deeper than MAX_CODE_DEPTH, or None (walked iteratively)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None
