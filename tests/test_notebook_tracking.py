"""Runs of the notebook itself recorded in MLflow: papermill (CLI and API) on a real kernel,
a real MLflow SQLite store; interactive opt-in with ``%mlops track``; failures never break."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from mlflow_fixtures import assert_no_global_store, client_for
from nbfactory import write_notebook

from jupyter_mlops.authoring.notebook_file import read_notebook
from jupyter_mlops.execute.run_result import run_metrics
from jupyter_mlops.jupyter.kernel_shutdown import on_shutdown_request
from jupyter_mlops.jupyter.magics import MlopsMagics
from jupyter_mlops.jupyter.notebook_tracking import (
    NotebookTracker,
    declared_metrics_vars,
    find_notebook,
    last_code_cell,
    parameter_names,
    tracking_decision,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
CLASSIFICATION = REPO / "notebooks" / "classification.ipynb"
STEPS = {"load_data", "features", "split", "train", "evaluate"}
OUR_ENV = ("JUPYTER_MLOPS_TRACKING", "JUPYTER_MLOPS_NOTEBOOK", "JPY_SESSION_NAME")
SMALL_NOTEBOOK = [
    "%load_ext jupyter_mlops",
    ("n = 1", ["parameters"]),
    "%%mlstep first\nx = n + 1",
    "%%mlstep second --metrics m\nm = {'score': x * 0.5}",
    "import sys\nprint('mlflow imported:', 'mlflow' in sys.modules)",
    "%mlops track",
]


@pytest.fixture
def store(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's MLflow store as ``$MLFLOW_TRACKING_URI``: kernels inherit it."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    for name in OUR_ENV:
        monkeypatch.delenv(name, raising=False)
    return tracking_uri


def runs_of(uri: str, experiment: str) -> tuple[Any, dict[str, Any]]:
    """(the one parent run, {step name: its nested run}) of ``experiment``."""
    client = client_for(uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, [e.name for e in client.search_experiments()]
    runs = client.search_runs([found.experiment_id])
    [parent] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    steps = {run.data.tags["mlops.step"]: run for run in runs if run is not parent}
    assert all(run.data.tags["mlflow.parentRunId"] == parent.info.run_id for run in steps.values())
    return parent, steps


def experiments(uri: str) -> set[str]:
    return {e.name for e in client_for(uri).search_experiments()} - {"Default"}


def stream_text(notebook: Path, name: str) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "".join(
        "".join(out["text"])
        for cell in cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == name
    )


def papermill_api(notebook: Path, out: Path, kernel: str, **parameters: Any) -> None:
    import papermill

    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=parameters,
        kernel_name=kernel,
        cwd=str(notebook.parent),
        progress_bar=False,
    )


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# --- headless: papermill on the original notebook --------------------------------------------


@pytest.mark.timeout(300)
def test_papermill_cli_run_is_recorded_with_params_steps_metrics_and_model(
    store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    notebook = project / "notebooks" / "classification.ipynb"
    shutil.copy(CLASSIFICATION, notebook)
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "notebook")
    commit = git(project, "rev-parse", "HEAD")

    # The notebook is found on the papermill command line (the kernel's parent process),
    # relative to papermill's cwd.
    subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/classification.ipynb", "out.ipynb"]
        + ["-p", "n_estimators", "20", "-k", kernel_name, "--no-progress-bar"],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=240,
    )
    printed = json.loads(stream_text(project / "out.ipynb", "stdout").strip().splitlines()[-1])
    assert stream_text(project / "out.ipynb", "stderr") == ""  # no MLflow chatter in cells

    parent, steps = runs_of(store, "classification")
    assert parent.info.status == "FINISHED"
    assert parent.data.params == {
        "test_size": "0.25",
        "n_estimators": "20",
        "max_depth": "5",
        "threshold": "0.5",
    }
    tags = parent.data.tags
    assert tags["mlops.pipeline"] == "classification"
    assert tags["mlops.source"] == "notebook"
    assert tags["mlops.notebook"] == str(notebook)
    assert tags["mlops.notebook_sha256"] == read_notebook(notebook).content_hash
    assert tags["mlops.git_commit"] == tags["mlflow.source.git.commit"] == commit
    assert tags["mlops.status"] == "succeeded"
    assert parent.data.metrics == printed["metrics"]

    assert set(steps) == STEPS
    for run in steps.values():
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlops.status"] == "ran"
        assert run.data.metrics["duration_seconds"] >= 0
    assert steps["train"].data.params == {"n_estimators": "20", "max_depth": "5"}
    evaluate = steps["evaluate"].data.metrics
    assert {k: evaluate[k] for k in printed["metrics"]} == printed["metrics"]

    client = client_for(store)
    version = client.get_model_version_by_alias("classification", "challenger")
    assert str(version.version) == tags["mlops.model_version"] == "1"
    assert version.run_id == steps["train"].info.run_id
    assert version.tags["mlops.parent_run_id"] == parent.info.run_id
    assert version.tags["mlops.git_commit"] == commit
    assert version.tags["mlops.notebook_sha256"] == tags["mlops.notebook_sha256"]
    assert "X_train" in version.tags["mlops.fit_inputs"].split(",")

    import mlflow.pyfunc
    from sklearn.datasets import load_breast_cancer

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    model = mlflow.pyfunc.load_model("models:/classification@challenger")
    X = load_breast_cancer(as_frame=True).frame.drop(columns="target").head(7)
    X["area_per_radius"] = X["mean area"] / X["mean radius"]
    assert set(model.predict(X)) <= {0, 1} and len(model.predict(X)) == 7
    assert_no_global_store(tmp_path)


@pytest.mark.timeout(300)
def test_papermill_api_run_finds_the_notebook_through_papermill_input_path(
    store: str, kernel_name: str, tmp_path: Path
) -> None:
    notebook = tmp_path / "My Classification.ipynb"
    shutil.copy(CLASSIFICATION, notebook)
    papermill_api(
        notebook, tmp_path / "out.ipynb", kernel_name, n_estimators=20,
        PAPERMILL_INPUT_PATH=str(notebook),
    )  # fmt: skip
    parent, steps = runs_of(store, "my_classification")
    assert parent.info.status == "FINISHED"
    assert parent.data.params["n_estimators"] == "20"
    assert "PAPERMILL_INPUT_PATH" not in parent.data.params  # not a parameters-cell name
    assert parent.data.tags["mlops.notebook"] == str(notebook)
    assert "mlops.git_commit" not in parent.data.tags  # tmp_path is no git work tree
    assert set(steps) == STEPS
    alias = client_for(store).get_model_version_by_alias("my_classification", "challenger")
    assert alias.run_id == steps["train"].info.run_id
    assert_no_global_store(tmp_path)


@pytest.mark.timeout(300)
def test_failing_step_fails_the_parent_run_and_is_tagged_failed(
    store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import papermill

    notebook = tmp_path / "classification.ipynb"
    shutil.copy(CLASSIFICATION, notebook)
    monkeypatch.setenv("JUPYTER_MLOPS_NOTEBOOK", str(notebook))
    with pytest.raises(papermill.PapermillExecutionError):
        papermill_api(notebook, tmp_path / "out.ipynb", kernel_name, n_estimators=-1)

    parent, steps = runs_of(store, "classification")
    assert parent.info.status == "FAILED"
    assert parent.data.tags["mlops.status"] == "failed"
    assert parent.data.params["n_estimators"] == "-1"
    assert set(steps) == {"load_data", "features", "split", "train"}  # papermill stopped
    train = steps["train"]
    assert train.info.status == "FAILED"
    assert train.data.tags["mlops.status"] == "failed"
    assert "n_estimators" in train.data.tags["mlops.error"]
    assert all(steps[s].data.tags["mlops.status"] == "ran" for s in ("load_data", "split"))
    assert client_for(store).search_registered_models() == []


# --- the run ends however the kernel ends, without waiting for worker pools --------------------


def worker_pool_cells(failing: str) -> list[str | tuple[str, list[str]]]:
    """The cells of tests/notebooks/tracking_worker_pool.ipynb, with a failing cell inserted."""
    cells = read_notebook(NOTEBOOKS / "tracking_worker_pool.ipynb").cells
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    if failing == "middle cell":  # papermill stops there: the kernel's shutdown ends the run
        return [*code[:2], "raise RuntimeError('broken')", code[2]]
    return [*code, "%%mlstep last --metrics q\nq = {'x': 1 / 0}"]  # the last cell fails


@pytest.mark.timeout(180)
def test_worker_pool_notebook_run_ends_finished_with_an_end_time(
    store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's resource trackers ignore SIGTERM: ipykernel used to wait for them until
    papermill killed the kernel, before ``atexit`` ended the run (issue 9)."""
    notebook = tmp_path / "tracking_worker_pool.ipynb"
    shutil.copy(NOTEBOOKS / notebook.name, notebook)
    monkeypatch.setenv("JUPYTER_MLOPS_NOTEBOOK", str(notebook))
    papermill_api(notebook, tmp_path / "out.ipynb", kernel_name)
    assert stream_text(tmp_path / "out.ipynb", "stderr") == ""

    parent, steps = runs_of(store, "tracking_worker_pool")
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mlops.status"] == "succeeded"
    assert parent.info.end_time >= max(run.info.end_time for run in steps.values())
    assert parent.data.metrics == {"total": 140.0}
    assert {name: run.info.status for name, run in steps.items()} == {
        "squares": "FINISHED",
        "total": "FINISHED",
    }


