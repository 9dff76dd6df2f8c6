"""The Deployments endpoints of the server extension, through a real Jupyter server
(pytest-jupyter) and a real ``jupyter mlops serve`` process on 127.0.0.1 following a real
MLflow store. Model ``flowers``: version 1 a depth-2 tree, version 2 a depth-4 tree."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from nbfactory import write_notebook

# pytest-jupyter's fixtures, for this module only (as in test_server.py).
from pytest_jupyter.jupyter_server import *  # noqa: F403
from serving.service_process import Service, new_store, register
from test_server import Api, jp_server_config, no_closed_event_loop_left  # noqa: F401

from jupyter_mlops.deploy.rollout.result import RolloutEvent
from jupyter_mlops.errors import DeployError, RolloutBusy
from jupyter_mlops.registry.alias_history import move_alias
from jupyter_mlops.registry.traffic import clear_traffic
from jupyter_mlops.server.rollout_manager import RolloutManager

NAME = "flowers"
ROLLOUTS = "jupyter_mlops.rollouts"


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any, jp_serverapp: Any) -> Iterator[Api]:
    yield Api(jp_fetch, jp_asyncio_loop, jp_serverapp)
    jp_serverapp.web_app.settings[ROLLOUTS].shutdown()


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    data = load_iris(as_frame=True)
    frame, target = data.frame.drop(columns="target"), data.target
    uri = new_store(mlflow_db_template, tmp_path_factory.mktemp("deployments-store"))
    for depth in (2, 4):
        tree = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(frame, target)
        register(uri, NAME, tree, frame)
    return uri


@pytest.fixture(scope="module")
def service(store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    cwd = tmp_path_factory.mktemp("serve-cwd")
    with Service(store, NAME, "--poll-interval", "0.2s", "--no-log", cwd=cwd) as running:
        yield running


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A 127.0.0.1 port held open but not listening: connections to it are refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


@pytest.fixture
def production_2_after_1(store: str, service: Service, monkeypatch: pytest.MonkeyPatch) -> str:
    """Alias production moved 1 → 2 (recorded), no split, the service serving 2; the Jupyter
    server's MLflow calls use the store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    client = client_for(store)
    clear_traffic(client, NAME, "production")
    move_alias(client, NAME, "production", "1", "promote")
    move_alias(client, NAME, "production", "2", "promote", note="second")
    wait_for_service(service, "2")
    return store


def wait_for_service(service: Service, version: str) -> dict[str, Any]:
    """The service's /version once it serves ``version`` alone (it polls the registry)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info: dict[str, Any] = service.get("/version").json()
        if info["alias_version"] == version and [v["version"] for v in info["versions"]] == [
            version
        ]:
            return info
        time.sleep(0.1)
    raise AssertionError(f"the service did not come to serve version {version}: {info}")


def pipeline(root: Path, deploy: str) -> Path:
    """``<root>/work/flowers.ipynb`` extracted to ``work/pipelines/flowers`` (its one model is
    ``flowers``), ``deploy`` appended to its pipeline.yaml."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    (root / "work").mkdir(exist_ok=True)
    notebook = write_notebook(
        root / "work" / f"{NAME}.ipynb", ["%%mlstep train --model model\nmodel = 1"]
    )
    folder = root / "work" / "pipelines" / NAME
    write_package(scan_notebook(notebook), folder)
    yaml_file = folder / "pipeline.yaml"
    yaml_file.write_text(yaml_file.read_text() + deploy)
    return folder


def targets_of(api: Api, path: str) -> dict[str, dict[str, Any]]:
    code, shown = api.get("deployments", path=path)
    assert code == 200, shown
    return {target["name"]: target for target in shown["targets"]}


# -- reading -------------------------------------------------------------------------------


def test_a_pipeline_without_deploy_section_has_no_targets(api: Api, jp_root_dir: Path) -> None:
    (jp_root_dir / "work").mkdir()
    write_notebook(jp_root_dir / "work" / "flow.ipynb", ["%%mlstep a\nx = 1"])
    code, shown = api.get("deployments", path="work/flow.ipynb")
    assert code == 200, shown
    assert shown == {
        "folder": "work/pipelines/flow",
        "pipeline": None,
        "model": None,
        "problem": None,
        "targets": [],
    }
    assert api.post("extract", {"path": "work/flow.ipynb"})[0] == 200
    code, shown = api.get("deployments", path="work/pipelines/flow")
    assert code == 200, shown
    assert (shown["pipeline"], shown["targets"]) == ("flow", [])


