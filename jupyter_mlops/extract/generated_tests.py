"""The generated tests of a pipeline package: conftest and one signature test per step."""

from __future__ import annotations

from jupyter_mlops.pipeline.model import Step


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
    """``tests/test_<step>.py``: the step function is plain and matches pipeline.yaml; run on
    the captured fixtures, its outputs have the recorded types, are finite, fit their schemas
    (and a ``--model`` beats a dummy baseline on the data it was really fitted on)."""
    doc = (
        f"Checks of step {step.name}: a plain function whose signature matches pipeline.yaml, "
        "and what it computes from the captured fixtures (tests/fixtures)."
    )
    return (
        header
        + _docstring(doc)
        + f"""
import importlib
import inspect
from pathlib import Path

import pytest
import yaml

from jupyter_mlops import runtime

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


# Step {step.name} called once on its fixtures; skips when none were captured yet, or
# with the reason when it cannot run on sampled rows (its inputs too large to keep).
@pytest.fixture(scope="module")
def on_fixtures():
    return runtime.run_step_on_fixtures(PIPELINE_YAML.parent, {step.name!r})


def test_{step.name}_outputs_have_recorded_types(on_fixtures):
    runtime.check_output_types(on_fixtures)


def test_{step.name}_numeric_outputs_are_finite(on_fixtures):
    runtime.check_finite(on_fixtures)


def test_{step.name}_outputs_satisfy_schemas(on_fixtures):
    runtime.check_schemas(on_fixtures)
"""
        + (_model_test(step) if step.model else "")
    )


def _model_test(step: Step) -> str:
    return f"""

def test_{step.name}_model_beats_dummy_baseline(on_fixtures):
    runtime.check_beats_dummy(on_fixtures)
"""


WHOLE_PIPELINE_TEST = "tests/test_whole_pipeline.py"
"""The integration test's file; a step named ``whole_pipeline`` would clash with it."""


def whole_pipeline_test_module(header: str) -> str:
    """``tests/test_whole_pipeline.py``: the pipeline runs end to end on the fixtures."""
    doc = (
        "The whole pipeline on the captured fixtures: its first steps take their fixtures, "
        "every other step runs, with the in-process engine (step functions) and with "
        "papermill (the step notebooks, executed as nbval would, with fixture inputs)."
    )
    return (
        header
        + _docstring(doc)
        + """
from pathlib import Path

import pytest

from jupyter_mlops import runtime

PIPELINE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("engine", ["inprocess", "papermill"])
def test_pipeline_runs_on_fixtures(engine, tmp_path):
    runtime.run_pipeline_on_fixtures(PIPELINE_DIR, tmp_path, engine)
"""
    )


def _docstring(text: str) -> str:
    safe = text.replace("\\", "/").replace('"', "'")
    return f'"""{safe}"""\n\n'
