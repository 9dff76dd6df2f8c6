"""The example notebooks, extracted once per session, as the pipelines the export tests read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jupyter_mlops import api

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXAMPLES = ("classification", "regression")


@pytest.fixture(scope="session")
def example_pipelines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example notebook's extracted pipeline folder, by name."""
    root = tmp_path_factory.mktemp("export_examples")
    folders = {}
    for name in EXAMPLES:
        notebook = root / f"{name}.ipynb"
        shutil.copy(NOTEBOOKS / notebook.name, notebook)
        folders[name] = api.extract(notebook).folder
    return folders
