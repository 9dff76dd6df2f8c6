"""Input limits: pathological inputs give one line (CLI, exit 2 or 1) or a 4xx JSON reply
naming the field (REST), never a traceback, a RecursionError/MemoryError or a 500.

The REST cases run on the real Jupyter server of ``tests/test_server.py`` (pytest-jupyter);
the CLI cases are real ``jupyter-mlops`` subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from nbfactory import make_notebook, write_notebook

# The server fixtures of test_server.py (pytest-jupyter's, the extension enabled).
from pytest_jupyter.jupyter_server import *  # noqa: F403
from test_server import Api, jp_server_config, no_closed_event_loop_left  # noqa: F401

from jupyter_mlops.authoring.analysis import analyze_code
from jupyter_mlops.authoring.code_limits import MAX_CODE_DEPTH, CodeTooComplex
from jupyter_mlops.server.request_limits import MAX_BODY_BYTES, MAX_JSON_DEPTH

pytestmark = pytest.mark.figure(
    "Bad CLI and REST inputs (deep code and JSON, huge numbers, read-only folders, long names)"
)

SETUP = "import math"
PARAMS = ("n = 3", ["parameters"])
DEEP_CODE = {
    "parentheses": "x = " + "(" * 100_000 + ")" * 100_000,
    "a sum of 100,000 terms": "x = " + "+".join(["1"] * 100_000),
    "a sum deeper than the analysis": "x = " + "+".join(["1"] * (MAX_CODE_DEPTH + 50)),
    "nested lists": "x = " + "[" * 5_000 + "]" * 5_000,
    "nested calls": "x = " + "f(" * 3_000 + ")" * 3_000,
}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single ``error:`` line of a refused command (asserting there is only that)."""
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    return lines[0]


# -- analysis ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", DEEP_CODE.values(), ids=DEEP_CODE.keys())
def test_pathological_step_code_is_one_line_naming_cell_and_step(tmp_path: Path, code: str) -> None:
    notebook = write_notebook(tmp_path / "deep.ipynb", [SETUP, "%%mlstep crunch\n" + code])
    for command in (["show", str(notebook)], ["extract", str(notebook)], ["run", str(notebook)]):
        line = one_line_error(cli(*command), 2)
        assert "cell 2, step 'crunch':" in line
        assert "nested" in line or "syntax error" in line
    assert not (tmp_path / "pipelines").exists()


def test_pathological_setup_or_left_out_code_names_its_cell(tmp_path: Path) -> None:
    code = DEEP_CODE["a sum of 100,000 terms"]
    notebook = write_notebook(tmp_path / "deep.ipynb", [SETUP, code, "%%mlstep a\ny = 1"])
    line = one_line_error(cli("show", str(notebook)), 2)
    assert "deep.ipynb: cell 2: an expression is nested more than" in line


def test_code_just_within_the_depth_limit_is_analysed_and_runs(tmp_path: Path) -> None:
    code = "x = " + "+".join(["1"] * (MAX_CODE_DEPTH - 10))
    notebook = write_notebook(tmp_path / "wide.ipynb", [SETUP, "%%mlstep a\n" + code])
    done = cli("run", str(notebook), "--engine", "inprocess", "--no-track", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["steps"]["a"]["status"] == "ran"


def test_the_analysis_itself_refuses_deep_code_as_a_syntax_error() -> None:
    """What the kernel's ``%%mlstep`` magic calls: a SyntaxError subclass, not a crash."""
    for code in DEEP_CODE.values():
        with pytest.raises(SyntaxError):
            analyze_code(code)
    with pytest.raises(CodeTooComplex, match="nested more than"):
        analyze_code(DEEP_CODE["a sum deeper than the analysis"])


# -- the notebook reader -----------------------------------------------------------------------

BAD_NOTEBOOKS = {
    "JSON nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "its JSON is nested too deeply"),
    "a 5,000-digit integer": (
        '{"nbformat": 4, "cells": [], "n": ' + "9" * 5000 + "}",
        "has a number too long to read",
    ),
    "not JSON": ("{cells:", "is not valid JSON"),
    "nbformat 3": (json.dumps({"nbformat": 3, "cells": []}), "unsupported nbformat 3"),
    "source of numbers": (
        json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": [1, 2]}]}),
        "cell 1: 'source' must be a string or a list of strings",
    ),
    "not UTF-8": (b"\xff\xfe garbage", "cannot read the notebook"),
}


@pytest.mark.parametrize(("content", "needle"), BAD_NOTEBOOKS.values(), ids=BAD_NOTEBOOKS.keys())
def test_a_malformed_notebook_is_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes, needle: str
) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = one_line_error(cli("show", str(path)), 2)
    assert line.startswith(f"error: {path}: ") and needle in line, line


