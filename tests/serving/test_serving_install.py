"""The service runs without the notebook side: in a process where JupyterLab, Jupyter
server, IPython, ipykernel, ipywidgets, nbformat, papermill and pandera cannot be imported,
``jupyter mlops serve`` starts, answers a prediction and stops (the ``[serve]`` extra's
promise; a fresh-venv install of the extra alone is tested with the container package)."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_process import Service, new_store, register

pytest_plugins = ("mlflow_fixtures",)

NOTEBOOK_SIDE = (
    "jupyterlab",
    "jupyter_server",
    "IPython",
    "ipykernel",
    "ipywidgets",
    "nbformat",
    "nbconvert",
    "papermill",
    "pandera",
    "tornado",
)
BLOCKER = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {NOTEBOOK_SIDE!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not in [serve])", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
"""


def test_serve_imports_nothing_of_the_notebook_side(
    mlflow_db_template: Path, tmp_path: Path
) -> None:
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    frame = load_iris(as_frame=True).frame.drop(columns="target")
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, load_iris().target)
    uri = new_store(mlflow_db_template, tmp_path / "store")
    register(uri, "iris", model, frame, "production")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    import os

    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    with Service(uri, "iris", "--no-log", cwd=tmp_path, env={"PYTHONPATH": path}) as running:
        reply = running.post("/invocations", {"instances": [[5.0, 3.0, 1.5, 0.2]]})
        assert reply.status == 200, "".join(running.output)
        assert running.stop() == 0
    assert not any("blocked" in line for line in running.output), "".join(running.output)


@pytest.mark.parametrize("module", ["IPython", "papermill"])
def test_the_blocker_blocks(tmp_path: Path, module: str) -> None:
    import subprocess
    import sys

    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0 and "blocked" in done.stderr


def test_a_notebook_command_without_the_notebook_side_says_what_to_install(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    notebook = Path(__file__).parents[2] / "notebooks" / "classification.ipynb"
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "extract", str(notebook), "-o", "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'jupyter_mlops[jupyter]'" in done.stderr
    assert "Traceback" not in done.stderr
