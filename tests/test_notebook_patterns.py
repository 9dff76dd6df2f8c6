"""Notebook patterns from real projects, each end to end on a notebook in ``tests/notebooks/``.

For every pattern notebook: papermill runs it (tracked to its own MLflow store); the extracted
package passes ``ruff check``; ``jupyter mlops run`` with either engine logs exactly the
notebook's metrics (same names, same bits); every model it registers loads in a fresh process
that cannot import the notebook's or the pipeline's code and predicts on its input example; and
``jupyter mlops test`` passes. The two notebooks extraction refuses are checked refused with
their cause named, then fixed as the message says and put through the same checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import TRAP_NAME, client_for, sqlite_uri
from model_loading import load_with_examples

from jupyter_mlops.pipeline.layout import package_name
from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PATTERNS = [
    "model_code_gridsearch",  # a callable refit
    "model_code_function_transformer",  # FunctionTransformer helpers
    "model_code_custom_estimator",  # an estimator class of the setup cell
    "tracking_worker_pool",  # a loky (joblib) cell
    "tracking_two_metrics",  # two --metrics dicts sharing a key
    "tests_feature_selection",  # features selected inside the --model step
    "tests_multimetric_refit",  # two scorers, a callable refit
    "tests_positional_split",  # a split by position
    "tests_nan_frame",  # NaNs and a mixed-type column
    "unused_import",  # step cells importing what they do not use
    "refuse_left_out_reassign",  # an unmarked reassignment (fixed: the cell marked)
    "refuse_setup_print_doc",  # print(__doc__) in the import cell (fixed: the line moved)
    "two_models",  # two --model steps
    "sink_table",  # a sink step writing a table
]
ENGINES = ("inprocess", "papermill")
Document = dict[str, Any]


def mark_reassigning_cell(document: Document) -> Document:
    """The fix refuse_left_out_reassign's message asks for: cell 6 becomes a step."""
    document["cells"][5]["source"] = ["%%mlstep keep_large\n", *document["cells"][5]["source"]]
    return document


def move_print_doc(document: Document) -> Document:
    """The fix refuse_setup_print_doc's message asks for: ``print(__doc__)`` in its own cell."""
    setup = "".join(document["cells"][1]["source"])
    document["cells"][1]["source"] = setup.replace("print(__doc__)\n", "")
    document["cells"].insert(2, dict(document["cells"][1], id="doc", source="print(__doc__)"))
    return document


def load_extension_first(document: Document) -> Document:
    """The refused notebooks, written for extraction only, lack ``%load_ext jupyter_mlops``,
    without which ``%%mlstep`` cells do not run: their fixed variants start with it."""
    cell: dict[str, Any] = {"cell_type": "code", "id": "load-ext", "metadata": {}}
    cell |= {"outputs": [], "execution_count": None, "source": "%load_ext jupyter_mlops"}
    document["cells"].insert(0, cell)
    return document


def unchanged(document: Document) -> Document:
    return document


FIXES: dict[str, Callable[[Document], Document]] = {
    "refuse_left_out_reassign": lambda d: load_extension_first(mark_reassigning_cell(d)),
    "refuse_setup_print_doc": lambda d: load_extension_first(move_print_doc(d)),
}
REFUSALS = {  # what the refusal must name: the cell, and the variable or line at fault
    "refuse_left_out_reassign": ["cell 6: changes 'values'", "Mark cell 6 with %%mlstep"],
    "refuse_setup_print_doc": ["cell 2: not setup code because of line 11 (`print(__doc__)`)"],
}


@dataclass
class PatternRun:
    """A pattern notebook copied to a project folder, run by papermill and by both engines."""

    name: str
    root: Path
    project: Path
    folder: Path  # the extracted pipeline
    notebook_metrics: dict[str, float]
    runs: dict[str, tuple[str, subprocess.CompletedProcess[str]]]  # engine -> (store, run)


def cli_env(root: Path) -> dict[str, str]:
    """The environment of CLI calls: MLflow's global tracking URI is a trap in ``root``."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_REGISTRY_URI", "PYTHONPATH")}
    return {**env, "MLFLOW_TRACKING_URI": sqlite_uri(root / TRAP_NAME)}


def mlops(*args: str | Path, cwd: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *map(str, args)],
        cwd=cwd,
        env=cli_env(root),
        capture_output=True,
        text=True,
        timeout=540,
    )


def fresh_store(template: Path, db: Path) -> str:
    shutil.copyfile(template, db)
    return sqlite_uri(db)


def streams(notebook: Path, execution_count: int) -> str:
    """What the code cell run as ``In [execution_count]`` printed."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "".join(
        "".join(output.get("text", ""))
        for cell in cells
        if cell.get("execution_count") == execution_count
        for output in cell.get("outputs", [])
    )


def papermill_metrics(notebook: Path, store: str, kernel: str) -> dict[str, float]:
    """The metrics MLflow recorded for a headless papermill run of ``notebook``."""
    import papermill

    out = notebook.parent.parent / "papermill-out.ipynb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", store)
        env.setenv("JUPYTER_MLOPS_NOTEBOOK", str(notebook))
        for variable in ("JUPYTER_MLOPS_TRACKING", "JPY_SESSION_NAME", "MLFLOW_REGISTRY_URI"):
            env.delenv(variable, raising=False)  # headless: tracking is on
        try:
            papermill.execute_notebook(
                str(notebook),
                str(out),
                kernel_name=kernel,
                cwd=str(notebook.parent),
                progress_bar=False,
            )
        except papermill.PapermillExecutionError as error:
            failed = f"In [{error.exec_count}]: {error.ename} {error.evalue}"
            pytest.fail(f"papermill {notebook.name}, {failed}\n{streams(out, error.exec_count)}")
    client = client_for(store)
    experiment = client.get_experiment_by_name(notebook.stem)
    assert experiment is not None, f"the papermill run of {notebook.name} was not recorded"
    runs = client.search_runs([experiment.experiment_id])
    [parent] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert parent.info.status == "FINISHED", parent.info
    return dict(parent.data.metrics)