# -- CLI arguments and the file system ---------------------------------------------------------


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "flow.ipynb", [SETUP, PARAMS, "%%mlstep a\nx = n * 2", "%%mlstep b\ny = x + 1"]
    )


def test_a_5000_character_target_or_output_is_one_line(flow: Path) -> None:
    long_name = "t" * 5000
    for command in (
        ["show", long_name + ".ipynb"],
        ["run", long_name],
        ["gc", long_name],
        ["extract", str(flow), "-o", str(flow.parent / long_name)],
    ):
        line = one_line_error(cli(*command), 2)
        assert "(5" in line and "characters): the path is too long" in line, line


def test_metrics_naming_a_missing_variable_is_one_line(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "m.ipynb", [SETUP, "%%mlstep a --metrics scores\nx = 1"])
    line = one_line_error(cli("run", str(notebook), "--no-track"), 2)
    assert "cell 2, step 'a': --metrics names 'scores', but the step does not assign it" in line


def test_a_pipeline_folder_that_cannot_be_written_is_one_line(flow: Path) -> None:
    blocker = flow.parent / "taken"
    blocker.write_text("a file where the package folder would go")
    line = one_line_error(cli("extract", str(flow), "-o", str(blocker / "flow")), 1)
    assert "cannot write the pipeline package: Not a directory" in line


def test_a_cache_index_in_the_way_is_one_line(flow: Path) -> None:
    assert cli("extract", str(flow)).returncode == 0
    folder = flow.parent / "pipelines" / "flow"
    (folder / ".mlops" / "cache").mkdir(parents=True)
    (folder / ".mlops" / "cache" / "a").write_text("not a folder")  # step a's index
    done = cli("run", str(folder), "--engine", "inprocess", "--no-track")
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(errors) == 1 and "cache/a: cannot write a file of the run: File exists" in errors[0]