def test_targets_show_the_live_service_its_metrics_and_the_alias_history(
    api: Api, jp_root_dir: Path, service: Service, production_2_after_1: str, refused_url: str
) -> None:
    from sklearn.datasets import load_iris

    row = {"columns": load_iris().feature_names, "data": [[5.1, 3.5, 1.4, 0.2]]}
    assert service.post("/invocations", {"dataframe_split": row}).status == 200
    pipeline(
        jp_root_dir,
        f"""
deploy:
  prod: {{url: {service.url}, strategy: blue-green}}
  down: {{url: {refused_url}}}
  locked: {{url: {service.url}, token_env: JUPYTER_MLOPS_TEST_UNSET_TOKEN}}
""",
    )
    shown = targets_of(api, "work/flowers.ipynb")
    prod = shown["prod"]
    assert (prod["alias"], prod["strategy"], prod["url"]) == (
        "production",
        "blue-green",
        service.url,
    )
    live = prod["service"]
    assert (live["reachable"], live["problem"], live["alias_version"]) == (True, None, "2")
    assert [(v["version"], v["share"], v["role"]) for v in live["versions"]] == [
        ("2", 100, live["versions"][0]["role"])
    ]
    stats = live["versions"][0]["stats"]
    assert set(stats) == {"requests", "errors", "error_rate", "p50_ms", "p95_ms", "p99_ms"}
    assert stats["requests"] >= 1 and stats["errors"] == 0
    latest, before = prod["history"][:2]
    assert (latest["from"], latest["to"], latest["reason"], latest["note"]) == (
        "1",
        "2",
        "promote",
        "second",
    )
    assert before["to"] == "1"
    assert prod["active_rollout"] is None
    assert shown["down"]["service"]["reachable"] is False
    assert (
        f"cannot reach the prediction service at {refused_url}"
        in (shown["down"]["service"]["problem"])
    )
    assert "JUPYTER_MLOPS_TEST_UNSET_TOKEN" in shown["locked"]["service"]["problem"]


# -- rollback -------------------------------------------------------------------------------


def test_rollback_moves_the_alias_back_and_the_service_follows(
    api: Api, jp_root_dir: Path, service: Service, production_2_after_1: str
) -> None:
    pipeline(jp_root_dir, f"\ndeploy:\n  prod: {{url: {service.url}}}\n")
    code, done = api.post("deployments/rollback", {"path": "work/flowers.ipynb", "target": "prod"})
    assert code == 200, done
    assert (done["model"], done["move"]["from"], done["move"]["to"]) == (NAME, "2", "1")
    assert done["move"]["reason"] == "rollback"
    assert "production 2 → 1" in done["message"]
    wait_for_service(service, "1")
    latest = targets_of(api, "work/pipelines/flowers")["prod"]["history"][0]
    assert (latest["from"], latest["to"], latest["reason"]) == ("2", "1", "rollback")


def test_bad_requests_are_4xx_naming_the_problem(
    api: Api, jp_root_dir: Path, service: Service, production_2_after_1: str
) -> None:
    pipeline(jp_root_dir, f"\ndeploy:\n  prod: {{url: {service.url}}}\n")
    path = "work/flowers.ipynb"
    code, reply = api.post("deployments/deploy", {"path": path, "target": "nope"})
    assert code == 400 and "no deploy target 'nope' (targets: prod)" in reply["message"]
    code, reply = api.post("deployments/rollback", {"path": path, "target": "nope"})
    assert code == 400 and "no deploy target 'nope'" in reply["message"]
    code, reply = api.post("deployments/deploy", {"path": path, "target": "prod", "version": "x"})
    assert code == 400 and "'version'" in reply["message"]
    code, reply = api.post("deployments/deploy", {"path": path})
    assert code == 400 and "'target'" in reply["message"]
    assert api.post("deployments/rollback", {"path": "../x.ipynb", "target": "prod"})[0] == 403
    assert api.get("deployments", path="/etc")[0] == 400
    assert api.get("deployments", path="work/missing.ipynb")[0] == 404
    assert api.get("deployments/rollouts/abc123")[0] == 404
    yaml_file = jp_root_dir / "work" / "pipelines" / NAME / "pipeline.yaml"
    text = yaml_file.read_text().split("\ndeploy:")[0]
    yaml_file.write_text(text + "\ndeploy:\n  prod: {url: ftp://x}\n")
    code, reply = api.get("deployments", path=path)
    assert code == 400 and "deploy.prod.url" in reply["message"], reply


def test_without_credentials_every_deployments_endpoint_is_refused(api: Api) -> None:
    no_auth = {"Authorization": ""}
    body = {"path": "work/flowers.ipynb", "target": "prod"}
    for method, endpoint, sent in [
        ("GET", "deployments", None),
        ("POST", "deployments/rollback", body),
        ("POST", "deployments/deploy", body),
        ("GET", "deployments/rollouts/abc", None),
        ("DELETE", "deployments/rollouts/abc", None),
    ]:
        code, _ = api(method, endpoint, sent, params={"path": "x.ipynb"}, headers=no_auth)
        assert code in (401, 403), endpoint


# -- deploy ----------------------------------------------------------------------------------


