"""The team tests' small pipeline: the quality notebook whose ``load`` step can wait on a
file, so a test can do something (stop the tracking server) while a run is in a step.

With parameter ``gate`` set to a path, ``load`` touches ``<gate>.started`` and waits until
``gate`` exists; with ``gate = ''`` (the default) it does not wait.
"""

from __future__ import annotations

from pathlib import Path

from quality_pipeline import ARRAYS, EVALUATE, SETUP, SPLIT, TRAIN, write_quality_notebook

WAITING_LOAD = (
    "%%mlstep load\n"
    "if gate:\n"
    "    pathlib.Path(gate + '.started').touch()\n"
    "    while not pathlib.Path(gate).exists():\n"
    "        time.sleep(0.05)\n"
    "rng = np.random.default_rng(0)\n"
    "df = pd.DataFrame({'a': rng.uniform(size=n), 'b': rng.uniform(size=n)})\n"
    "df['target'] = (df['a'] > 0.8).astype(int)\n"
)
CELLS = [
    SETUP + "import pathlib\nimport time\n",
    ("n = 200\nC = 1.0\ngate = ''", ["parameters"]),
    WAITING_LOAD,
    SPLIT,
    ARRAYS,
    TRAIN,
    EVALUATE,
]


def write_team_notebook(folder: Path) -> Path:
    """``folder/quality.ipynb``: pipeline ``quality``, registered model ``quality``."""
    return write_quality_notebook(folder, CELLS)
