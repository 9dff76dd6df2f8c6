"""Run records in a real MLflow SQLite store; tracking URI resolution; git commit lookup."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from mlflow_fixtures import (
    COMMIT,
    H_MODEL,
    H_RAW,
    H_TRAIN,
    assert_no_global_store,
    client_for,
    recorder,
    ref,
)

from jupyter_mlops import __version__
from jupyter_mlops.errors import TrackingError
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.tracking.gitinfo import git_commit
from jupyter_mlops.tracking.store import default_artifact_location, resolve_tracking_uri


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory: records must never land in it."""
    path = tmp_path / "cwd"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


def nested_runs(client, experiment_id: str, parent_id: str) -> dict:  # type: ignore[no-untyped-def]
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'"
    )
    return {run.data.tags["mlops.step"]: run for run in runs}


# --- tracking URI -----------------------------------------------------------------------


def test_tracking_uri_defaults_to_sqlite_in_project_root(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (cwd / "proj").mkdir()
    uri = resolve_tracking_uri(None, Path("proj"))
    assert uri == f"sqlite:///{(cwd / 'proj' / 'mlflow.db').as_posix()}"
    assert uri.startswith("sqlite:////")  # absolute, whatever the cwd is later


def test_tracking_uri_env_var_then_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert resolve_tracking_uri(None, Path("/p")) == "http://mlflow.example:5000"
    assert resolve_tracking_uri("sqlite:////x/y.db", Path("/p")) == "sqlite:////x/y.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "  ")
    assert resolve_tracking_uri(None, Path("/p")) == "sqlite:////p/mlflow.db"


def test_default_artifact_location() -> None:
    assert default_artifact_location("sqlite:////data/m.db") == "file:///data/mlartifacts"
    assert default_artifact_location("sqlite:////data/m.db", "/proj") == "file:///proj/mlartifacts"
    assert default_artifact_location("http://server:5000", "/proj") is None
    assert default_artifact_location("sqlite:///:memory:") is None


# --- run records ------------------------------------------------------------------------


def test_run_with_ran_and_cached_steps(tracking_uri: str, tmp_path: Path, cwd: Path) -> None:
    rec = recorder(tracking_uri, tmp_path)
    parent_id = rec.start()
    report = tmp_path / "out" / "train.ipynb"
    report.parent.mkdir()
    report.write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    prepare = StepResult(
        "prepare",
        status="cached",
        cache_key="k1",
        outputs={"df": ref("df", H_RAW)},
        run_id="0" * 32,
    )
    train = StepResult(
        "train",
        status="ran",
        seconds=1.5,
        cache_key="k2",
        params={"n_estimators": 10},
        inputs={"df": ref("df", H_RAW)},
        outputs={"model": ref("model", H_MODEL), "X_train": ref("X_train", H_TRAIN)},
        metrics={"accuracy": 0.9, "f1@macro": 0.8},
        report=report,
    )
    ids = {rec.record_step(prepare), rec.record_step(train)}
    result = RunResult("demo", tmp_path, rec.params, {"prepare": prepare, "train": train})
    result.model_version = "1"
    rec.finish(result)

    client = client_for(tracking_uri)
    experiment = client.get_experiment_by_name("demo")
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()
    parents = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`mlops.pipeline` = 'demo' and attributes.status = 'FINISHED'",
    )
    parent = next(run for run in parents if "mlflow.parentRunId" not in run.data.tags)
    assert parent.info.run_id == parent_id
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert tags["mlops.notebook_sha256"] == "f" * 64
    assert tags["mlops.git_commit"] == tags["mlflow.source.git.commit"] == COMMIT
    assert tags["mlops.tool_version"] == __version__
    assert tags["mlops.status"] == "succeeded"
    assert tags["mlops.model_version"] == "1"
    assert parent.data.params == {"n_estimators": "10", "test_size": "0.25", "label": "y"}
    assert parent.data.metrics == {"accuracy": 0.9, "f1_macro": 0.8}

    steps = nested_runs(client, experiment.experiment_id, parent_id)
    assert {run.info.run_id for run in steps.values()} == ids
    ran, cached = steps["train"], steps["prepare"]
    assert ran.info.status == cached.info.status == "FINISHED"
    assert ran.info.run_name == "train"
    assert ran.data.tags["mlops.status"] == "ran"
    assert ran.data.tags["mlops.input.df"] == H_RAW
    assert ran.data.tags["mlops.output.model"] == H_MODEL
    assert ran.data.tags["mlops.output.X_train"] == H_TRAIN
    assert ran.data.tags["mlops.cache_key"] == "k2"
    assert "mlops.cached_from_run" not in ran.data.tags
    assert ran.data.params == {"n_estimators": "10"}
    assert ran.data.metrics == {"accuracy": 0.9, "f1_macro": 0.8, "duration_seconds": 1.5}
    assert [a.path for a in client.list_artifacts(ran.info.run_id)] == ["train.ipynb"]
    local = client.download_artifacts(ran.info.run_id, "train.ipynb", str(tmp_path))
    assert Path(local).read_text() == report.read_text()

    assert cached.data.tags["mlops.status"] == "cached"
    assert cached.data.tags["mlops.cached_from_run"] == "0" * 32
    assert cached.data.tags["mlops.output.df"] == H_RAW
    assert cached.data.metrics == {"duration_seconds": 0.0}
    assert client.list_artifacts(cached.info.run_id) == []

    assert list(cwd.iterdir()) == []
    assert_no_global_store(tmp_path)


