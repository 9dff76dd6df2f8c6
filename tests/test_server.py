"""The server extension's REST API, through a real Jupyter server (pytest-jupyter).

The server runs in-process (``jp_serverapp``, ``allow_root=True``); runs are real
``jupyter-mlops run`` subprocesses recording into a real MLflow SQLite store.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from mlflow_fixtures import client_for
from nbfactory import make_notebook, write_notebook

# pytest-jupyter's fixtures, for this module only (its autouse fixtures stay out of the
# rest of the suite, which ``pytest_plugins`` would not guarantee).
from pytest_jupyter.jupyter_server import *  # noqa: F403

from jupyter_mlops import __version__
from jupyter_mlops.cli import main as cli_main

SETUP = "import time\nimport numpy as np\nfrom sklearn.linear_model import LogisticRegression"
PARAMS = ("C = 1.0\nn = 40\npause = 0.0", ["parameters"])
PARAM_TYPES = {"C": "float", "n": "int", "pause": "float"}
LOAD = (
    "%%mlstep load\ntime.sleep(pause)\n"
    "X = np.arange(n, dtype=float).reshape(-1, 1)\ny = (X[:, 0] > n / 2).astype(int)"
)
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression(C=C).fit(X, y)"
EVALUATE = "%%mlstep evaluate --metrics scores\nscores = {'accuracy': float(model.score(X, y))}"
CELLS: list[Any] = [SETUP, PARAMS, LOAD, TRAIN, EVALUATE]
STEPS = ["load", "train", "evaluate"]
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture(autouse=True)
def no_closed_event_loop_left(jp_asyncio_loop: Any) -> Any:
    """pytest-jupyter closes its loop after each test: leave no closed loop as the current
    one for test modules that run after this one."""
    yield
    asyncio.set_event_loop(None)


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_mlops.server": True}}}


@pytest.fixture
def tracking(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs started by the server and its MLflow queries both use this store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    return tracking_uri


@pytest.fixture
def flow(jp_root_dir: Path) -> Path:
    """``<root>/work/flow.ipynb``: load → train (a model) → evaluate (metrics)."""
    (jp_root_dir / "work").mkdir()
    return write_notebook(jp_root_dir / "work" / "flow.ipynb", CELLS)


class Api:
    """Synchronous calls to ``/jupyter-mlops/…`` on the test server (any status returned)."""

    def __init__(self, fetch: Any, loop: Any, serverapp: Any) -> None:
        self.fetch, self.loop, self.serverapp = fetch, loop, serverapp

    def __call__(
        self,
        method: str,
        endpoint: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        if body is None and method in ("POST", "PUT"):
            body = b""
        response = self.loop.run_until_complete(
            self.fetch(
                "jupyter-mlops",
                endpoint,
                method=method,
                body=body,
                params=params,
                headers=headers,
                raise_error=False,
                allow_nonstandard_methods=True,
            )
        )
        text = response.body.decode("utf-8") if response.body else ""
        if response.code >= 400:
            assert "Traceback" not in text  # errors never carry a server stack trace
        if response.code < 400 or text.startswith("{"):
            return response.code, json.loads(text) if text else None
        return response.code, text

    def get(self, endpoint: str, **params: str) -> tuple[int, Any]:
        return self("GET", endpoint, params=params)

    def post(self, endpoint: str, body: Any) -> tuple[int, Any]:
        return self("POST", endpoint, body)

    def wait(self, run_id: str, timeout: float = 240) -> dict[str, Any]:
        """Poll ``GET run/<id>`` until the run has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, run = self.get(f"run/{run_id}")
            assert code == 200, run
            if run["status"] in FINISHED:
                return run
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not finish: {run}")

    def wait_for(self, run_id: str, step: str, state: str) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            _, run = self.get(f"run/{run_id}")
            if any(s["name"] == step and s["state"] == state for s in run["steps"]):
                return run
            assert run["status"] not in FINISHED, run
            time.sleep(0.1)
        raise AssertionError(f"step {step} never reached {state}")


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any, jp_serverapp: Any) -> Any:
    client = Api(jp_fetch, jp_asyncio_loop, jp_serverapp)
    yield client
    jp_serverapp.web_app.settings["jupyter_mlops.runs"].shutdown()


