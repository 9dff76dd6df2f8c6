"""The public, stable API of jupyter_mlops for generated pipeline code.

Extracted packages import nothing else from jupyter_mlops: their step modules and ``common.py``
(``parameters``, ``parameter``), step notebooks (``load_input``, ``save_outputs``) and
generated tests (the ``check_*`` helpers, ``run_step_on_fixtures``,
``run_pipeline_on_fixtures``). Every other module may move between versions; these names keep
their meaning. Importing this package is light (no pandas, scikit-learn, MLflow or papermill):
everything but the parameter helpers is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jupyter_mlops.runtime.step_parameters import parameter, parameters

if TYPE_CHECKING:
    from jupyter_mlops.runtime.fixture_run import run_pipeline_on_fixtures
    from jupyter_mlops.runtime.stepio import load_input, save_outputs
    from jupyter_mlops.runtime.testing import (
        check_beats_dummy,
        check_finite,
        check_output_types,
        check_schemas,
        run_step_on_fixtures,
    )

__all__ = [
    "check_beats_dummy",
    "check_finite",
    "check_output_types",
    "check_schemas",
    "load_input",
    "parameter",
    "parameters",
    "run_pipeline_on_fixtures",
    "run_step_on_fixtures",
    "save_outputs",
]

_LAZY = {
    "load_input": "stepio",
    "save_outputs": "stepio",
    "run_step_on_fixtures": "testing",
    "check_output_types": "testing",
    "check_finite": "testing",
    "check_schemas": "testing",
    "check_beats_dummy": "testing",
    "run_pipeline_on_fixtures": "fixture_run",
}


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
