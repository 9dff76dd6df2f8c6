"""A small classification notebook for the fixture, test and sync-check tests.

Features are uniform on [0, 1) (so schemas inferred from any part of the data fit the rest);
``target`` is exactly ``a > 0.8`` (about 20 % positive), so a fixture keeps its rows aligned
only if ``y`` still equals ``X['a'] > 0.8`` row by row; ``arrays`` hands the same data on as
numpy arrays.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from nbfactory import write_notebook

BIN = Path(sys.executable).parent
SETUP = (
    "import numpy as np\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
)
LOAD = (
    "%%mlstep load\n"
    "rng = np.random.default_rng(0)\n"
    "df = pd.DataFrame({'a': rng.uniform(size=n), 'b': rng.uniform(size=n)})\n"
    "df['target'] = (df['a'] > 0.8).astype(int)\n"
)
SPLIT = (
    "%%mlstep split\n"
    "X = df[['a', 'b']]\n"
    "y = df['target']\n"
    "cut = int(len(df) * 0.8)\n"
    "X_train, X_test = X.iloc[:cut], X.iloc[cut:]\n"
    "y_train, y_test = y.iloc[:cut], y.iloc[cut:]\n"
)
ARRAYS = "%%mlstep arrays\nXa = X_train.to_numpy()\nya = y_train.to_numpy()\n"
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression(C=C).fit(Xa, ya)\n"
EVALUATE = (
    "%%mlstep evaluate --metrics metrics\n"
    "metrics = {'accuracy': float(model.score(X_test.to_numpy(), y_test.to_numpy()))}\n"
)
CELLS = [SETUP, ("n = 500\nC = 1.0", ["parameters"]), LOAD, SPLIT, ARRAYS, TRAIN, EVALUATE]


def write_quality_notebook(folder: Path, cells: list | None = None) -> Path:
    """``folder/quality.ipynb`` with CELLS (or ``cells``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_notebook(folder / "quality.ipynb", cells or CELLS)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``jupyter-mlops ARGS`` in a child process."""
    return subprocess.run(
        [str(BIN / "jupyter-mlops"), *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def extracted_and_run(folder: Path) -> Path:
    """Extract the notebook into ``folder/pipelines/quality`` and run it (untracked, in-process):
    the run captures the fixtures."""
    notebook = write_quality_notebook(folder)
    pipeline = folder / "pipelines" / "quality"
    done = cli("run", str(notebook), "--engine", "inprocess", "--no-track")
    assert done.returncode == 0, done.stdout + done.stderr
    return pipeline


def copy_pipeline(source: Path, destination: Path) -> Path:
    """A copy of the folder holding the notebook and its pipeline (for tests that edit it)."""
    shutil.copytree(source, destination)
    return destination / "pipelines" / "quality"
