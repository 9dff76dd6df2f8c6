"""Build small notebooks for tests: a list of cell sources → an nbformat-4.5 file."""

from __future__ import annotations

import json
from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def make_notebook(cells: list[str | tuple[str, list[str]]]) -> dict:
    """Code cells from sources; ``(source, tags)`` tuples carry tags; '# md:' starts markdown."""
    out = []
    for index, cell in enumerate(cells):
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        if source.startswith("# md:"):
            out.append(
                {"cell_type": "markdown", "id": f"c{index}", "metadata": {}, "source": source[5:]}
            )
            continue
        out.append(
            {
                "cell_type": "code",
                "id": f"c{index}",
                "metadata": {"tags": tags} if tags else {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        )
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "cells": out,
    }


def write_notebook(path: Path, cells: list[str | tuple[str, list[str]]]) -> Path:
    """Write the notebook to ``path`` and return it."""
    path.write_text(json.dumps(make_notebook(cells), indent=1) + "\n", encoding="utf-8")
    return path
