"""A team on one ``mlflow server`` backed by PostgreSQL: eight pipeline runs from eight
processes at once, while other processes promote and roll back aliases of the same model;
every run, step run, model version, alias move and history entry is recorded, none lost,
and no process reports an error."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from mlflow_fixtures import client_for
from mlflow_server import MlflowServer
from quality_pipeline import BIN
from team_pipeline import write_team_notebook

RUNS = 8
STEPS = 5
SEED_C = (1.0, 0.5)  # versions 1 and 2, registered before the concurrent part
RUN_C = (0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9)  # one distinct model per concurrent run
MOVER_ALIASES = ("team-a", "team-b", "team-c")
TROUBLE = ("traceback", "database is locked", "error", "exception")


def mlops(*args: str, tracking_uri: str) -> list[str]:
    return [str(BIN / "jupyter-mlops"), *args, "--tracking-uri", tracking_uri]


def run_command(notebook: Path, c_value: float, tracking_uri: str) -> list[str]:
    return mlops(
        "run", str(notebook), "--engine", "inprocess", "-p", f"C={c_value}",
        tracking_uri=tracking_uri,
    )  # fmt: skip


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    """Exit 0 and no error of any kind in the output."""
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not [word for word in TROUBLE if word in output.lower()], output


def seed_two_versions(folder: Path, tracking_uri: str) -> float:
    """Versions 1 and 2 of model ``quality``; the wall time of the first (a lone run)."""
    notebook = write_team_notebook(folder)
    started = time.monotonic()
    first = subprocess.run(run_command(notebook, SEED_C[0], tracking_uri), capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    lone_seconds = time.monotonic() - started
    assert_clean(first)
    second = subprocess.run(run_command(notebook, SEED_C[1], tracking_uri), capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    assert_clean(second)
    return lone_seconds


def mover_commands(alias: str, tracking_uri: str) -> list[list[str]]:
    """Four moves of ``alias``: (unset) → 1 → 2 → 1 (rollback) → 2."""
    promote = ("promote", "quality", "--alias", alias, "--version")
    return [
        mlops(*promote, "1", tracking_uri=tracking_uri),
        mlops(*promote, "2", tracking_uri=tracking_uri),
        mlops("rollback", "quality", "--alias", alias, tracking_uri=tracking_uri),
        mlops(*promote, "2", tracking_uri=tracking_uri),
    ]


def move_alias_in_turn(commands: list[list[str]], outputs: list[subprocess.CompletedProcess[str]]) -> None:  # fmt: skip
    for command in commands:
        outputs.append(subprocess.run(command, capture_output=True, text=True, timeout=600))


def test_eight_concurrent_runs_and_alias_moves_are_all_recorded(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    uri = mlflow_server.url
    lone_seconds = seed_two_versions(tmp_path / "seed", uri)
    notebooks = [write_team_notebook(tmp_path / f"member{index}") for index in range(RUNS)]
    started = time.monotonic()
    runs = [
        subprocess.Popen(
            run_command(notebook, c_value, uri),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for notebook, c_value in zip(notebooks, RUN_C, strict=True)
    ]
    mover_outputs: list[list[subprocess.CompletedProcess[str]]] = [[] for _ in MOVER_ALIASES]
    movers = [
        threading.Thread(target=move_alias_in_turn, args=(mover_commands(alias, uri), outputs))
        for alias, outputs in zip(MOVER_ALIASES, mover_outputs, strict=True)
    ]
    for mover in movers:
        mover.start()
    run_outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=900)
        run_outputs.append(subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr))
    concurrent_seconds = time.monotonic() - started
    for mover in movers:
        mover.join(timeout=900)
    print(f"\none run {lone_seconds:.1f} s; {RUNS} concurrent runs {concurrent_seconds:.1f} s")
    for done in [*run_outputs, *(done for outputs in mover_outputs for done in outputs)]:
        assert_clean(done)
    assert_runs_recorded(uri, 2 + RUNS)
    assert_versions_and_history(uri, 2 + RUNS)
    for folder in [tmp_path / "seed", *(notebook.parent for notebook in notebooks)]:
        assert list((folder / "pipelines" / "quality" / ".mlops" / "runs").glob("*.json")) == []


def assert_runs_recorded(uri: str, parents: int) -> None:
    """``parents`` parent runs, FINISHED, each with one FINISHED step run per step."""
    client = client_for(uri)
    experiment = client.get_experiment_by_name("quality")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parent_runs = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert len(parent_runs) == parents
    assert {run.info.status for run in runs} == {"FINISHED"}
    for parent in parent_runs:
        steps = [
            run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id
        ]
        assert sorted(run.data.tags["mlops.step"] for run in steps) == sorted(
            ["load", "split", "arrays", "train", "evaluate"]
        )


def assert_versions_and_history(uri: str, versions: int) -> None:
    """One version per distinct model; every alias move in the history, in order."""
    client = client_for(uri)
    found = client.search_model_versions("name='quality'")
    assert sorted(int(version.version) for version in found) == list(range(1, versions + 1))
    history = subprocess.run(mlops("history", "quality", "--json", tracking_uri=uri),
                             capture_output=True, text=True, timeout=600)  # fmt: skip
    assert_clean(history)
    moves = json.loads(history.stdout)["moves"]
    challenger = [move for move in moves if move["alias"] == "challenger"]
    assert sorted(int(move["to"]) for move in challenger) == list(range(1, versions + 1))
    for alias in MOVER_ALIASES:
        own = [
            (move["from"], move["to"], move["reason"]) for move in moves if move["alias"] == alias
        ]
        assert own == [
            (None, "1", "promote"),
            ("1", "2", "promote"),
            ("2", "1", "rollback"),
            ("1", "2", "promote"),
        ]
        assert client.get_model_version_by_alias("quality", alias).version == "2"