def test_failed_run(tracking_uri: str, tmp_path: Path, cwd: Path) -> None:
    rec = recorder(tracking_uri, tmp_path)
    parent_id = rec.start()
    failed = StepResult(
        "prepare",
        status="failed",
        seconds=0.2,
        error="step 'prepare': ValueError: bad data",
        traceback="Traceback (most recent call last):\nValueError: bad data\n",
    )
    skipped = StepResult("train")  # not_run
    rec.record_step(failed)
    rec.record_step(skipped)
    result = RunResult("demo", tmp_path, rec.params, {"prepare": failed, "train": skipped})
    result.status, result.error = "failed", failed.error
    rec.finish(result)

    client = client_for(tracking_uri)
    parent = client.get_run(parent_id)
    assert parent.info.status == "FAILED"
    assert parent.data.tags["mlops.status"] == "failed"
    assert parent.data.tags["mlops.error"] == failed.error
    steps = nested_runs(client, parent.info.experiment_id, parent_id)
    assert steps["prepare"].info.status == "FAILED"
    assert steps["prepare"].data.tags["mlops.status"] == "failed"
    assert steps["train"].info.status == "KILLED"
    assert steps["train"].data.tags["mlops.status"] == "not_run"
    run_id = steps["prepare"].info.run_id
    assert [a.path for a in client.list_artifacts(run_id)] == ["traceback.txt"]
    local = client.download_artifacts(run_id, "traceback.txt", str(tmp_path))
    assert "ValueError: bad data" in Path(local).read_text()
    assert_no_global_store(tmp_path)


def test_record_step_from_threads(tracking_uri: str, tmp_path: Path, cwd: Path) -> None:
    rec = recorder(tracking_uri, tmp_path)
    parent_id = rec.start()
    names = [f"step{i}_{j}" for i in range(4) for j in range(3)]
    ids: dict[str, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(3):
                name = f"step{i}_{j}"
                result = StepResult(name, status="ran", seconds=0.1, metrics={"m": float(i)})
                ids[name] = rec.record_step(result)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rec.finish(RunResult("demo", tmp_path, rec.params, {}))

    client = client_for(tracking_uri)
    steps = nested_runs(client, rec.experiment_id, parent_id)
    assert sorted(steps) == sorted(names)
    assert {name: run.info.run_id for name, run in steps.items()} == ids == rec.step_run_ids
    assert all(run.data.metrics["m"] == float(name[4]) for name, run in steps.items())


def test_experiment_is_reused_across_runs(tracking_uri: str, tmp_path: Path, cwd: Path) -> None:
    first, second = recorder(tracking_uri, tmp_path), recorder(tracking_uri, tmp_path)
    assert first.start() != second.start()
    assert first.experiment_id == second.experiment_id


def test_record_step_before_start_is_an_error(tracking_uri: str, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="start"):
        recorder(tracking_uri, tmp_path).record_step(StepResult("prepare"))


def test_unusable_tracking_uri_is_a_one_line_error(tmp_path: Path) -> None:
    rec = recorder("nosuchscheme://somewhere", tmp_path)
    with pytest.raises(TrackingError) as info:
        rec.start()
    message = str(info.value)
    assert message.startswith("nosuchscheme://somewhere: cannot start the run record in MLflow: ")
    assert "\n" not in message
    assert info.value.exit_code == 1


def test_deleted_experiment_says_how_to_fix(tracking_uri: str, tmp_path: Path, cwd: Path) -> None:
    recorder(tracking_uri, tmp_path).start()
    client = client_for(tracking_uri)
    client.delete_experiment(client.get_experiment_by_name("demo").experiment_id)
    with pytest.raises(TrackingError, match="experiment 'demo' is deleted; restore it"):
        recorder(tracking_uri, tmp_path).start()


# --- git --------------------------------------------------------------------------------


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_of_a_repository_folder(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    git(repo, "init", "-q")
    assert git_commit(repo) is None  # no commit yet
    (repo / "sub" / "f.txt").write_text("x")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "HEAD")
    assert git_commit(repo / "sub") == head
    assert git_commit(repo / "sub" / "f.txt") == head


def test_git_commit_outside_a_repository_or_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert git_commit(tmp_path) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert git_commit(Path(__file__).parent) is None
