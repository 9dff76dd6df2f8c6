"""The generated tests of a pipeline package: conftest and one signature test per step."""

from __future__ import annotations

from .model import Step


def conftest_module(header: str) -> str:
    """``tests/conftest.py``: makes the pipeline package importable."""
    return (
        header
        + _docstring("Put the pipeline folder on sys.path.")
        + (
            "import sys\nfrom pathlib import Path\n\n"
            "PIPELINE_DIR = str(Path(__file__).resolve().parent.parent)\n"
            "if PIPELINE_DIR not in sys.path:\n    sys.path.insert(0, PIPELINE_DIR)\n"
        )
    )


def step_test_module(step: Step, header: str) -> str:
    """``tests/test_<step>.py``: the step function is plain and matches pipeline.yaml."""
    doc = f"Checks of step {step.name}: a plain function whose signature matches pipeline.yaml."
    return (
        header
        + _docstring(doc)
        + f"""
import importlib
import inspect
from pathlib import Path

import yaml

PIPELINE_YAML = Path(__file__).resolve().parent.parent / "pipeline.yaml"


def _declared():
    steps = yaml.safe_load(PIPELINE_YAML.read_text(encoding="utf-8"))["steps"]
    return next(step for step in steps if step["name"] == {step.name!r})


def _function():
    return importlib.import_module(_declared()["module"]).{step.name}


def test_{step.name}_is_a_plain_function():
    function = _function()
    assert inspect.isfunction(function)
    assert not inspect.isgeneratorfunction(function)
    assert not inspect.iscoroutinefunction(function)


def test_{step.name}_signature_matches_pipeline_yaml():
    declared = _declared()
    inputs = sorted(declared["inputs"])
    expected = inputs + sorted(set(declared["params"]) - set(inputs))
    parameters = inspect.signature(_function()).parameters.values()
    assert [p.name for p in parameters] == expected
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
    assert all(p.default is p.empty for p in parameters)
"""
    )


def _docstring(text: str) -> str:
    safe = text.replace("\\", "/").replace('"', "'")
    return f'"""{safe}"""\n\n'