def read_only(folder: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``folder`` read-only: a read-only bind mount in a private mount
    namespace for root (whom chmod does not stop), else chmod 0555 on it and its folders."""
    argv = [sys.executable, "-m", "jupyter_mlops.cli", *command]
    if os.geteuid() != 0:
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        for path in folders:
            path.chmod(0o555)
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=cwd)
        finally:
            for path in folders:
                path.chmod(0o755)
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("root without a private mount namespace (unshare -m): no read-only folder")
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(folder), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_a_read_only_pipeline_folder_is_one_line(flow: Path) -> None:
    assert cli("extract", str(flow)).returncode == 0
    folder = flow.parent / "pipelines" / "flow"
    run_line = one_line_error(read_only(folder, "run", str(folder), cwd=flow.parent), 2)
    assert "cannot create the run lock" in run_line
    flow.write_text(flow.read_text().replace("n * 2", "n * 3"))
    extract = read_only(folder, "extract", flow.name, cwd=flow.parent)
    line = one_line_error(extract, 1)
    assert line.startswith("error: pipelines/flow: cannot write the pipeline package: ")
    assert line.endswith("(pipelines/flow/flow/a.py)")


def test_a_read_only_cache_index_is_one_line(flow: Path) -> None:
    assert cli("extract", str(flow)).returncode == 0
    folder = flow.parent / "pipelines" / "flow"
    cache = folder / ".mlops" / "cache"
    cache.mkdir(parents=True)
    done = read_only(cache, "run", str(folder), "--engine", "inprocess", "--no-track", cwd=None)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(errors) == 1 and "cannot write a file of the run: " in errors[0], errors
    assert f"{cache}/a" in errors[0]


# -- REST --------------------------------------------------------------------------------------


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any, jp_serverapp: Any) -> Any:
    client = Api(jp_fetch, jp_asyncio_loop, jp_serverapp)
    yield client
    jp_serverapp.web_app.settings["jupyter_mlops.runs"].shutdown()


@pytest.fixture
def live(jp_root_dir: Path) -> dict[str, Any]:
    write_notebook(jp_root_dir / "flow.ipynb", [SETUP, PARAMS, "%%mlstep a\nx = n * 2"])
    return make_notebook([SETUP, PARAMS, "%%mlstep a\nx = n * 2"])


def test_a_body_nested_100000_deep_is_400(api: Api, live: dict[str, Any]) -> None:
    deep = b'{"path": "flow.ipynb", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for endpoint in ("run", "pipeline", "extract"):
        code, body = api.post(endpoint, deep)
        assert code == 400 and f"nested more than {MAX_JSON_DEPTH} levels" in body["message"]


def test_a_value_nested_beyond_the_limit_names_its_field(api: Api, live: dict[str, Any]) -> None:
    value: Any = 1
    for _ in range(MAX_JSON_DEPTH + 5):
        value = [value]
    code, body = api.post("run", {"path": "flow.ipynb", "params": {"n": value}})
    assert code == 400 and body["message"].startswith("'params.n")
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in body["message"]


def test_a_5000_digit_integer_is_400_naming_the_field(api: Api, live: dict[str, Any]) -> None:
    big = "9" * 5000
    code, body = api.post("run", '{"path": "flow.ipynb", "params": {"n": ' + big + "}}")
    assert code == 400, body
    assert body["message"] == "'params.n' is a number of 5,000 characters; at most 100 are accepted"
    code, body = api.post("pipeline", '{"path": "flow.ipynb", "content": {"cells": [' + big + "]}}")
    assert code == 400 and body["message"].startswith("'content.cells[0]' is a number")
    code, body = api.post("run", '{"path": "flow.ipynb", "params": {"n": NaN}}')
    assert code == 400 and body["message"] == "'params.n' is NaN, which JSON does not allow"
    code, body = api.post("run", '{"path": "flow.ipynb", "params": {"n": 1e999}}')
    assert code == 400 and body["message"] == "'params.n' is 1e999, too large for a number"


def test_an_oversize_body_is_413(api: Api, live: dict[str, Any]) -> None:
    padding = "x" * (MAX_BODY_BYTES + 1)
    code, body = api.post("pipeline", {"path": "flow.ipynb", "content": live, "pad": padding})
    assert code == 413 and "at most 16,777,216 are accepted" in body["message"]


def test_oversize_names_and_values_are_400_naming_the_field(api: Api, live: dict[str, Any]) -> None:
    name = "m" * 5000
    cases = [
        (api.post("run", {"path": "flow.ipynb", "params": {"n": "v" * 20_000}}), "'params.n' is"),
        (api.post("run", {"path": "flow.ipynb", "params": {name: 1}}), "'params.mmm"),
        (api.post("run", {"path": "flow.ipynb", "engine": name}), "'engine' must be"),
        (api.get("runs", pipeline=name), "'pipeline' has 5,000 characters"),
        (api.get(f"models/{name}"), "'name' has 5,000 characters"),
        (api.get("models/bad:name"), "'name' is no model name"),
        (api.get("runs", pipeline="flow", limit="9" * 5000), "'limit' must be between"),
        (api("GET", "run/abc", params={"log": "1" * 5000}), "'log' must be between"),
    ]
    for (code, body), needle in cases:
        assert code == 400, (needle, body)
        assert body["message"].startswith(needle), body["message"]


@pytest.mark.parametrize("code", DEEP_CODE.values(), ids=DEEP_CODE.keys())
def test_deep_expressions_in_post_pipeline_content_are_400(api: Api, live: Any, code: str) -> None:
    content = make_notebook([SETUP, "%%mlstep crunch\n" + code])
    status, body = api.post("pipeline", {"path": "flow.ipynb", "content": content})
    if status == 200:  # plain syntax errors (Python's own nesting limit) are listed per cell
        assert body["errors"][0]["step"] == "crunch" and body["errors"][0]["cell"] == 2
    else:
        assert status == 400 and body["message"].startswith("flow.ipynb: cell 2, step 'crunch':")
