"""``mlflow deployments … -t jupyter-mlops``: our plugin driven by the real ``mlflow`` CLI in
subprocesses, over a real SQLite registry; the deployment is a real detached service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from plugin_helpers import NAME, aliases, field, pyfunc_predictions
from service_process import http

from jupyter_mlops.deploy.local_service.process import process_alive

pytest_plugins = ("mlflow_fixtures", "plugin_fixtures")

TARGET = "jupyter-mlops"


def test_create_predict_update_delete_with_the_mlflow_cli(
    mlflow_cli: Any, store: str, iris: Any, tmp_path: Path
) -> None:
    from jupyter_mlops.registry.alias_history import alias_history

    frame = iris[0].iloc[[0, 60, 120, 70, 133]]
    rows = tmp_path / "rows.json"
    rows.write_text(frame.to_json(orient="records"))
    port = free_port()

    created = mlflow_cli(
        "create", "-t", TARGET, "--name", "d1", "-m", f"models:/{NAME}/1", "-C", f"port={port}"
    )
    assert "deployment d1 is created" in created.stdout
    described = mlflow_cli("get", "-t", TARGET, "--name", "d1").stdout
    assert field(described, "url") == f"http://127.0.0.1:{port}"
    assert field(described, "served_version") == "1"
    pid = int(field(described, "pid"))
    assert process_alive(pid)
    assert aliases(store) == {"deploy-d1": "1"}

    predicted = mlflow_cli("predict", "-t", TARGET, "--name", "d1", "--input-path", str(rows))
    assert json.loads(predicted.stdout)["predictions"] == pyfunc_predictions(store, "1", frame)
    listed = mlflow_cli("list", "-t", f"{TARGET}:/rest").stdout
    assert "'name': 'd1'" in listed

    mlflow_cli("update", "-t", TARGET, "--name", "d1", "-m", f"models:/{NAME}/2")
    assert field(mlflow_cli("get", "-t", TARGET, "--name", "d1").stdout, "served_version") == "2"
    predicted = mlflow_cli("predict", "-t", TARGET, "--name", "d1", "--input-path", str(rows))
    assert json.loads(predicted.stdout)["predictions"] == pyfunc_predictions(store, "2", frame)
    assert http(f"http://127.0.0.1:{port}/version").json()["alias_version"] == "2"

    mlflow_cli("delete", "-t", TARGET, "--name", "d1")
    assert not process_alive(pid)
    assert aliases(store) == {}
    assert "[]" in mlflow_cli("list", "-t", TARGET).stdout
    moves = [
        (m.from_version, m.to_version, m.reason) for m in alias_history(client_for(store), NAME)
    ]
    assert moves == [(None, "1", "deploy"), ("1", "2", "deploy"), ("2", None, "undeploy")]


def test_create_of_an_unknown_version_fails_naming_it_and_leaves_nothing(
    mlflow_cli: Any, store: str
) -> None:
    failed = mlflow_cli(
        "create", "-t", TARGET, "--name", "d2", "-m", f"models:/{NAME}/9", check=False
    )
    assert failed.returncode != 0
    assert "model 'iris' has no version 9" in failed.stderr
    assert "[]" in mlflow_cli("list", "-t", TARGET).stdout
    assert aliases(store) == {}


def test_bad_uris_and_config_are_refused_naming_them(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.deployments import get_deploy_client
    from mlflow.exceptions import MlflowException

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    with pytest.raises(MlflowException, match="'jupyter-mlops:/nowhere' is not one of"):
        get_deploy_client("jupyter-mlops:/nowhere")
    client = get_deploy_client(TARGET)
    with pytest.raises(MlflowException, match="'runs:/abc/model' is not a registered version"):
        client.create_deployment("d3", "runs:/abc/model")
    with pytest.raises(MlflowException, match="config key 'colour' is unknown"):
        client.create_deployment("d3", f"models:/{NAME}/1", config={"colour": "red"})
    with pytest.raises(MlflowException, match="'port' must be a port number, not 'x'"):
        client.create_deployment("d3", f"models:/{NAME}/1", config={"port": "x"})
    with pytest.raises(MlflowException, match="no deployment named 'd3'"):
        client.get_deployment("d3")
    with pytest.raises(MlflowException, match="explain is not supported"):
        client.explain("d3", None)
    assert aliases(store) == {}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_service_that_cannot_start_leaves_no_alias_and_no_state(
    store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import socket

    from jupyter_mlops import api
    from jupyter_mlops.deploy.local_service.state import deployments_folder
    from jupyter_mlops.errors import DeployError

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DeployError, match="the prediction service exited with code"):
            api.create_local_deployment("rest", "d4", f"models:/{NAME}/1", {"port": str(port)})
    assert aliases(store) == {}
    assert api.list_local_deployments("rest") == []
    assert not list(deployments_folder(store).glob("d4*"))  # no state, output or request log


def test_run_local_serves_in_the_foreground_until_interrupted(store: str, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    port = free_port()
    command = [sys.executable, "-m", "mlflow", "deployments", "run-local", "-t", TARGET]
    command += ["--name", "d5", "-m", f"models:/{NAME}/1", "-C", f"port={port}"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": store}
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.communicate()[0].decode()
            try:
                if http(f"http://127.0.0.1:{port}/health").status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "run-local did not start serving"
            time.sleep(0.5)
        info = http(f"http://127.0.0.1:{port}/version").json()
        assert (info["alias"], str(info["alias_version"])) == ("deploy-d5", "1")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
