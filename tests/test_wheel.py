"""The wheel works with pip alone: built from a clean checkout, installed without Node.

Slow (a wheel build with the labextension, then a new virtual environment with every
dependency): a few minutes. ``make test`` runs it with the rest of the suite.

The checkout is a copy of the files git tracks or would track (untracked files that are not
ignored), i.e. what a fresh clone of the next commit holds: in CI, which works in a fresh
clone, that is the clone itself. Node is used to build the wheel (as a release build does)
and then kept off the PATH for the install and every check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LABEXTENSION = "jupyter-mlops"  # the npm package name (labextension/package.json)
DIST = "jupyter_mlops"
LABEXT_PREFIX = f"{DIST}-{{v}}.data/data/share/jupyter/labextensions/{LABEXTENSION}/"
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/jupyter_mlops.json"

pytestmark = [
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs a git work tree"),
]


@dataclass(frozen=True)
class Installed:
    """A wheel built from a clean checkout and a new venv it was installed into."""

    wheel: Path
    venv: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv (Node off the PATH); stdout and stderr merged."""
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            env=self.env,
            cwd=self.venv.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )


def clean_checkout(dest: Path) -> Path:
    """Copy the files of the next commit (tracked or not ignored, still on disk) to ``dest``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for rel in sorted({name for name in listed.split("\0") if name}):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel`` the checkout (isolated build: the hatch hook builds the labextension)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, f"wheel build failed:\n{done.stdout[-6000:]}"
    wheels = list(out.glob(f"{DIST}-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    return wheels[0]


def node_free_env(venv: Path, home: Path) -> dict[str, str]:
    """An environment with only the venv on the PATH and Jupyter's user dirs isolated."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "CONDA", "NODE", "NPM"))
    }
    env["PATH"] = str(venv / "bin")
    env["VIRTUAL_ENV"] = str(venv)
    env["JUPYTER_CONFIG_DIR"] = str(home / "config")
    env["JUPYTER_DATA_DIR"] = str(home / "data")
    env["JUPYTER_RUNTIME_DIR"] = str(home / "runtime")
    for tool in ("node", "npm", "jlpm", "yarn"):
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is on the test PATH"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a clean checkout and install it into a new venv, Node off PATH."""
    root = tmp_path_factory.mktemp("wheel")
    source = clean_checkout(root / "checkout")
    # Nothing prebuilt is carried over: the build itself must produce the labextension.
    assert not (source / "jupyter_mlops" / "labextension").exists()
    assert not (source / "labextension" / "node_modules").exists()
    wheel = build_wheel(source, root / "dist")
    venv = root / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True, timeout=300)
    result = Installed(wheel, venv, node_free_env(venv, root / "home"))
    # The notebook side (JupyterLab, the server extension) is the [jupyter] extra.
    done = result.run(
        "python", "-m", "pip", "install", "--quiet", f"{wheel}[jupyter]", timeout=1500
    )
    assert done.returncode == 0, f"pip install of the wheel failed:\n{done.stdout[-6000:]}"
    return result


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_ships_the_prebuilt_labextension_and_server_config(installed: Installed) -> None:
    names = wheel_names(installed.wheel)
    version = installed.wheel.name.split("-")[1]
    prefix = LABEXT_PREFIX.format(v=version)
    assert prefix + "package.json" in names
    assert any(
        re.fullmatch(re.escape(prefix) + r"static/remoteEntry\.[0-9a-f]+\.js", n) for n in names
    )
    assert f"{DIST}-{version}.data/data/{SERVER_CONFIG}" in names
    with zipfile.ZipFile(installed.wheel) as zf:
        package = json.loads(zf.read(prefix + "package.json"))
        enabled = json.loads(zf.read(f"{DIST}-{version}.data/data/{SERVER_CONFIG}"))
    assert package["name"] == LABEXTENSION
    assert package["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    assert server_extensions(installed.wheel), enabled


def server_extensions(wheel: Path) -> list[str]:
    """The server extension modules the wheel's config file enables."""
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as zf:
        config = json.loads(zf.read(f"{DIST}-{version}.data/data/{SERVER_CONFIG}"))
    extensions = config["ServerApp"]["jpserver_extensions"]
    return sorted(name for name, on in extensions.items() if on is True and name.startswith(DIST))


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(output: str) -> str:
    """The output without terminal colours (jupyter colours enabled/OK even in a pipe)."""
    return ANSI.sub("", output)


def test_node_is_not_reachable_in_the_new_venv(installed: Installed) -> None:
    done = installed.run("python", "-c", "import shutil; print(shutil.which('node'))")
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "None"


def test_labextension_list_reports_the_extension_enabled_and_ok(installed: Installed) -> None:
    done = installed.run("jupyter", "labextension", "list")
    assert done.returncode == 0, done.stdout
    output = plain(done.stdout)
    line = next((ln for ln in output.splitlines() if LABEXTENSION + " v" in ln), None)
    assert line is not None, output
    assert re.search(rf"{LABEXTENSION} v\S+ enabled\s+OK\b", line), line
    assert str(installed.venv / "share" / "jupyter" / "labextensions") in output


def test_server_extension_list_reports_the_extension_enabled_and_ok(installed: Installed) -> None:
    done = installed.run("jupyter", "server", "extension", "list")
    assert done.returncode == 0, done.stdout
    output = plain(done.stdout)
    for module in server_extensions(installed.wheel):
        name = re.escape(module)
        assert re.search(rf"^\s*{name} enabled\s*$", output, re.M), output
        assert re.search(rf"^\s*{name} \S+ OK\s*$", output, re.M), output
    assert str(installed.venv / "etc" / "jupyter") in output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_installed_lab_serves_the_panel_code_and_the_rest_api(installed: Installed) -> None:
    """A JupyterLab of the new venv serves the labextension's files and answers the API."""
    port, token = free_port(), "wheel-test-token"
    root = installed.venv.parent / "served"
    root.mkdir(exist_ok=True)
    server = subprocess.Popen(
        [
            str(installed.venv / "bin" / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=installed.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "jupyter lab exited early"
            time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not answer within 120 s")
        names = wheel_names(installed.wheel)
        entry = next(n for n in names if re.search(r"static/remoteEntry\.[0-9a-f]+\.js$", n))
        status, body = get(f"{base}/lab/extensions/{LABEXTENSION}/static/{Path(entry).name}", token)
        assert status == 200 and body, status
        status, body = get(f"{base}/lab", token)
        assert status == 200 and LABEXTENSION.encode() in body
        status, body = get(f"{base}/jupyter-mlops/pipeline?path=missing.ipynb", token)
        assert 400 <= status < 500, (status, body)
        assert "message" in json.loads(body)
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert "Traceback" not in stderr, stderr[-4000:]