@pytest.mark.timeout(180)
@pytest.mark.parametrize("failing", ["middle cell", "last cell"])
def test_worker_pool_notebook_with_a_failing_cell_ends_failed(
    failing: str, store: str, kernel_name: str, tmp_path: Path
) -> None:
    write_notebook(tmp_path / "pool.ipynb", worker_pool_cells(failing))
    done = subprocess.run(  # found on papermill's command line
        [sys.executable, "-m", "papermill", "pool.ipynb", "out.ipynb", "-k", kernel_name]
        + ["--no-progress-bar"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode != 0
    assert ("RuntimeError" if failing == "middle cell" else "ZeroDivisionError") in done.stderr

    parent, steps = runs_of(store, "pool")
    assert parent.info.status == "FAILED"
    assert parent.info.end_time is not None
    assert parent.data.tags["mlops.status"] == "failed"
    if failing == "middle cell":
        assert set(steps) == {"squares"}
    else:
        assert steps["last"].info.status == "FAILED"
        assert parent.data.metrics == {"m.total": 140.0}  # two --metrics steps, one failed


def test_shutdown_request_runs_the_callbacks_first_then_the_kernels_own() -> None:
    calls: list[str] = []
    kernel = SimpleNamespace(do_shutdown=lambda restart: calls.append(f"kernel {restart}") or 7)
    shell = SimpleNamespace(kernel=kernel)
    assert on_shutdown_request(shell, lambda: calls.append("finish"))
    assert on_shutdown_request(shell, lambda: 1 / 0)  # a failing callback stops nothing
    assert kernel.do_shutdown(False) == 7
    assert calls == ["finish", "kernel False"]
    assert not on_shutdown_request(SimpleNamespace(), lambda: None)  # terminal IPython


RELEASE_POOLS = """
import json, multiprocessing, sys
import psutil
from joblib import Parallel, delayed
from jupyter_mlops.jupyter.kernel_shutdown import release_worker_pools

def children():
    found = []
    for child in psutil.Process().children(recursive=True):
        line = " ".join(child.cmdline())
        found += [kind for kind in ("loky", "resource_tracker", "forkserver") if kind in line]
    return sorted(found)

if sys.argv[1] == "forkserver":  # another user of the multiprocessing tracker
    multiprocessing.get_context("forkserver").Process(target=print).start()
assert Parallel(n_jobs=2)(delayed(pow)(i, 2) for i in range(4)) == [0, 1, 4, 9]
before = children()
release_worker_pools()
after = children()
assert Parallel(n_jobs=2)(delayed(pow)(i, 2) for i in range(4)) == [0, 1, 4, 9]
release_worker_pools()
print(json.dumps([before, after]))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("forkserver", ["", "forkserver"])
def test_release_worker_pools_leaves_no_process_that_ignores_sigterm(forkserver: str) -> None:
    """In a fresh interpreter: loky's workers and both resource trackers (which ignore SIGTERM)
    are gone, and nothing was left for them to clean up; a forkserver changes nothing."""
    done = subprocess.run(
        [sys.executable, "-c", RELEASE_POOLS, forkserver],
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before.count("loky") == 3  # two workers and loky's resource tracker
    assert "resource_tracker" in before
    assert after == (["forkserver"] if forkserver else [])
    assert "leaked" not in done.stderr


# --- one metric naming scheme for notebook and pipeline runs ---------------------------------


@pytest.mark.timeout(600)
def test_notebook_run_and_pipeline_run_log_the_same_metric_names(
    store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two --metrics dicts share the key ``score``: neither value is lost, in either run."""
    notebook = tmp_path / "tracking_two_metrics.ipynb"
    shutil.copy(NOTEBOOKS / notebook.name, notebook)
    monkeypatch.setenv("JUPYTER_MLOPS_NOTEBOOK", str(notebook))
    papermill_api(notebook, tmp_path / "out.ipynb", kernel_name)
    expected = {
        "mean_metrics.score": 3.0,
        "mean_metrics.n": 4.0,
        "max_metrics.score": 6.0,
        "max_metrics.spread": 5.0,
    }
    notebook_run, _ = runs_of(store, "tracking_two_metrics")
    assert notebook_run.data.metrics == expected

    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", notebook.name, "--json"]
        + ["--engine", "inprocess", "--tracking-uri", store],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["metrics"] == expected
    pipeline_run = client_for(store).get_run(summary["run_id"])
    assert pipeline_run.data.tags.get("mlops.source") != "notebook"
    assert pipeline_run.data.metrics == notebook_run.data.metrics


@pytest.mark.parametrize(
    ("step_metrics", "metrics_vars", "expected"),
    [
        ({}, {}, {}),
        ({"ev": {"a": 1.0}}, {"ev": "m"}, {"a": 1.0}),
        ({"ev": {"a": 1.0}, "other": {}}, {"ev": "m", "other": "o"}, {"m.a": 1.0}),
        (
            {"ev": {"a": 1.0}, "ev2": {"a": 2.0}},
            {"ev": "m", "ev2": "m2"},
            {"m.a": 1.0, "m2.a": 2.0},
        ),
        (  # one variable declared by two steps: the step names keep the values apart
            {"ev": {"a": 1.0}, "ev2": {"a": 2.0}},
            {"ev": "m", "ev2": "m"},
            {"ev.a": 1.0, "ev2.a": 2.0},
        ),
    ],
)
def test_run_metrics_names(
    step_metrics: dict[str, dict[str, float]],
    metrics_vars: dict[str, str],
    expected: dict[str, float],
) -> None:
    assert run_metrics(step_metrics, metrics_vars) == expected


def test_declared_metrics_and_the_last_code_cell_of_a_notebook(tmp_path: Path) -> None:
    cells = read_notebook(NOTEBOOKS / "tracking_two_metrics.ipynb").cells
    assert declared_metrics_vars(cells) == {
        "mean_model": "mean_metrics",
        "max_model": "max_metrics",
    }
    assert last_code_cell(cells) == (4, cells[-1].source.strip())
    skipped = write_notebook(
        tmp_path / "s.ipynb", ["a = 1", "  ", "# md:text", "b = 2\n", ("c = 3", ["skip-execution"])]
    )
    assert last_code_cell(read_notebook(skipped).cells) == (2, "b = 2")
    assert last_code_cell([]) is None


@pytest.mark.timeout(120)
def test_tracking_env_off_records_nothing_and_imports_no_mlflow(
    store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nb").mkdir()
    notebook = write_notebook(tmp_path / "nb" / "small.ipynb", SMALL_NOTEBOOK)
    monkeypatch.setenv("JUPYTER_MLOPS_TRACKING", "0")
    out = tmp_path / "nb" / "out.ipynb"
    papermill_api(notebook, out, kernel_name, n=5)
    stdout = stream_text(out, "stdout")
    assert "mlflow imported: False" in stdout
    assert "tracking: off (JUPYTER_MLOPS_TRACKING=0)" in stdout
    assert experiments(store) == set()
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == ["out.ipynb", "small.ipynb"]


@pytest.mark.timeout(120)
def test_small_notebook_headless_status_and_metrics(
    store: str, kernel_name: str, tmp_path: Path
) -> None:
    notebook = write_notebook(tmp_path / "small.ipynb", SMALL_NOTEBOOK)
    out = tmp_path / "out.ipynb"
    papermill_api(notebook, out, kernel_name, n=5, PAPERMILL_INPUT_PATH=str(notebook))
    stdout = stream_text(out, "stdout")
    assert "tracking: on (headless: the kernel runs with allow_stdin=False" in stdout
    assert f"notebook: {notebook} (from PAPERMILL_INPUT_PATH)" in stdout
    assert f"tracking URI: {store}" in stdout
    assert "experiment: small" in stdout
    parent, steps = runs_of(store, "small")
    assert f"run: {parent.info.run_id}" in stdout
    assert parent.data.params == {"n": "5"}
    assert parent.data.metrics == {"score": 3.0}
    assert steps["second"].data.metrics["score"] == 3.0
    assert steps["first"].data.params == {"n": "5"}
    assert steps["first"].data.tags["mlops.writes"] == "x"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "bad_uri",
    [
        "nosuchscheme://nowhere",
        "http://127.0.0.1:9",  # nothing listens: fails in seconds, not after MLflow's retries
    ],
)
def test_bad_tracking_uri_prints_one_warning_and_the_notebook_succeeds(
    bad_uri: str, store: str, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = write_notebook(tmp_path / "small.ipynb", SMALL_NOTEBOOK)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", bad_uri)
    out = tmp_path / "out.ipynb"
    papermill_api(notebook, out, kernel_name, n=5)  # does not raise
    warnings = [line for line in stream_text(out, "stderr").splitlines() if line.strip()]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("jupyter_mlops: MLflow tracking is off for this session: ")
    assert bad_uri in warnings[0]
    assert "tracking: off (switched off after a failure: " in stream_text(out, "stdout")
    assert experiments(store) == set()


def test_headless_detection_follows_allow_stdin_of_each_request(kernel_name: str) -> None:
    """What a front end (allow_stdin=True) and nbclient (False) send, on a real ipykernel."""
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k not in OUR_ENV}
    manager, client = start_new_kernel(kernel_name=kernel_name, env=env)
    code = (
        "from jupyter_mlops.jupyter.notebook_tracking import tracking_decision\n"
        "print(tracking_decision(get_ipython()))"
    )
    try:
        printed = {}
        for allow_stdin in (True, False):
            texts: list[str] = []
            client.execute_interactive(
                code,
                allow_stdin=allow_stdin,
                output_hook=lambda msg, texts=texts: texts.append(msg["content"].get("text", "")),
                timeout=60,
            )
            printed[allow_stdin] = "".join(texts)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert printed[True].startswith("(False, 'interactive: the front end sends allow_stdin=True')")
    assert printed[False].startswith("(True, 'headless: the kernel runs with allow_stdin=False")


# --- interactive: opt-in ----------------------------------------------------------------------


@pytest.fixture
def shell(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test process's InteractiveShell with a fresh tracker, in a notebook's folder."""
    shell = InteractiveShell.instance()
    if "MlopsMagics" not in shell.magics_manager.registry:
        shell.run_line_magic("load_ext", "jupyter_mlops")
    magics = shell.magics_manager.registry["MlopsMagics"]
    assert isinstance(magics, MlopsMagics)
    magics.session.clear()
    magics.tracker = NotebookTracker(shell)
    notebook = write_notebook(tmp_path / "explore.ipynb", [("rate = 0.1", ["parameters"])])
    monkeypatch.setenv("JUPYTER_MLOPS_NOTEBOOK", str(notebook))
    yield shell
    magics.tracker.finish()


def test_interactive_records_nothing_until_track_on(
    shell: Any, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell("rate = 0.3\n", store_history=True)
    shell.run_cell("%%mlstep prep\nrows = [1, 2, 3]", store_history=True)
    assert experiments(store) == set()
    shell.run_line_magic("mlops", "track")
    status = capsys.readouterr().out
    assert status.startswith("tracking: off (interactive: no kernel, terminal IPython)\n")
    assert "experiment: explore" in status and f"tracking URI: {store}" in status
    assert status.rstrip().endswith("turn on with: %mlops track on")

    shell.run_line_magic("mlops", "track on")
    assert "run: none yet (starts at the next %%mlstep cell)" in capsys.readouterr().out
    shell.run_cell("%%mlstep prep\nrows = [1, 2, 3]", store_history=True)
    shell.run_cell("%%mlstep score --metrics m\nm = {'n': len(rows), 'label': 'x'}")
    shell.run_line_magic("mlops", "track")
    parent, steps = runs_of(store, "explore")
    assert f"run: {parent.info.run_id}" in capsys.readouterr().out
    assert parent.info.status == "RUNNING"
    assert parent.data.params == {"rate": "0.3"}  # the value when the first step started
    assert steps["score"].data.metrics == {"n": 3.0, "duration_seconds": pytest.approx(0, abs=1)}

    shell.run_line_magic("mlops", "track off")
    assert capsys.readouterr().out.startswith("tracking: off (turned off with %mlops track off)")
    parent, _ = runs_of(store, "explore")
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics == {"n": 3.0}
    shell.run_cell("%%mlstep prep\nrows = [1]", store_history=True)
    assert len(runs_of(store, "explore")[1]) == 2  # nothing more once off


def test_interactive_failed_step_fails_the_run_unless_it_was_rerun_successfully(
    shell: Any, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("mlops", "track on")
    shell.run_cell("1 / 0")  # an exploratory cell failing does not fail an interactive run
    shell.run_cell("%%mlstep fit\nmodel = undefined_name")
    capsys.readouterr()
    client = client_for(store)
    experiment = client.get_experiment_by_name("explore").experiment_id
    [failed] = client.search_runs([experiment], "tags.`mlops.step` = 'fit'")
    assert failed.info.status == "FAILED"
    assert failed.data.tags["mlops.status"] == "failed"
    assert failed.data.tags["mlops.error"] == "NameError: name 'undefined_name' is not defined"
    shell.run_line_magic("mlops", "track off")
    assert runs_of(store, "explore")[0].info.status == "FAILED"

    shell.run_line_magic("mlops", "track on")  # a new parent run
    shell.run_cell("%%mlstep fit\nmodel = undefined_name")
    shell.run_cell("%%mlstep fit\nmodel = 1")
    shell.run_line_magic("mlops", "track off")
    runs = client.search_runs([experiment], "attributes.status = 'FINISHED'")
    assert any("mlflow.parentRunId" not in run.data.tags for run in runs)


def test_track_usage_error(shell: Any) -> None:
    with pytest.raises(UsageError, match=r"usage: %mlops track \[on\|off\] \(got 'maybe'\)"):
        shell.run_line_magic("mlops", "track maybe")


# --- the decisions, as plain functions ---------------------------------------------------------


def kernel_shell(allow_stdin: bool) -> Any:
    return SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=allow_stdin))


@pytest.mark.parametrize(
    ("shell", "env", "expected"),
    [
        (kernel_shell(False), {}, True),
        (kernel_shell(True), {}, False),
        (SimpleNamespace(), {}, False),
        (kernel_shell(False), {"JUPYTER_MLOPS_TRACKING": "off"}, False),
        (kernel_shell(False), {"JUPYTER_MLOPS_TRACKING": "0"}, False),
        (kernel_shell(True), {"JUPYTER_MLOPS_TRACKING": "TRUE"}, True),
        (SimpleNamespace(), {"JUPYTER_MLOPS_TRACKING": "1"}, True),
        (kernel_shell(True), {"JUPYTER_MLOPS_TRACKING": "maybe"}, False),
    ],
)
def test_tracking_decision(shell: Any, env: dict[str, str], expected: bool) -> None:
    assert tracking_decision(shell, env)[0] is expected


def test_find_notebook_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ns = {"PAPERMILL_INPUT_PATH": "/in/a.ipynb", "__session__": "/s/c.ipynb"}
    env = {"JUPYTER_MLOPS_NOTEBOOK": "rel/x.ipynb", "JPY_SESSION_NAME": "/s/b.ipynb"}
    assert find_notebook(ns, env) == (tmp_path / "rel/x.ipynb", "$JUPYTER_MLOPS_NOTEBOOK")
    assert find_notebook(ns, {}) == (Path("/in/a.ipynb"), "PAPERMILL_INPUT_PATH")
    del ns["PAPERMILL_INPUT_PATH"]
    assert find_notebook(ns, env | {"JUPYTER_MLOPS_NOTEBOOK": " "})[1] == "$JPY_SESSION_NAME"
    assert find_notebook(ns, {}) == (Path("/s/c.ipynb"), "__session__")


def test_notebook_on_the_parent_command_line_is_resolved_against_its_cwd(tmp_path: Path) -> None:
    child = "from jupyter_mlops.jupyter.notebook_tracking import find_notebook; print(find_notebook({}, {}))"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    done = subprocess.run(
        [sys.executable, "-c", parent, "--flag=x.ipynb", "sub/run.ipynb", "out.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = (tmp_path / "sub" / "run.ipynb", "parent process command line")
    assert done.stdout.strip() == repr(expected)


def test_parameter_names_of_the_example() -> None:
    names = parameter_names(read_notebook(CLASSIFICATION).cells)
    assert names == ["test_size", "n_estimators", "max_depth", "threshold"]
