"""What a pipeline's generated tests call: its steps and the whole pipeline on the fixtures.

Every check raises ``AssertionError`` with a message naming the step and output, or skips
(``pytest.skip``, else ``unittest.SkipTest``) with the reason a check cannot apply:
no fixtures captured yet, a step that needs the full data (the manifest's ``full_data``),
no schema written yet, no scikit-learn model, no data the model accepts. A ``--model``
step is called keeping its final local variables, so the dummy check scores the model on
what it was really fitted on (``model_data``).
"""

from __future__ import annotations

import copy
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from unittest import SkipTest

from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.pipeline.model import Step
from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
from jupyter_mlops.quality.fixture_files import load_fixture, read_pinned_manifest
from jupyter_mlops.quality.non_finite import non_finite_places
from jupyter_mlops.runtime.model_data import (
    call_keeping_locals,
    expected_features,
    holds_data,
    model_data,
)

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
    locals: dict[str, Any]  # the function's variables when it returned (model steps only)

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
    """The folder's fixture manifest, checked against ``tests/fixtures_pin.py``
    (``FixtureError`` naming it when it changed since capture); skips the test when none
    was captured yet."""
    manifest = read_pinned_manifest(folder)
    if manifest is None:
        skip(NO_FIXTURES)
    return manifest


def skip_when_full_data_needed(manifest: dict[str, Any]) -> None:
    """Skip, with the reasons, when some step cannot run on sampled fixtures."""
    reasons = manifest.get("full_data", {})
    if reasons:
        skip("; ".join(reasons[step] for step in sorted(reasons)))


def run_step_on_fixtures(folder: str | Path, step_name: str) -> StepOnFixtures:
    """Call step ``step_name`` on its fixture inputs with the default parameters (memoized).

    An input that was too large to capture is rebuilt by running its producer on the fixtures.
    """
    folder = Path(folder).resolve()
    memo = (str(folder), step_name)
    if memo in _runs:
        return _runs[memo]
    manifest = fixture_manifest(folder)
    if step_name in manifest.get("full_data", {}):
        skip(manifest["full_data"][step_name])
    pipeline_file = read_pipeline_file(folder)
    step = pipeline_file.pipeline.step(step_name)
    inputs = {
        var: _input(folder, manifest, f"{producer}.{var}") for var, producer in step.inputs.items()
    }
    params = {name: pipeline_file.pipeline.params[name] for name in step.params}
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    function = getattr(importlib.import_module(pipeline_file.modules[step_name]), step_name)
    arguments = copy.deepcopy(inputs) | params
    kept: dict[str, Any] = {}
    if step.model is None:
        returned = function(**arguments)
    else:
        returned, kept = call_keeping_locals(function, arguments)
    from jupyter_mlops.execute.engines.inprocess import returned_outputs

    try:
        outputs = returned_outputs(returned, step.outputs)
    except ValueError as error:
        raise AssertionError(f"step '{step_name}': {error}") from None
    recorded = manifest.get("outputs", {}).get(step_name, {})
    _runs[memo] = StepOnFixtures(folder, step, inputs, outputs, recorded, kept)
    return _runs[memo]


def upstream_fixtures(folder: Path, step_name: str) -> dict[str, Any]:
    """The captured data of the steps ``step_name`` depends on, directly or not, by fixture key
    (``<producer>.<name>``): where a model step whose inputs hold no data was fitted."""
    pipeline = read_pipeline_file(folder).pipeline
    upstream: set[str] = set()
    todo = pipeline.step(step_name).upstream()
    while todo:
        upstream.update(todo)
        todo = [p for name in todo for p in pipeline.step(name).upstream() if p not in upstream]
    manifest = fixture_manifest(folder)
    return {
        key: load_fixture(folder, key, manifest)
        for key in sorted(manifest["fixtures"])
        if key.partition(".")[0] in upstream
    }


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
    """Descriptions of NaN/inf found in a number, array, frame, or dict/list of those; NaN at
    a location in ``nan_allowed`` (``quality.non_finite`` locations) is not reported."""
    problems = []
    for place in non_finite_places(value):
        name = where + place.location
        if place.scalar:
            if place.inf or place.location not in nan_allowed:
                problems.append(f"{name} is {'nan' if place.nan else 'inf'}")
            continue
        if place.inf:
            problems.append(f"{name} has {place.inf} inf value(s)")
        if place.nan and place.location not in nan_allowed:
            problems.append(f"{name} has {place.nan} NaN value(s), the captured run had none")
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
    """The ``--model`` scores better than a scikit-learn dummy baseline, with the same metric
    (accuracy, r2), on the data it was really fitted or scored on (held-out data first)."""
    __tracebackhide__ = True  # pytest shows the assertion, not this helper
    name = run.step.model
    if name is None:
        skip(f"step '{run.step.name}' has no --model")
    model = run.outputs[name]
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.metrics import accuracy_score, r2_score

    if not hasattr(model, "predict") or not (is_classifier(model) or is_regressor(model)):
        skip(
            f"model '{name}' is a {serializers.type_name(model)}, not a scikit-learn "
            "classifier or regressor: write your own converge test"
        )
    own = {**run.inputs, **run.locals}
    data = model_data(model, own)
    if data is None and not holds_data(own):  # the step only assembles a model: look upstream
        data = model_data(model, upstream_fixtures(run.folder, run.step.name))
    if data is None:
        count, names = expected_features(model)
        skip(
            f"step '{run.step.name}': no input or variable of the step holds the "
            f"{count if count is not None else len(names or [])} feature(s) model '{name}' "
            "expects with a label of the same length, so its data cannot be told"
        )
    dummy = DummyClassifier() if is_classifier(model) else DummyRegressor()
    metric, score = ("accuracy", accuracy_score) if is_classifier(model) else ("r2", r2_score)
    ours = float(score(data.y, model.predict(data.X)))
    baseline = float(score(data.y, dummy.fit(data.X, data.y).predict(data.X)))
    which = "held-out data" if data.held_out else "training data"
    assert ours > baseline, (
        f"step '{run.step.name}': model '{name}' scores {ours:.4f} {metric} on its fixtures' "
        f"{which} {data.description}, no better than {type(dummy).__name__} "
        f"({baseline:.4f}): training did not converge"
    )
