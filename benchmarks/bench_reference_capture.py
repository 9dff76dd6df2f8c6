"""What storing the monitoring reference adds to registering a model, on the example notebooks.

Each notebook of ``notebooks/`` is copied to a temporary folder and run once with tracking
on (a fresh SQLite store); the time of ``log_and_register_model`` (the baseline: logging and
registering the model, reference included) and of its ``log_reference`` part are measured
in the same run. Prints one line per notebook: seconds and the reference's share.

    .venv/bin/python benchmarks/bench_reference_capture.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("classification.ipynb", "regression.ipynb")


def timed(function: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    """``function`` appending its duration to ``into`` on every call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - start)

    return wrapper


def measure(notebook: str, folder: Path) -> tuple[float, float]:
    """(seconds registering, seconds of which storing the reference) for one notebook."""
    from jupyter_mlops import api
    from jupyter_mlops.execute.runner import RunOptions
    from jupyter_mlops.registry import models

    shutil.copy(REPO / "notebooks" / notebook, folder / notebook)
    registering: list[float] = []
    referencing: list[float] = []
    original_register, original_reference = models.log_and_register_model, models.log_reference
    models.log_and_register_model = timed(original_register, registering)
    models.log_reference = timed(original_reference, referencing)
    try:
        uri = "sqlite:///" + str(folder / "mlflow.db")
        api.run(folder / notebook, RunOptions(tracking_uri=uri))
    finally:
        models.log_and_register_model = original_register
        models.log_reference = original_reference
    return sum(registering), sum(referencing)


def main() -> int:
    for notebook in NOTEBOOKS:
        with tempfile.TemporaryDirectory(prefix="bench-reference-") as tmp:
            register, reference = measure(notebook, Path(tmp))
        share = reference / register if register else 0.0
        print(
            f"{notebook}: registering {register:.2f}s, of which the monitoring reference "
            f"{reference:.2f}s ({share:.0%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