def test_deploy_rolls_out_in_the_background_with_live_progress(
    api: Api, jp_root_dir: Path, service: Service, production_2_after_1: str
) -> None:
    move_alias(client_for(production_2_after_1), NAME, "production", "1", "promote")
    wait_for_service(service, "1")
    settings = "strategy: blue-green, interval: 1s, analysis: {min_requests: 0}"
    pipeline(jp_root_dir, f"\ndeploy:\n  prod: {{url: {service.url}, {settings}}}\n")
    body = {"path": "work/flowers.ipynb", "target": "prod", "version": "2"}
    code, started = api.post("deployments/deploy", body)
    assert code == 202, started
    assert (started["target"], started["version"]) == ("prod", "2")
    rollout = wait_for_rollout(api, started["id"])
    assert rollout["status"] == "promoted", rollout
    kinds = [line["kind"] for line in rollout["progress"]]
    assert kinds[0] == "start" and kinds[-1] == "promoted"
    assert any(line["message"].startswith("smoke test passed") for line in rollout["progress"])
    assert (rollout["result"]["candidate"], rollout["result"]["outcome"]) == ("2", "promoted")
    wait_for_service(service, "2")
    prod = targets_of(api, "work/flowers.ipynb")["prod"]
    assert (prod["history"][0]["to"], prod["history"][0]["reason"]) == ("2", "deploy")
    verification = prod["verification"]
    rollout_id = rollout["result"]["rollout"]
    assert (verification["rollout"], verification["outcome"]) == (rollout_id, "promoted")
    assert isinstance(verification["metrics"], dict), verification


def wait_for_rollout(api: Api, rollout_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        code, rollout = api.get(f"deployments/rollouts/{rollout_id}")
        assert code == 200, rollout
        if rollout["status"] != "running":
            return rollout
        time.sleep(0.2)
    raise AssertionError(f"rollout {rollout_id} did not finish: {rollout}")


def test_one_rollout_per_target_at_a_time(
    api: Api, jp_root_dir: Path, jp_serverapp: Any, service: Service
) -> None:
    folder = pipeline(jp_root_dir, f"\ndeploy:\n  prod: {{url: {service.url}}}\n")
    release = threading.Event()

    def held_rollout(progress: Any) -> Any:
        release.wait(60)

    manager: RolloutManager = jp_serverapp.web_app.settings[ROLLOUTS]
    going = manager.start(
        held_rollout,
        path="work/flowers.ipynb",
        folder=str(folder.resolve()),
        target="prod",
        version=None,
    )
    body = {"path": "work/flowers.ipynb", "target": "prod"}
    try:
        for endpoint in ("deployments/deploy", "deployments/rollback"):
            code, reply = api.post(endpoint, body)
            assert (code, reply["id"]) == (409, going.id), reply
        assert targets_of(api, "work/flowers.ipynb")["prod"]["active_rollout"] == going.id
    finally:
        release.set()
    assert manager.wait(going.id, timeout=60).finished


def test_a_rollout_is_stopped_at_its_next_step(api: Api, jp_serverapp: Any) -> None:
    manager: RolloutManager = jp_serverapp.web_app.settings[ROLLOUTS]
    started = threading.Event()

    def steps_until_stopped(progress: Any) -> Any:
        while True:
            progress(RolloutEvent("phase", "still going"))
            started.set()
            time.sleep(0.01)

    going = manager.start(steps_until_stopped, path="p", folder="/p", target="prod", version="2")
    assert started.wait(60)
    code, reply = api("DELETE", f"deployments/rollouts/{going.id}")
    assert code == 202, reply
    assert reply["id"] == going.id
    assert manager.wait(going.id, timeout=60).finished
    code, reply = api.get(f"deployments/rollouts/{going.id}")
    assert (reply["status"], reply["error"], reply["stopping"]) == (
        "failed",
        "stopped from the panel",
        False,
    )
    assert api("DELETE", f"deployments/rollouts/{going.id}")[0] == 409
    assert api("DELETE", "deployments/rollouts/0123abcd")[0] == 404


# -- the rollout manager ---------------------------------------------------------------------


def test_a_rollout_still_going_at_shutdown_is_stopped_at_its_next_step() -> None:
    manager = RolloutManager()
    started = threading.Event()
    raised: list[BaseException] = []

    def rollout(progress: Any) -> Any:
        progress(RolloutEvent("start", "started"))
        started.set()
        while True:
            try:
                progress(RolloutEvent("phase", "still going"))
            except DeployError as error:
                raised.append(error)
                raise
            time.sleep(0.01)

    going = manager.start(rollout, path="p", folder="/p", target="prod", version="2")
    assert started.wait(60)
    with pytest.raises(RolloutBusy):
        manager.start(rollout, path="p", folder="/p", target="prod", version="3")
    manager.shutdown(wait=60)
    shown = going.snapshot()
    assert (shown["status"], shown["error"]) == (
        "failed",
        "stopped: the Jupyter server is shutting down",
    )
    assert len(raised) == 1 and shown["progress"][0] == {"kind": "start", "message": "started"}
