"""What a pipeline's generated tests call: its steps and the whole pipeline on the fixtures.

Every check raises ``AssertionError`` with a message naming the step and output, or skips
(``pytest.skip``, else ``unittest.SkipTest``) with the reason a check cannot apply:
no fixtures captured yet, no schema written yet, no scikit-learn model.
"""

from __future__ import annotations

import copy
import importlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from unittest import SkipTest

from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.pipeline.model import Step
from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
from jupyter_mlops.quality.fixture_sampling import LABEL_NAME
from jupyter_mlops.quality.fixtures import load_fixture, read_manifest

NO_FIXTURES = (
    "no fixtures captured yet: `jupyter mlops run PIPELINE` captures them after its first "
    "successful run, `jupyter mlops fixtures PIPELINE` (re)captures them from the last run"
)


@dataclass
class StepOnFixtures:
    """A step function called on the fixtures: its inputs, what it returned, what was recorded."""

    folder: Path
    step: Step
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    recorded: dict[str, dict[str, Any]]  # output -> {"type": ..., "nan_columns": [...]}

    def __repr__(self) -> str:
        return f"<step {self.step.name} on the fixtures of {self.folder}>"


_runs: dict[tuple[str, str], StepOnFixtures] = {}


def skip(reason: str) -> NoReturn:
    """Skip the current test: ``pytest.skip`` under pytest, else ``unittest.SkipTest``."""
    if "pytest" in sys.modules:
        import pytest

        pytest.skip(reason)
    raise SkipTest(reason)


def fixture_manifest(folder: Path) -> dict[str, Any]:
    """The folder's fixture manifest; skips the test when none was captured yet."""
    manifest = read_manifest(folder)
    if manifest is None:
        skip(NO_FIXTURES)
    return manifest


def run_step_on_fixtures(folder: str | Path, step_name: str) -> StepOnFixtures:
    """Call step ``step_name`` on its fixture inputs with the default parameters (memoized).

    An input that was too large to capture is rebuilt by running its producer on the fixtures.
    """
    folder = Path(folder).resolve()
    memo = (str(folder), step_name)
    if memo in _runs:
        return _runs[memo]
    manifest = fixture_manifest(folder)
    pipeline_file = read_pipeline_file(folder)
    step = pipeline_file.pipeline.step(step_name)
    inputs = {
        var: _input(folder, manifest, f"{producer}.{var}") for var, producer in step.inputs.items()
    }
    params = {name: pipeline_file.pipeline.params[name] for name in step.params}
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    function = getattr(importlib.import_module(pipeline_file.modules[step_name]), step_name)
    returned = function(**copy.deepcopy(inputs), **params)
    from jupyter_mlops.execute.engines.inprocess import returned_outputs

    try:
        outputs = returned_outputs(returned, step.outputs)
    except ValueError as error:
        raise AssertionError(f"step '{step_name}': {error}") from None
    recorded = manifest.get("outputs", {}).get(step_name, {})
    _runs[memo] = StepOnFixtures(folder, step, inputs, outputs, recorded)
    return _runs[memo]


def _input(folder: Path, manifest: dict[str, Any], key: str) -> Any:
    if key in manifest["fixtures"]:
        return load_fixture(folder, key, manifest)
    producer, _, name = key.partition(".")
    if key in manifest.get("not_captured", {}):
        return copy.deepcopy(run_step_on_fixtures(folder, producer).outputs[name])
    skip(
        f"no fixture '{key}': the fixtures predate this pipeline; "
        "re-capture them with `jupyter mlops fixtures PIPELINE` after a run"
    )


def check_output_types(run: StepOnFixtures) -> None:
    """Every declared output was produced, with the type the captured run recorded."""
    __tracebackhide__ = True  # pytest shows the assertion, not this helper
    problems = []
    for name in run.step.outputs:
        recorded = run.recorded.get(name, {}).get("type")
        actual = serializers.type_name(run.outputs[name])
        if recorded is None:
            problems.append(f"'{name}' has no recorded type (fixtures predate it: re-capture)")
        elif actual != recorded:
            problems.append(f"'{name}' is a {actual}, the captured run recorded {recorded}")
    assert not problems, f"step '{run.step.name}': " + "; ".join(problems)


def check_finite(run: StepOnFixtures) -> None:
    """No NaN or inf in numeric outputs (NaN only where the captured run had it too)."""
    __tracebackhide__ = True  # pytest shows the assertion, not this helper
    problems = []
    for name in run.step.outputs:
        allowed = frozenset(run.recorded.get(name, {}).get("nan_columns", []))
        problems += non_finite(run.outputs[name], name, allowed)
    assert not problems, f"step '{run.step.name}': " + "; ".join(problems)


