"""SIGKILL of a tracked ``jupyter-mlops run`` at a random moment, then a re-run, per engine.

Each round trains a different model (``-p C=…``), kills the CLI process alone (``kill -9``
of its pid, as an OOM killer or a cancelled CI job does) at a moment drawn from a seeded
generator over the length of a clean run — during a step, during validation, during MLflow
recording or registration — and re-runs the same command. Counted, and required to be 0:

- orphan processes (the CLI's descendants still alive after a bounded wait);
- failed re-runs;
- lost registrations (a round's model — each round's ``C`` gives other model bytes — with no
  registered version, whichever run registered it) and duplicate ones (two versions of one
  byte-identical model);
- MLflow runs left RUNNING;
- corrupted artifacts trusted (a store object whose bytes do not match its name).

Rounds: 3 per engine in ``make test``; ``JUPYTER_MLOPS_RELIABILITY_ROUNDS=20`` (``make
reliability-table``) for the long version. Waits are generous bounds, never assertions.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from mlflow_fixtures import client_for
from nbfactory import write_notebook

from jupyter_mlops import api
from jupyter_mlops.artifacts.store import ArtifactStore

CLI = str(Path(sys.executable).with_name("jupyter-mlops"))
BOUND = 300.0  # seconds: a generous bound for a run or an exit, never a speed requirement
CELLS: list[Any] = [
    "import time\nimport numpy as np\nfrom sklearn.linear_model import LogisticRegression",
    ("C = 1.0\npause = 0.2", ["parameters"]),
    "%%mlstep load\ntime.sleep(pause)\n"
    "X = np.linspace(0, 1, 200).reshape(-1, 2)\ny = (X[:, 0] + X[:, 1] > 1).astype(int)",
    "%%mlstep train --model model\ntime.sleep(pause)\nmodel = LogisticRegression(C=C).fit(X, y)",
    "%%mlstep evaluate --metrics scores\nscores = {'accuracy': float(model.score(X, y))}",
]


def run_command(folder: Path, engine: str, uri: str, c: float) -> list[str]:
    return [CLI, "run", str(folder), "--engine", engine, "--tracking-uri", uri, "--json"] + [
        "-p",
        f"C={c!r}",
    ]


def finished_run(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``command`` to its end; its ``--json`` summary (the test fails on a non-zero exit)."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=BOUND)
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def kill_at(command: list[str], cwd: Path, delay: float) -> int:
    """Start ``command`` in a session of its own, SIGKILL the CLI alone after ``delay`` s;
    the number of its descendants still alive after a bounded wait (then killed)."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    descendants: set[psutil.Process] = set()
    deadline = time.monotonic() + delay
    root = psutil.Process(process.pid)
    while time.monotonic() < deadline and process.poll() is None:
        try:
            descendants.update(root.children(recursive=True))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=BOUND)
    alive = psutil.wait_procs(list(descendants), timeout=60)[1]
    for leftover in alive:  # leave nothing running, whatever the count says
        leftover.kill()
    return len(alive)


def running_runs(uri: str) -> list[str]:
    client = client_for(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'")
    return [run.info.run_id for run in runs]


def corrupted_objects(folder: Path) -> int:
    store = ArtifactStore.for_pipeline(folder)
    return sum(1 for digest in store.hashes() if not store.verify(digest))


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("engine", ["inprocess", "papermill"])
def test_sigkill_at_random_moments_loses_nothing_and_leaves_nothing(
    engine: str, tmp_path: Path, tracking_uri: str, rounds: int, figures: Any
) -> None:
    notebook = write_notebook(tmp_path / "killed.ipynb", CELLS)
    folder = Path(api.extract(notebook).folder)
    start = time.monotonic()
    finished_run(run_command(folder, engine, tracking_uri, 0.5), tmp_path)
    clean_run = time.monotonic() - start
    rng = random.Random(f"kill-anywhere-{engine}")
    counts = {"orphan_processes": 0, "failed_reruns": 0}
    for index in range(rounds):
        command = run_command(folder, engine, tracking_uri, 1.0 + index)
        counts["orphan_processes"] += kill_at(command, tmp_path, rng.uniform(0, clean_run))
        if finished_run(command, tmp_path)["status"] != "succeeded":
            counts["failed_reruns"] += 1
    registered = client_for(tracking_uri).search_model_versions("name = 'killed'")
    shas = [v.tags.get("mlops.model_sha256") for v in registered]
    models = rounds + 1  # the clean run's and one per round
    counts["lost_registrations"] = models - len({sha for sha in shas if sha})
    counts["duplicate_registrations"] = len(shas) - len(set(shas))
    counts["running_runs_left"] = len(running_runs(tracking_uri))
    counts["corrupted_artifacts_trusted"] = corrupted_objects(folder)
    figures.add(f"SIGKILL of a tracked run at a random moment, then a re-run ({engine})",
                kills=rounds, **counts)  # fmt: skip
    assert counts == dict.fromkeys(counts, 0), counts
