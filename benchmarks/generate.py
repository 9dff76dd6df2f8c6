"""Generate synthetic notebooks for benchmarks: N steps of trivial work, chained and branching."""

from __future__ import annotations

import json
from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _cell(index: int, source: str, tags: list[str] | None = None) -> dict:
    cell: dict = {"cell_type": "code", "id": f"cell-{index}", "source": source}
    cell.update(metadata={"tags": tags} if tags else {}, outputs=[], execution_count=None)
    return cell


def step_sources(steps: int) -> list[str]:
    """Trivial steps: each reads the output of the step before (and every 3rd one two back)."""
    sources = []
    for i in range(steps):
        reads = [f"v{i - 1}"] if i else ["offset"]
        if i >= 2 and i % 3 == 0:
            reads.append(f"v{i - 2}")
        sources.append(f"%%mlstep s{i}\nv{i} = scale({' + '.join(reads)}) + {i}")
    return sources


def synthetic_notebook(steps: int, cells: int) -> dict:
    """A notebook with ``steps`` steps padded with markdown and left-out cells to ``cells``."""
    body = [
        _cell(0, "%load_ext jupyter_mlops"),
        _cell(1, "import math\n\nFACTOR = 1\n\n\ndef scale(x):\n    return x * FACTOR\n"),
        _cell(2, "offset = 1", ["parameters"]),
    ]
    filler = max(cells - steps - len(body), 0)
    index = len(body)
    for number, source in enumerate(step_sources(steps)):
        body.append(_cell(index, source))
        index += 1
        for _ in range(filler // steps + (number < filler % steps)):
            kind = index % 2
            if kind:
                body.append(
                    {
                        "cell_type": "markdown",
                        "id": f"cell-{index}",
                        "metadata": {},
                        "source": f"Note {index}",
                    }
                )
            else:
                body.append(_cell(index, f"print(math.sqrt({index}))"))
            index += 1
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": KERNELSPEC},
        "cells": body,
    }


def write_synthetic_notebook(path: Path, steps: int, cells: int) -> Path:
    """Write a synthetic notebook and return its path."""
    path.write_text(json.dumps(synthetic_notebook(steps, cells), indent=1) + "\n")
    return path


def plain_script(steps: int) -> str:
    """The same computation as one plain Python script (the baseline of the run benchmarks)."""
    lines = ["FACTOR = 1", "", "def scale(x):", "    return x * FACTOR", "", "offset = 1"]
    lines += [s.split("\n", 1)[1] for s in step_sources(steps)]
    return "\n".join(lines) + "\n"