@pytest.fixture(scope="module", params=PATTERNS)
def pattern(
    request: pytest.FixtureRequest,
    mlflow_db_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    kernel_name: str,
) -> PatternRun:
    """The notebook (fixed, when refused) run by papermill, extracted and run by both engines
    with ``--json``, each into a fresh MLflow store."""
    name: str = request.param
    source = NOTEBOOKS / f"{name}.ipynb"
    if not source.exists():
        pytest.fail(f"pattern notebook missing: {source} (listed in PATTERNS)")
    root = tmp_path_factory.mktemp(name)
    project = root / "project"
    project.mkdir()
    notebook = project / source.name
    document = json.loads(source.read_text(encoding="utf-8"))
    notebook.write_text(json.dumps(FIXES.get(name, unchanged)(document)), encoding="utf-8")
    store = fresh_store(mlflow_db_template, root / "notebook.db")
    metrics = papermill_metrics(notebook, store, kernel_name)
    extracted = mlops("extract", notebook.name, cwd=project, root=root)
    if extracted.returncode != 0:
        pytest.fail(f"jupyter mlops extract {name}.ipynb: {extracted.stderr}")
    folder = project / "pipelines" / name
    runs = {}
    for engine in ENGINES:
        uri = fresh_store(mlflow_db_template, root / f"{engine}.db")
        args: list[str | Path] = [
            "run",
            folder,
            "--engine",
            engine,
            "--json",
            "--force",
            "--tracking-uri",
            uri,
        ]
        runs[engine] = (uri, mlops(*args, cwd=project, root=root))
    return PatternRun(name, root, project, folder, metrics, runs)


def run_summary(pattern: PatternRun, engine: str) -> dict[str, Any]:
    """The ``--json`` summary of the engine's run, which must have succeeded."""
    _, done = pattern.runs[engine]
    assert done.returncode == 0, f"{engine}: exit {done.returncode}\n{done.stderr[-3000:]}"
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["status"] == "succeeded", (engine, summary)
    return summary


def registered_models(summary: dict[str, Any], pipeline: str) -> dict[str, str]:
    """{model name: version} a ``run --json`` summary lists: ``model_versions`` (one entry per
    model), else the single ``model_version``, registered under the pipeline's name."""
    listing = summary.get("model_versions")
    if listing:
        return {name: str(version) for name, version in listing.items()}
    version = summary.get("model_version")
    return {} if version is None else {pipeline: str(version)}


# --- the checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_notebook_names_the_cell_at_fault(name: str, tmp_path: Path) -> None:
    out = tmp_path / "pipeline"
    done = mlops("extract", NOTEBOOKS / f"{name}.ipynb", "-o", out, cwd=tmp_path, root=tmp_path)
    assert done.returncode == 2, done.stderr
    for part in REFUSALS[name]:
        assert part in done.stderr
    assert not out.exists()


@pytest.mark.timeout(600)
def test_extracted_package_passes_ruff(pattern: PatternRun) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=pattern.folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(600)
def test_both_engines_log_the_notebooks_metrics_bit_for_bit(pattern: PatternRun) -> None:
    for engine in ENGINES:
        summary = run_summary(pattern, engine)
        assert summary["metrics"] == pattern.notebook_metrics, engine
        store, _ = pattern.runs[engine]
        logged = client_for(store).get_run(summary["run_id"]).data.metrics
        assert logged == pattern.notebook_metrics, engine
    assert not (pattern.root / TRAP_NAME).exists(), "MLflow's global tracking URI was used"


@pytest.mark.timeout(600)
def test_every_registered_model_loads_in_a_fresh_process(pattern: PatternRun) -> None:
    models = []
    for engine in ENGINES:
        store, _ = pattern.runs[engine]
        listed = registered_models(run_summary(pattern, engine), pattern.name)
        in_store = {model.name for model in client_for(store).search_registered_models()}
        assert set(listed) == in_store, engine
        assert set(listed.values()) <= {"1"}, (engine, listed)
        models += [(store, name) for name in sorted(listed)]
    if not models:  # no --model step: nothing registered, as both stores confirm
        return
    packages = [package_name(pattern.name)]
    loaded = load_with_examples(models, pattern.root / "elsewhere", [pattern.project], packages)
    assert sorted(loaded["loaded"]) == sorted(f"{store} {name}" for store, name in models)
    for key, predicted in loaded["loaded"].items():
        assert "rows" in predicted, f"{key}: registered without an input example ({predicted})"
        assert predicted["predicted"] == predicted["rows"] > 0, key
    assert loaded["jupyter_mlops"] is False


@pytest.mark.timeout(600)
def test_generated_tests_pass(pattern: PatternRun) -> None:
    done = mlops(
        "test",
        pattern.folder,
        "-q",
        "-rA",
        "-p",
        "no:cacheprovider",
        cwd=pattern.project,
        root=pattern.root,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    passed = {line.rpartition("::")[2] for line in done.stdout.splitlines() if "PASSED" in line}
    for step in read_pipeline_file(pattern.folder).pipeline.steps:
        if step.model is not None:  # the check ran on the data the model really took
            assert f"test_{step.name}_model_beats_dummy_baseline" in passed, done.stdout[-4000:]
