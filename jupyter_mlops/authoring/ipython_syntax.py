"""IPython syntax in cells (``%magic``, ``!shell``, ``x = !cmd``): find it and make it Python."""

from __future__ import annotations

import ast
import re

from jupyter_mlops.errors import StepDeclarationError
from jupyter_mlops.pipeline.model import Step

_TIMING_MAGIC = re.compile(r"^(\s*)%(?:time|timeit|prun)\s+(.*)$")
"""Line magics that wrap a statement: the statement still runs in the notebook namespace."""

_MAGIC_START = re.compile(r"^\s*(%|!)|^\s*[\w.]+\s*=\s*(%|!)|^\s*[\w.]+\?\??\s*$")


def magic_line_numbers(code: str) -> list[int]:
    """1-based numbers of lines that are IPython syntax rather than Python."""
    return [n for n, line in enumerate(code.splitlines(), 1) if _MAGIC_START.match(line)]


def to_python(code: str) -> tuple[str, list[int]]:
    """Translate IPython syntax to equivalent Python; return it with the magic line numbers.

    ``%time stmt`` keeps ``stmt`` (it runs in the notebook namespace); other magics become
    the ``get_ipython()`` calls IPython itself would run.
    """
    lines = code.splitlines()
    magic_lines = magic_line_numbers(code)
    for number in magic_lines:
        timed = _TIMING_MAGIC.match(lines[number - 1])
        if timed:
            lines[number - 1] = timed.group(1) + timed.group(2)
    python = "\n".join(lines) + "\n"
    if any(not _TIMING_MAGIC.match(code.splitlines()[n - 1]) for n in magic_lines):
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(python)
    return python, magic_lines


def without_magic_lines(code: str) -> str:
    """The code with its IPython-syntax lines removed (for shared setup code)."""
    drop = set(magic_line_numbers(code))
    kept = [line for n, line in enumerate(code.splitlines(), 1) if n not in drop]
    return "\n".join(kept).strip("\n")


def step_syntax_error(step: Step) -> StepDeclarationError | None:
    """Why a step's body cannot become a plain Python function (IPython syntax, or not
    valid Python), naming the line as the notebook numbers it; None when it can."""
    code = step.code.replace("\r\n", "\n")
    try:
        ast.parse(code)
    except SyntaxError as exc:
        magic = magic_line_numbers(code)
        number = magic[0] if magic else exc.lineno or 1
        line = code.splitlines()[number - 1].strip() if code.splitlines() else ""
        problem = (
            "is IPython syntax (a magic or shell escape), which a module cannot run; "
            "move it to a cell that is not a step"
            if magic
            else f"is not valid Python ({exc.msg})"
        )
        return StepDeclarationError(
            f"line {number + 1} '{line}' {problem}", step=step.name, cell=step.cell
        )
    return None