def non_finite(value: Any, where: str, nan_allowed: frozenset[str] = frozenset()) -> list[str]:
    """Descriptions of NaN/inf found in a number, array, frame, or dict/list of those."""
    module = type(value).__module__.partition(".")[0]
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return []
    if isinstance(value, int | float) or (module == "numpy" and getattr(value, "ndim", 1) == 0):
        number = float(value)
        return [] if math.isfinite(number) else [f"{where} is {number}"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{where}[{k!r}]")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{where}[{i}]")]
    if module == "pandas":
        frame = value.to_frame("") if not hasattr(value, "columns") else value
        return _frame_problems(frame, where, nan_allowed)
    if module == "numpy":
        import pandas as pd

        if value.ndim <= 1:
            return _frame_problems(pd.DataFrame({"": value.reshape(-1)}), where, nan_allowed)
        array = value.reshape(value.shape[0], -1)
        return _frame_problems(pd.DataFrame(array), where, nan_allowed, numbered=True)
    return []


def _frame_problems(
    frame: Any, where: str, allowed: frozenset[str], numbered: bool = False
) -> list[str]:
    import numpy as np

    problems = []
    numeric = frame.select_dtypes(include="number", exclude="complex")
    for index, column in enumerate(numeric.columns):
        values = numeric[column].to_numpy(dtype=float, na_value=np.nan)
        label = str(index) if numbered else str(column)
        name = where if label == "" else f"{where}[{label!r}]"
        infinite = int(np.isinf(values).sum())
        missing = int(np.isnan(values).sum())
        if infinite:
            problems.append(f"{name} has {infinite} inf value(s)")
        if missing and label not in allowed:
            problems.append(f"{name} has {missing} NaN value(s), the captured run had none")
    return problems


def check_schemas(run: StepOnFixtures) -> None:
    """DataFrame/Series outputs satisfy ``schemas/<step>.<name>.yaml`` where one exists."""
    __tracebackhide__ = True  # pytest shows the assertion, not this helper
    frames = [n for n in run.step.outputs if _is_pandas(run.outputs[n])]
    if not frames:
        skip(f"step '{run.step.name}' has no DataFrame or Series outputs")
    paths = {n: run.folder / "schemas" / f"{run.step.name}.{n}.yaml" for n in frames}
    present = {n: p for n, p in paths.items() if p.is_file()}
    if not present:
        names = ", ".join(f"schemas/{p.name}" for p in paths.values())
        skip(f"no schema written yet ({names}): a successful run writes them")
    problems = [
        line
        for name, path in present.items()
        for line in schema_problems(path, run.outputs[name], f"{run.step.name}.{name}")
    ]
    assert not problems, f"step '{run.step.name}' on its fixtures:\n" + "\n".join(problems)


def schema_problems(path: Path, value: Any, artifact: str) -> list[str]:
    """The validation report of ``value`` against the schema file, as lines (empty: valid).

    Uses the runner's own validation (``schemas.read_schema``, ``validation.validate_frame``)
    without the value-range checks: fixtures are a resample, so a step's outputs on them hold
    other rows than the run the ranges were learned from (ranges are checked at run time).
    """
    try:
        from jupyter_mlops.quality.schemas import as_frame, read_schema, without_range_checks
        from jupyter_mlops.quality.validation import validate_frame
    except ImportError as error:
        skip(f"schema files exist but this jupyter_mlops cannot validate them ({error})")
    schema = without_range_checks(read_schema(path))
    report = validate_frame(as_frame(value), schema, artifact, f"schemas/{path.name}")
    return [] if report.ok else report.to_text().splitlines()


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.partition(".")[0] == "pandas" and hasattr(value, "iloc")


def check_beats_dummy(run: StepOnFixtures) -> None:
    """The ``--model`` scores better than a scikit-learn dummy baseline on its training data."""
    __tracebackhide__ = True  # pytest shows the assertion, not this helper
    name = run.step.model
    if name is None:
        skip(f"step '{run.step.name}' has no --model")
    model = run.outputs[name]
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if not hasattr(model, "score") or not (is_classifier(model) or is_regressor(model)):
        skip(
            f"model '{name}' is a {serializers.type_name(model)}, not a scikit-learn "
            "classifier or regressor: write your own converge test"
        )
    X, y = training_data(run)
    dummy = DummyClassifier() if is_classifier(model) else DummyRegressor()
    dummy.fit(X, y)
    ours, baseline = float(model.score(X, y)), float(dummy.score(X, y))
    assert ours > baseline, (
        f"step '{run.step.name}': model '{name}' scores {ours:.4f} on its fixtures, no better "
        f"than {type(dummy).__name__} ({baseline:.4f}): training did not converge"
    )


def training_data(run: StepOnFixtures) -> tuple[Any, Any]:
    """(X, y): the step's 2-D input and its 1-D label input of the same length."""
    ones = {n: v for n, v in run.inputs.items() if _ndim(v) == 1}
    labels = sorted(ones, key=lambda n: (not LABEL_NAME.match(n), n))
    for label in labels:
        rows = len(ones[label])
        for name in sorted(run.inputs):
            if _ndim(run.inputs[name]) == 2 and len(run.inputs[name]) == rows:
                return run.inputs[name], ones[label]
    skip(
        f"cannot tell the training data of step '{run.step.name}': it needs a 2-D input (X) "
        "and a 1-D input (y) with the same number of rows"
    )


def _ndim(value: Any) -> int:
    module = type(value).__module__.partition(".")[0]
    return int(getattr(value, "ndim", 0)) if module in ("pandas", "numpy") else 0
