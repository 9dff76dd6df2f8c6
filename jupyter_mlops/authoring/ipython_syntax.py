"""IPython syntax in cells (``%magic``, ``!shell``, ``x = !cmd``): find it and make it Python."""

from __future__ import annotations

import re

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
