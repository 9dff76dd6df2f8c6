"""The whole continuous-training loop on 127.0.0.1, with real parts only.

A classification notebook reads its data from the file its ``data_path`` parameter names;
version 1, trained on ``train.parquet``, is gated, registered in a real SQLite MLflow store
and served by a real ``jupyter mlops serve`` process following alias ``production``, with a
request log. Then, through the CLI as a user would run it:

1. drifted traffic (both features shifted by two standard deviations) goes through HTTP in
   one request of as many rows as the request log writes a file for, so the file is written
   at once and the rows make one monitoring window (no waiting on a clock);
2. ``jupyter mlops monitor churn --service-log DIR --fail-on drift`` exits 1: dataset drift,
   recorded as a window of experiment ``churn-monitoring``;
3. ``jupyter mlops trigger PIPELINE``: the ``drift`` trigger reads that window and fires;
   the pipeline re-runs on the new labelled data (``incoming.parquet``, named by the
   trigger's params), the gates validate version 2 against the champion (version 1,
   re-scored on the new evaluation rows), and a canary rollout to the running service —
   under live traffic — moves ``production`` to version 2; the MLflow run records why;
4. new data arrives with shuffled labels: the ``new_data`` trigger fires, version 3 is
   rejected by the gates (against champion version 2), nothing is deployed, and the service
   still answers with version 2.

The world moves in the drifted data: features centred on 2 and the label ``a + b > 4``, so
version 1 (``a + b > 0``) answers almost every drifted row with 1 and a retrained model is
clearly better. Every datum is seeded; nothing is timed.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import assert_no_global_store, client_for
from nbfactory import write_notebook
from serving.service_process import Service, http

from jupyter_mlops import api
from jupyter_mlops.deploy.serving.request_log import RequestLog

NAME = "churn"
FEATURES = ["a", "b"]
SHIFT = 2.0  # the drifted data's features are centred here; its label is a + b > 2 * SHIFT
TRAIN_ROWS = NEW_ROWS = 2000
# the request log writes a file every ROTATE_ROWS rows (or every minute)
ROTATE_ROWS = inspect.signature(RequestLog).parameters["rotate_rows"].default
CLI = [sys.executable, "-m", "jupyter_mlops.cli"]
COMMAND_TIMEOUT = 300
WAIT = 60.0  # bound on waiting for the request log's file; never a timing assertion

SETUP = "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
LOAD = "%%mlstep load\ndf = pd.read_parquet(data_path)\n"
SPLIT = (
    "%%mlstep split\n"
    "cut = int(len(df) * 0.8)\n"
    "X_train, X_test = df[['a', 'b']].iloc[:cut], df[['a', 'b']].iloc[cut:]\n"
    "y_train, y_test = df['label'].iloc[:cut], df['label'].iloc[cut:]\n"
)
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression().fit(X_train, y_train)\n"
EVALUATE = (
    "%%mlstep evaluate --metrics metrics\n"
    "metrics = {'accuracy': float(model.score(X_test, y_test))}\n"
)
GATES = """
gates:
  metrics:
    accuracy: {min: 0.8, min_improvement: 0.0}
  promote: champion
"""


def features(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """``n`` seeded rows of a and b, normal around ``shift``."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(shift, 1.0, n), "b": rng.normal(shift, 1.0, n)})