def show_json(path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    assert cli_main(["show", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# -- registration ------------------------------------------------------------------------------


def test_version_and_registration(api: Api, jp_serverapp: Any) -> None:
    assert api.get("version") == (200, {"version": __version__})
    assert "jupyter_mlops.server" in jp_serverapp.extension_manager.extensions


def test_installed_package_enables_the_extension() -> None:
    jupyter = Path(sys.executable).with_name("jupyter")
    done = subprocess.run(
        [str(jupyter), "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # colours
    lines = [line for line in text.splitlines() if "jupyter_mlops" in line]
    assert any("enabled" in line for line in lines), done.stderr
    assert any(line.rstrip().endswith("OK") for line in lines), done.stderr


# -- pipeline, extract ---------------------------------------------------------------------------


def test_get_pipeline_is_show_json(
    api: Api, flow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body = api.get("pipeline", path="work/flow.ipynb")
    assert code == 200
    # param_types: JSON writes the float default C = 1.0 as 1, the form needs "float"
    assert body == {**show_json(flow, capsys), "param_types": PARAM_TYPES}
    assert [s["name"] for s in body["steps"]] == STEPS


def test_get_pipeline_of_an_extracted_folder(
    api: Api, flow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert api.post("extract", {"path": "work/flow.ipynb"})[0] == 200
    code, body = api.get("pipeline", path="work/pipelines/flow")
    assert code == 200
    assert body == {
        **show_json(flow.parent / "pipelines" / "flow", capsys),
        "param_types": PARAM_TYPES,
    }


def test_extraction_errors_are_listed_per_cell(api: Api, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "bad.ipynb", ["%%mlstep a\nx = missing", "%%mlstep 1bad\ny = 2"])
    code, body = api.get("pipeline", path="bad.ipynb")
    assert code == 200
    assert [(e["cell"], e["step"]) for e in body["errors"]] == [(1, "a"), (2, None)]
    assert "missing" in body["errors"][0]["message"]


def test_post_pipeline_parses_the_live_unsaved_notebook(api: Api, flow: Path) -> None:
    live = make_notebook([*CELLS, "%%mlstep report\nsummary = str(scores)"])
    code, body = api.post("pipeline", {"path": "work/flow.ipynb", "content": live})
    assert code == 200
    assert [s["name"] for s in body["steps"]][-1] == "report"
    assert body["name"] == "flow" and body["param_types"] == PARAM_TYPES
    # a bare notebook body, path in the query; an unsaved notebook need not exist on disk
    code, body = api("POST", "pipeline", live, params={"path": "work/Untitled.ipynb"})
    assert code == 200 and body["name"] == "untitled"
    broken = make_notebook([*CELLS, "%%mlstep report\nsummary = str(nothing)"])
    code, body = api.post("pipeline", {"path": "work/flow.ipynb", "content": broken})
    assert code == 200
    assert body["errors"][0]["cell"] == 6 and body["errors"][0]["step"] == "report"


def test_extract_writes_the_package(api: Api, flow: Path, jp_root_dir: Path) -> None:
    code, body = api.post("extract", {"path": "work/flow.ipynb"})
    assert code == 200
    assert body["pipeline"] == "flow" and body["folder"] == "work/pipelines/flow"
    assert body["steps"] == STEPS
    assert "work/pipelines/flow/pipeline.yaml" in body["changed"]
    assert (flow.parent / "pipelines" / "flow" / "pipeline.yaml").is_file()
    code, again = api.post("extract", {"path": "work/flow.ipynb"})
    assert code == 200 and again["changed"] == []
    code, body = api.post("extract", {"path": "work/flow.ipynb", "output": "elsewhere/flow"})
    assert code == 200 and body["folder"] == "elsewhere/flow"
    assert (jp_root_dir / "elsewhere" / "flow" / "pipeline.yaml").is_file()


def test_extract_refuses_a_broken_notebook_and_writes_nothing(api: Api, jp_root_dir: Path) -> None:
    write_notebook(jp_root_dir / "bad.ipynb", ["%%mlstep a\nx = missing"])
    code, body = api.post("extract", {"path": "bad.ipynb"})
    assert code == 400
    assert "missing" in body["message"] and body["errors"][0]["cell"] == 1
    assert str(jp_root_dir) not in body["message"]
    assert not (jp_root_dir / "pipelines").exists()


# -- runs ----------------------------------------------------------------------------------------


def test_run_to_completion_then_runs_and_models(api: Api, flow: Path, tracking: str) -> None:
    code, started = api.post(
        "run", {"path": "work/flow.ipynb", "engine": "inprocess", "params": {"C": 0.5}}
    )
    assert code == 202, started
    assert started["status"] == "running" and started["pipeline"] == "flow"
    assert started["params"] == {"C": 0.5, "n": 40, "pause": 0.0}
    assert [s["name"] for s in started["steps"]] == STEPS
    run = api.wait(started["id"])
    assert run["status"] == "succeeded", run
    assert [(s["name"], s["state"]) for s in run["steps"]] == [(n, "ran") for n in STEPS]
    assert all(s["seconds"] > 0 for s in run["steps"])
    assert run["mlflow_run_id"] and run["summary"]["model_version"] == "1"
    assert set(run["summary"]["metrics"]) == {"accuracy"}
    assert "[train] ran" in "\n".join(run["log"]) and run["elapsed"] > 0
    assert [r["id"] for r in api.get("run")[1]["runs"]] == [started["id"]]

    code, history = api.get("runs", pipeline="flow")
    assert code == 200
    assert [r["id"] for r in history["runs"]] == [run["mlflow_run_id"]]
    assert history["runs"][0]["status"] == "FINISHED"
    assert history["runs"][0]["params"]["C"] == "0.5"
    assert "accuracy" in history["runs"][0]["metrics"]
    assert api.get("runs", path="work/flow.ipynb")[1]["runs"] == history["runs"]

    client_for(tracking).set_model_version_tag("flow", "1", "mlops.gate", "validated")
    code, models = api.get("models/flow")
    assert code == 200
    assert models["aliases"] == {"challenger": "1"}
    assert api.get("models/flow", path="work/flow.ipynb")[1]["step"] == "train"  # its step
    (version,) = models["versions"]
    assert version["version"] == "1" and version["aliases"] == ["challenger"]
    assert "accuracy" in version["metrics"]
    assert version["params"]["C"] == "0.5"  # the version's run's parameters
    assert version["gate"] == "validated"
    assert version["gates"] == {"mlops.gate": "validated"}


def test_history_of_unknown_pipeline_and_model_is_empty(api: Api, tracking: str) -> None:
    assert api.get("runs", pipeline="nothing")[1]["runs"] == []
    assert api.get("models/nothing")[1] == {"name": "nothing", "aliases": {}, "versions": []}
    assert api.get("runs")[0] == 400


def test_failed_run_reports_the_step_and_error(api: Api, jp_root_dir: Path, tracking: str) -> None:
    write_notebook(jp_root_dir / "fail.ipynb", ["%%mlstep boom\nx = 1 / 0"])
    code, started = api.post("run", {"path": "fail.ipynb", "engine": "inprocess"})
    assert code == 202
    run = api.wait(started["id"])
    assert run["status"] == "failed"
    assert [(s["name"], s["state"]) for s in run["steps"]] == [("boom", "failed")]
    assert "ZeroDivisionError" in run["error"]
    assert any("ZeroDivisionError" in line for line in run["log"])
    history = api.get("runs", path="fail.ipynb")[1]["runs"]
    assert "ZeroDivisionError" in history[0]["error"]  # the panel's Recent runs say why


def test_run_input_errors(api: Api, flow: Path, jp_root_dir: Path) -> None:
    code, body = api.post("run", {"path": "work/flow.ipynb", "params": {"nope": 1}})
    assert code == 400 and "unknown parameter 'nope'" in body["message"]
    code, body = api.post("run", {"path": "work/flow.ipynb", "params": {"n": 3.5}})
    assert code == 400 and body["message"] == "parameter 'n' expects an integer, got 3.5"
    assert api.get("run")[1]["runs"] == []
    write_notebook(jp_root_dir / "bad.ipynb", ["%%mlstep a\nx = missing"])
    code, body = api.post("run", {"path": "bad.ipynb"})
    assert code == 400 and body["errors"][0]["step"] == "a"
    (jp_root_dir / "notes.txt").write_text("hi")
    assert api.post("run", {"path": "notes.txt"})[0] == 400
    assert api.post("run", {"path": "work/none.ipynb"})[0] == 404
    (jp_root_dir / "empty").mkdir()
    code, body = api.post("run", {"path": "empty"})  # a folder without pipeline.yaml
    assert code == 400 and "pipeline.yaml" in body["message"], body
    assert str(jp_root_dir) not in body["message"]
    assert api.get("run/0123abcd")[0] == 404
    assert api("DELETE", "run/0123abcd")[0] == 404


def test_cancel_kills_every_process_of_the_run(api: Api, flow: Path, kernel_name: str) -> None:
    params = {"pause": 300.0}
    code, started = api.post("run", {"path": "work/flow.ipynb", "params": params})
    assert code == 202
    run_id = started["id"]
    api.wait_for(run_id, "load", "running")
    manager = api.serverapp.web_app.settings["jupyter_mlops.runs"]
    root = psutil.Process(manager.get(run_id).process.pid)
    deadline = time.monotonic() + 60
    while not any("ipykernel" in " ".join(p.cmdline()) for p in root.children(recursive=True)):
        assert time.monotonic() < deadline, "no kernel started"
        time.sleep(0.1)
    processes = [root, *root.children(recursive=True)]

    code, body = api.post("run", {"path": "work/flow.ipynb"})  # one run per pipeline at a time
    assert code == 409 and body["id"] == run_id

    code, cancelling = api("DELETE", f"run/{run_id}")
    assert code == 202 and cancelling["status"] in ("cancelling", "cancelled")
    run = api.wait(run_id)
    assert run["status"] == "cancelled"
    assert {s["state"] for s in run["steps"]} == {"not_run"}
    gone, alive = psutil.wait_procs(processes, timeout=30)
    assert alive == []
    assert api("DELETE", f"run/{run_id}")[0] == 409


# -- security and input checks -----------------------------------------------------------------

ENDPOINTS = [
    ("GET", "version"),
    ("GET", "pipeline"),
    ("POST", "pipeline"),
    ("POST", "extract"),
    ("GET", "run"),
    ("POST", "run"),
    ("GET", "run/abc"),
    ("DELETE", "run/abc"),
    ("GET", "runs"),
    ("GET", "models/flow"),
]


@pytest.mark.parametrize(("method", "endpoint"), ENDPOINTS)
def test_unauthenticated_requests_are_refused(api: Api, method: str, endpoint: str) -> None:
    body = {"path": "work/flow.ipynb"} if method == "POST" else None
    code, _ = api(method, endpoint, body, params={"path": "x.ipynb"}, headers={"Authorization": ""})
    assert code in (401, 403)


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        ("GET", "nosuch"),
        ("POST", "nosuch/deeper"),
        ("PUT", "run"),
        ("GET", "run/bad.id"),
        ("GET", ""),
    ],
)
def test_route_misses_answer_a_json_404_naming_the_endpoints(
    api: Api, method: str, endpoint: str
) -> None:
    code, reply = api(method, endpoint, {} if method != "GET" else None)
    assert code in (404, 405), reply
    assert isinstance(reply, dict), reply  # JSON, not the server's HTML page
    if code == 404:
        assert reply["message"].startswith(f"no endpoint {method} ")
        assert "version, pipeline, extract, run, run/<id>, runs, models/<name>" in reply["message"]
    code, _ = api(method, endpoint, None, headers={"Authorization": ""})
    assert code in (401, 403)  # the 404 is for users who are logged in only


def login_cookie(api: Api) -> str:
    """The login cookie a browser gets after opening the server with its token."""
    response = api.loop.run_until_complete(api.fetch("jupyter-mlops", "version"))
    cookies = response.headers.get_list("Set-Cookie")
    login = [c.split(";")[0] for c in cookies if c.startswith("username-")]
    assert login, cookies
    return login[0]


def test_post_without_xsrf_token_is_refused(api: Api, flow: Path) -> None:
    cookie = login_cookie(api)
    as_browser = {"Authorization": "", "Cookie": cookie}
    assert api("GET", "version", headers=as_browser)[0] == 200  # the cookie authenticates
    body = {"path": "work/flow.ipynb"}
    for method, endpoint in [("POST", "extract"), ("POST", "pipeline"), ("DELETE", "run/abc")]:
        code, reply = api(method, endpoint, body, headers=as_browser)
        assert code == 403, (endpoint, reply)
        assert "xsrf" in reply["message"].lower()
    token = "0123456789abcdef0123456789abcdef"
    with_xsrf = {**as_browser, "Cookie": f"{cookie}; _xsrf={token}", "X-XSRFToken": token}
    assert api("POST", "extract", body, headers=with_xsrf)[0] == 200


@pytest.mark.parametrize(
    ("api_path", "status"),
    [("../outside.ipynb", 403), ("work/../../outside.ipynb", 403), ("/etc/passwd", 400),
     ("link/outside.ipynb", 403), ("linked.ipynb", 403), ("", 400)],
)  # fmt: skip
def test_paths_outside_the_root_are_refused(
    api: Api, jp_root_dir: Path, flow: Path, api_path: str, status: int
) -> None:
    outside = jp_root_dir.parent / "outside"
    outside.mkdir(exist_ok=True)
    write_notebook(outside / "outside.ipynb", CELLS)
    write_notebook(jp_root_dir.parent / "outside.ipynb", CELLS)
    (jp_root_dir / "link").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "linked.ipynb").symlink_to(outside / "outside.ipynb")
    live = make_notebook(CELLS)
    calls = [
        api.get("pipeline", path=api_path),
        api.post("pipeline", {"path": api_path, "content": live}),
        api.post("extract", {"path": api_path}),
        api.post("extract", {"path": "work/flow.ipynb", "output": api_path}),
        api.post("run", {"path": api_path}),
        api.get("runs", path=api_path, pipeline="flow"),
        api.get("models/flow", path=api_path),
    ]
    for code, body in calls:
        assert code == status, body
        assert body["message"] and str(outside) not in body["message"]
    assert not (outside / "pipelines").exists()
    assert api.get("run")[1]["runs"] == []


def test_a_symlinked_pipelines_folder_leading_outside_is_refused_and_nothing_written(
    api: Api, jp_root_dir: Path, flow: Path
) -> None:
    outside = jp_root_dir.parent / "elsewhere"
    outside.mkdir()
    (flow.parent / "pipelines").symlink_to(outside, target_is_directory=True)
    for code, body in [
        api.post("extract", {"path": "work/flow.ipynb"}),
        api.post("run", {"path": "work/flow.ipynb"}),
    ]:
        assert code == 403, body
        assert body["message"] == (
            "the pipeline folder work/pipelines/flow leads outside the server root "
            "(a symbolic link?): nothing was written"
        )
    assert list(outside.iterdir()) == []
    assert api.get("run")[1]["runs"] == []


def test_hidden_files_are_not_served_unless_jupyter_server_allows_them(
    api: Api, jp_root_dir: Path, jp_serverapp: Any
) -> None:
    (jp_root_dir / ".hidden").mkdir()
    write_notebook(jp_root_dir / ".hidden" / "nb.ipynb", CELLS)
    for code, body in [
        api.get("pipeline", path=".hidden/nb.ipynb"),
        api.post("extract", {"path": ".hidden/nb.ipynb"}),
        api.post("run", {"path": ".hidden/nb.ipynb"}),
    ]:
        assert code == 404, body
        assert body["message"] == (
            "no such file or folder: .hidden/nb.ipynb (hidden files are not served)"
        )
    assert not (jp_root_dir / ".hidden" / "pipelines").exists()
    jp_serverapp.contents_manager.allow_hidden = True
    try:
        assert api.get("pipeline", path=".hidden/nb.ipynb")[0] == 200
    finally:
        jp_serverapp.contents_manager.allow_hidden = False


def test_a_path_too_long_is_400_not_500(api: Api) -> None:
    long_path = "a" * 5000 + ".ipynb"
    for code, body in [
        api.get("pipeline", path=long_path),
        api.post("extract", {"path": long_path}),
        api.post("run", {"path": long_path}),
    ]:
        assert code == 400, body
        assert body["message"].startswith("'path': " + "a" * 60 + "… (5006 characters): the path")


def test_symlinks_inside_the_root_are_followed(api: Api, flow: Path, jp_root_dir: Path) -> None:
    (jp_root_dir / "alias").symlink_to(flow.parent, target_is_directory=True)
    assert api.get("pipeline", path="alias/flow.ipynb")[0] == 200


@pytest.mark.parametrize(
    ("endpoint", "body", "needle"),
    [
        ("run", "{not json", "not valid JSON"),
        ("run", "[1, 2]", "JSON object"),
        ("run", "", "not valid JSON"),
        ("run", {}, "'path' is required"),
        ("run", {"path": "work/flow.ipynb", "params": [1]}, "'params'"),
        ("run", {"path": "work/flow.ipynb", "force": "yes"}, "'force'"),
        ("run", {"path": "work/flow.ipynb", "engine": "x; rm"}, "'engine'"),
        ("extract", {"path": 3}, "'path' is required"),
        ("extract", {"path": "work"}, "must be a notebook"),
        ("pipeline", {"path": "work/flow.ipynb", "content": "cells"}, "'content'"),
        ("pipeline", {"path": "work/flow.ipynb", "content": {"cells": 1}}, "no 'cells' list"),
    ],
)
def test_malformed_bodies_are_400(
    api: Api, flow: Path, endpoint: str, body: Any, needle: str
) -> None:
    code, reply = api.post(endpoint, body)
    assert code == 400
    assert needle in reply["message"]


def test_bad_query_arguments_are_400(api: Api, flow: Path) -> None:
    assert api.get("pipeline")[0] == 400
    assert api.get("runs", pipeline="flow", limit="lots")[0] == 400
    assert api.get("runs", pipeline="flow", limit="0")[0] == 400


def test_unexpected_errors_are_500_without_traceback(
    api: Api, flow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jupyter_mlops.server.actions as actions

    def explode(path: Path) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(actions, "pipeline_or_errors", explode)
    code, body = api.get("pipeline", path="work/flow.ipynb")
    assert code == 500
    assert "secret" not in body["message"] and "server log" in body["message"]


def test_a_rest_run_leaves_the_same_records_as_cli_and_widget_runs(
    api: Api, jp_root_dir: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``POST run`` over HTTP: the same schemas, fixtures, MLflow records, version, gate outcome
    and metric as the same run from the CLI and from the widgets (test_after_run.py)."""
    from test_after_run import same_outcomes

    def start_over_http(notebook: Path) -> dict[str, Any]:
        path = notebook.relative_to(jp_root_dir).as_posix()
        code, started = api.post("run", {"path": path, "engine": "inprocess"})
        assert code == 202, started
        return api.wait(started["id"], timeout=300)

    outcomes = same_outcomes(jp_root_dir / "same", tracking_uri, monkeypatch, start_over_http)
    assert outcomes["rest"] == outcomes["cli"]
    assert outcomes["widgets"] == outcomes["cli"]