def labelled(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Rows with their label: 1 when a + b is above 2 * ``shift`` (the population's middle)."""
    frame = features(n, seed, shift)
    frame["label"] = (frame["a"] + frame["b"] > 2 * shift).astype("int64")
    return frame


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``jupyter mlops ARGS`` in a child process, as a user runs it."""
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


def log_files(log_dir: Path) -> list[Path]:
    """The request log's written files (never a half-written one)."""
    folder = log_dir / "requests" / NAME
    return sorted(folder.glob("[!.]*.parquet")) if folder.is_dir() else []


def send_drifted_traffic(service: Service, log_dir: Path) -> None:
    """One drifted request of ``ROTATE_ROWS`` rows, then wait for the file the request log
    writes when its rows reach that count."""
    frame = features(ROTATE_ROWS, seed=1, shift=SHIFT)
    body = {"dataframe_split": {"columns": FEATURES, "data": frame.to_numpy().tolist()}}
    reply = service.post("/invocations", body)
    assert (reply.status, reply.headers["x-model-version"]) == (200, "1"), reply.body[:300]
    deadline = time.monotonic() + WAIT
    while not log_files(log_dir):
        assert time.monotonic() < deadline, "the request log wrote no file"
        time.sleep(0.05)


class LiveTraffic:
    """One client posting one drifted row at a time until stopped; the answers it got."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._post, daemon=True)

    def __enter__(self) -> LiveTraffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT)

    def _post(self) -> None:
        rows = features(500, seed=5, shift=SHIFT).to_dict(orient="records")
        index = 0
        while not self._stop.is_set():
            body = json.dumps({"dataframe_records": [rows[index % len(rows)]]}).encode()
            reply = http(self.url + "/invocations", body)
            self.answers.append((reply.status, reply.headers.get("x-model-version")))
            index += 1
            self._stop.wait(0.02)


def served_version(service: Service) -> str:
    """The version that answered one drifted row."""
    reply = service.post("/invocations", {"dataframe_records": [{"a": 2.0, "b": 2.5}]})
    assert reply.status == 200, reply.body
    return reply.headers["x-model-version"]


def aliases(uri: str) -> dict[str, str]:
    return {
        alias: str(version)
        for alias, version in client_for(uri).get_registered_model(NAME).aliases.items()
    }


@pytest.fixture
def project(tmp_path: Path, tracking_uri: str) -> Iterator[tuple[Path, Path]]:
    """The data folder and the extracted pipeline, version 1 trained, validated by its
    gates (no champion yet) and promoted to ``production``."""
    data = tmp_path / "data"
    data.mkdir()
    labelled(TRAIN_ROWS, seed=0).to_parquet(data / "train.parquet")
    params = (f"data_path = {str(data / 'train.parquet')!r}", ["parameters"])
    notebook = write_notebook(
        tmp_path / f"{NAME}.ipynb", [SETUP, params, LOAD, SPLIT, TRAIN, EVALUATE]
    )
    folder = api.extract(notebook).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write(GATES)
    first = api.run(folder, api.RunOptions(engine="inprocess", tracking_uri=tracking_uri))
    assert first.status == "succeeded", first.failed_links
    assert first.gates is not None and first.gates.validated
    api.promote(str(folder), "1", alias="production", tracking_uri=tracking_uri)
    assert aliases(tracking_uri) == {"champion": "1", "challenger": "1", "production": "1"}
    yield data, folder
    assert_no_global_store(tmp_path)


def add_deploy_and_triggers(folder: Path, url: str, incoming: Path) -> None:
    """A canary target on the running service, and the two triggers re-running the pipeline
    on ``incoming``: on drift in the latest monitoring window, and when the file changes."""
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write(
            f"""
deploy:
  prod:
    url: {url}
    strategy: canary
    steps: [50]
    interval: 1s
    analysis: {{min_requests: 0}}
triggers:
  drifted:
    kind: drift
    windows: 1
    params: {{data_path: {json.dumps(str(incoming))}}}
    deploy: prod
  new-labels:
    kind: new_data
    path: {json.dumps(str(incoming))}
    params: {{data_path: "{{path}}"}}
    deploy: prod
"""
        )


def test_drift_retrains_gates_and_rolls_out_and_a_worse_model_is_rejected(
    project: tuple[Path, Path], tracking_uri: str, tmp_path: Path
) -> None:
    data, folder = project
    incoming = data / "incoming.parquet"
    log_dir = tmp_path / "serve-log"
    serve_args = ["--poll-interval", "0.2s", "--log-dir", str(log_dir)]
    serve_args += ["--max-rows", str(ROTATE_ROWS)]  # the whole rotation in one request
    with Service(tracking_uri, NAME, *serve_args, cwd=tmp_path) as service:
        add_deploy_and_triggers(folder, service.url, incoming)
        send_drifted_traffic(service, log_dir)

        # monitor: the drifted inputs against version 1's training reference
        monitored = cli(
            "monitor", NAME, "--service-log", str(log_dir), "--fail-on", "drift",
            "--tracking-uri", tracking_uri, cwd=tmp_path,
        )  # fmt: skip
        assert monitored.returncode == 1, monitored.stdout + monitored.stderr
        lines = monitored.stdout.splitlines()
        assert lines[0].startswith(f"{NAME}: reference version 1 (1,600 training rows, 2 features)")
        assert lines[1].endswith(f":00:00+00:00: {ROTATE_ROWS:,} rows (v1: {ROTATE_ROWS:,})")
        assert "  features: DRIFT, 2/2 columns drifted (share 1.00): a, b" in lines
        assert lines[-1] == f"latest window: drift fired (MLflow experiment {NAME}-monitoring)"
        client = client_for(tracking_uri)
        experiment = client.get_experiment_by_name(f"{NAME}-monitoring")
        [window] = client.search_runs([experiment.experiment_id])
        assert window.data.metrics["drift.dataset"] == 1.0
        assert window.data.metrics["rows"] == ROTATE_ROWS
        assert window.data.tags["mlops.monitor.model"] == NAME

        # the drift trigger fires: re-run on the new data, gates, canary under live traffic
        labelled(NEW_ROWS, seed=2, shift=SHIFT).to_parquet(incoming)
        planned = cli(
            "trigger", str(folder), "--dry-run", "--tracking-uri", tracking_uri, cwd=tmp_path
        )  # fmt: skip
        assert planned.returncode == 0, planned.stdout + planned.stderr
        assert "would fire: drifted" in planned.stdout
        assert planned.stdout.splitlines()[-1] == "dry run: nothing changed"
        assert not (folder / ".mlops" / "triggers.json").exists()
        with LiveTraffic(service.url) as live:
            retrained = cli(
                "trigger", str(folder), "--engine", "inprocess", "--tracking-uri", tracking_uri,
                cwd=tmp_path,
            )  # fmt: skip
        assert retrained.returncode == 0, retrained.stdout + retrained.stderr
        out = retrained.stdout
        assert "drifted (drift): fires: dataset drift in each of the latest 1 windows" in out
        assert "new-labels (new_data): baseline: first evaluation" in out
        assert "fired: drifted" in out
        assert "gates: model version 2 validated against champion version 1" in out
        assert f"deploy prod: {NAME}: production 1 → 2 (canary, rollout r-" in out
        assert aliases(tracking_uri)["production"] == "2"
        assert service.get("/version").json()["alias_version"] == "2"
        assert served_version(service) == "2"
        assert live.answers and {status for status, _ in live.answers} == {200}
        run_id = out.split("recorded on MLflow run ")[1].split()[0]
        tags = client.get_run(run_id).data.tags
        assert (tags["mlops.trigger"], tags["mlops.trigger.kind"]) == ("drifted", "drift")
        assert tags["mlops.trigger.reason"].startswith("dataset drift in each of the latest 1")
        assert client.get_run(run_id).data.params["data_path"] == str(incoming)

        # new data with shuffled labels: the new_data trigger fires, the gates reject
        broken = labelled(NEW_ROWS, seed=3, shift=SHIFT)
        broken["label"] = np.random.default_rng(4).permutation(broken["label"].to_numpy())
        broken.to_parquet(incoming)
        rejected = cli(
            "trigger", str(folder), "--engine", "inprocess", "--tracking-uri", tracking_uri,
            cwd=tmp_path,
        )  # fmt: skip
        assert rejected.returncode == 0, rejected.stdout + rejected.stderr
        out = rejected.stdout
        assert "new-labels (new_data): fires: " in out and " changed: now " in out
        assert "drifted (drift): not due: " in out and "fired on these already" in out
        assert "gates: model version 3 rejected against champion version 2" in out
        assert "  - accuracy 0." in out and " is below min 0.8" in out
        assert (
            f"deploy prod: not deployed, the gates rejected version 3 of '{NAME}'; "
            "alias 'production' stays on version 2"
        ) in out
        assert (
            f"the gates rejected the new version of {NAME}: no alias moved, "
            "the served version does not change"
        ) in out
        assert aliases(tracking_uri) == {"champion": "2", "challenger": "2", "production": "2"}
        assert client.get_model_version(NAME, "3").tags["mlops.gate"] == "rejected"
        run_id = out.split("recorded on MLflow run ")[1].split()[0]
        assert client.get_run(run_id).data.tags["mlops.trigger.kind"] == "new_data"
        assert served_version(service) == "2"
        assert service.get("/version").json()["alias_version"] == "2"
    assert service.process is not None and service.process.returncode == 0
