"""Generated code and ``jupyter_mlops.runtime``: the only module it imports, a light one;
parameters per call (thread-safe), outputs in notebook order, older packages refused."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbfactory import write_notebook

from jupyter_mlops import runtime
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import DependencyError, PipelineError
from jupyter_mlops.extract.sync_check import check_sync
from jupyter_mlops.extract.writer import write_package

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture
def fresh_modules() -> Iterator[None]:
    """Forget the generated packages a test imported (each test has its own folder)."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("threads", "order"):
            del sys.modules[name]


def extract(tmp_path: Path, name: str, cells: list) -> Path:
    notebook = write_notebook(tmp_path / f"{name}.ipynb", cells)
    folder = tmp_path / "pipelines" / name
    write_package(scan_notebook(notebook), folder)
    return folder


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "jupyter-mlops"), *args], capture_output=True, text=True, timeout=300
    )


# --- the public API ---------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["classification", "regression"])
def test_an_extracted_example_imports_only_jupyter_mlops_runtime(
    tmp_path: Path, example: str
) -> None:
    notebook = tmp_path / f"{example}.ipynb"
    notebook.write_bytes((REPO / "notebooks" / f"{example}.ipynb").read_bytes())
    folder = tmp_path / "pipelines" / example
    write_package(scan_notebook(notebook), folder)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 20
    uses = {
        (path.relative_to(folder).as_posix(), match)
        for path in files
        for match in re.findall(r"jupyter_mlops\.[\w.]*", path.read_text(encoding="utf-8"))
    }
    assert uses, "the step notebooks load and save through jupyter_mlops.runtime"
    assert {match for _, match in uses} == {"jupyter_mlops.runtime"}, sorted(uses)
    imports = {
        line.strip()
        for path in files
        for line in path.read_text(encoding="utf-8").replace("\\n", "\n").splitlines()
        if re.search(r"\bimport\b.*\bjupyter_mlops\b|\bjupyter_mlops\b.*\bimport\b", line)
    }
    for line in imports:
        assert re.fullmatch(
            r'"?(from jupyter_mlops import runtime|from jupyter_mlops\.runtime import [\w, ]+)"?,?',
            line,
        ), line


def test_the_public_names_resolve_and_importing_the_package_is_light() -> None:
    heavy = ["pandas", "numpy", "sklearn", "mlflow", "papermill", "nbformat", "yaml", "pyarrow"]
    code = (
        "import sys\nimport jupyter_mlops.runtime as runtime\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
        "from jupyter_mlops.runtime import load_input, save_outputs\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]"]
    assert sorted(runtime.__all__) == runtime.__all__
    for name in runtime.__all__:
        assert callable(getattr(runtime, name)), name
    assert set(runtime.__all__) <= set(dir(runtime))
    with pytest.raises(AttributeError, match="no attribute 'stepio_helper'"):
        runtime.stepio_helper  # noqa: B018


# --- parameters per call ----------------------------------------------------------------------

THREAD_SETUP = '''
def current_factor(sync):
    """Waits until both threads are inside their step, then reads the parameter."""
    sync.wait()
    return factor


def scaled(values, sync):
    f = current_factor(sync)  # a setup function calling one that reads the parameter
    return [v * f for v in values]


class Scaler:
    def apply(self, values):
        return [v * factor for v in values]
'''
THREAD_CELLS = [
    THREAD_SETUP,
    ("factor = 1", ["parameters"]),
    "%%mlstep load\nvalues = [1, 2, 3]\nsync = None",
    "%%mlstep transform\nby_function = scaled(values, sync)\nby_method = Scaler().apply(values)",
    "%%mlstep report\nprint(by_function, by_method)",
]


def test_runs_with_other_parameter_values_in_threads_of_one_process_each_get_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_modules: None
) -> None:
    folder = extract(tmp_path, "threads", THREAD_CELLS)
    source = (folder / "threads" / "transform.py").read_text(encoding="utf-8")
    assert "with runtime.parameters(factor=factor):" in source
    assert "common" not in source.replace("from .common import", "")
    monkeypatch.syspath_prepend(str(folder))
    transform = importlib.import_module("threads.transform").transform
    sync = threading.Barrier(2, timeout=30)  # both steps have started before either reads
    with ThreadPoolExecutor(2) as pool:
        runs = {f: pool.submit(transform, sync=sync, values=[1, 2, 3], factor=f) for f in (2, 3)}
        results = {f: run.result() for f, run in runs.items()}
    assert results == {2: ([2, 4, 6], [2, 4, 6]), 3: ([3, 6, 9], [3, 6, 9])}
    common = importlib.import_module("threads.common")
    assert not hasattr(common, "factor")  # no module global to race on
    assert common.Scaler().apply([1]) == [1]  # outside a step: the notebook's default


def test_a_thread_started_by_the_step_sees_the_steps_value_unless_steps_disagree() -> None:
    def read() -> object:
        return runtime.parameter("factor", 1)

    assert read() == 1
    with runtime.parameters(factor=2), ThreadPoolExecutor(1) as pool:
        assert read() == 2
        assert pool.submit(read).result() == 2  # no values of its own: the running step's
    other_started, release = threading.Event(), threading.Event()

    def other_step() -> None:
        with runtime.parameters(factor=3):
            other_started.set()
            release.wait(30)

    other = threading.Thread(target=other_step)
    other.start()
    try:
        assert other_started.wait(30)
        with runtime.parameters(factor=2), ThreadPoolExecutor(1) as pool:
            assert read() == 2
            with pytest.raises(RuntimeError, match="steps with different values of it"):
                pool.submit(read).result()
    finally:
        release.set()
        other.join()
    assert read() == 1


def test_a_parameter_read_when_the_setup_code_runs_keeps_its_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_modules: None
) -> None:
    setup = (
        "def shifted(v, by=factor):\n    return v + by\n\n"
        "def scaled(v): return v * factor  # on the def line\n\n"
        'def described(v):\n    """doc"""; return f"{v} x {factor}"\n'
    )
    cells = [
        ("factor = 2", ["parameters"]),
        setup,
        "%%mlstep load\nv = scaled(3)\nw = shifted(1)\nd = described(1)",
        "%%mlstep use\nprint(v, w, d)",
    ]
    folder = extract(tmp_path, "order", cells)
    common = (folder / "order" / "common.py").read_text(encoding="utf-8")
    assert "\nfactor = 2\n" in common  # read on import (a default argument): a module global
    assert common.count('factor = runtime.parameter("factor", 2)') == 2  # read when called
    monkeypatch.syspath_prepend(str(folder))
    v, _, d = importlib.import_module("order.load").load(factor=5)
    assert (v, d) == (15, "1 x 5")


def test_code_using_the_name_runtime_gets_the_api_under_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_modules: None
) -> None:
    cells = [
        ("factor = 2", ["parameters"]),
        "def double(v):\n    runtime = 'mine'\n    return v * factor\n",
        "%%mlstep load\nruntime = 3\nv = double(runtime)",
        "%%mlstep use\nprint(v)",
    ]
    folder = extract(tmp_path, "order", cells)
    common = (folder / "order" / "common.py").read_text(encoding="utf-8")
    load = (folder / "order" / "load.py").read_text(encoding="utf-8")
    for source in (common, load):
        assert "from jupyter_mlops import runtime as jupyter_mlops_runtime" in source
    assert "with jupyter_mlops_runtime.parameters(factor=factor):" in load
    monkeypatch.syspath_prepend(str(folder))
    assert importlib.import_module("order.load").load(factor=5) == 15


def test_a_setup_function_declaring_a_parameter_global_is_refused(tmp_path: Path) -> None:
    cells = [
        "def bump():\n    global factor\n    return factor + 1\n",
        ("factor = 2", ["parameters"]),
        "%%mlstep load\nv = bump()",
        "%%mlstep use\nprint(v)",
    ]
    with pytest.raises(DependencyError, match="declares 'global factor'") as info:
        extract(tmp_path, "order", cells)
    assert info.value.cell == 1


# --- outputs in notebook order ----------------------------------------------------------------

ORDER_CELLS = [
    "from sklearn.model_selection import train_test_split\n",
    ("n = 40", ["parameters"]),
    "%%mlstep split\n"
    "X = [[i, i * 2] for i in range(n)]\n"
    "y = [i % 2 for i in range(n)]\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)",
    "%%mlstep use\nsizes = [len(X_train), len(X_test), len(y_train), len(y_test)]\nprint(sizes)",
]


def test_several_outputs_come_back_in_the_order_the_cell_assigns_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_modules: None
) -> None:
    import yaml

    folder = extract(tmp_path, "order", ORDER_CELLS)
    source = (folder / "order" / "split.py").read_text(encoding="utf-8")
    assert source.rstrip().endswith("return X_train, X_test, y_train, y_test")
    data = yaml.safe_load((folder / "pipeline.yaml").read_text(encoding="utf-8"))
    assert data["steps"][0]["outputs"] == ["X_train", "X_test", "y_train", "y_test"]
    notebook = json.loads((folder / "notebooks" / "split.ipynb").read_text(encoding="utf-8"))
    assert "X_train, X_test, y_train, y_test = split(n=n)" in [
        "".join(cell["source"]) for cell in notebook["cells"]
    ]
    monkeypatch.syspath_prepend(str(folder))
    X_train, X_test, y_train, y_test = importlib.import_module("order.split").split(n=40)
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (30, 10, 30, 10)
    shown = json.loads(cli("show", str(tmp_path / "order.ipynb"), "--json").stdout)
    assert shown["steps"][0]["outputs"] == ["X_test", "X_train", "y_test", "y_train"]  # sorted


def test_the_engine_maps_returned_values_to_their_names(tmp_path: Path) -> None:
    from jupyter_mlops.artifacts.store import ArtifactStore
    from jupyter_mlops.execute.runner import RunOptions, run_pipeline

    folder = extract(tmp_path, "order", ORDER_CELLS)
    result = run_pipeline(folder, RunOptions(engine="inprocess", track=False))
    assert result.status == "succeeded", result.error
    store = ArtifactStore.for_pipeline(folder)
    sizes = {name: len(store.get(ref)) for name, ref in result.steps["split"].outputs.items()}
    assert sizes == {"X_train": 30, "X_test": 10, "y_train": 30, "y_test": 10}


# --- packages extracted by an older version ---------------------------------------------------

OLD_IMPORTS = {
    "notebooks/load.ipynb": (
        "from jupyter_mlops.runtime import save_outputs",
        "from jupyter_mlops.stepio import save_outputs",
        "jupyter_mlops.stepio",
    ),
    "tests/test_load.py": (
        "from jupyter_mlops import runtime",
        "from jupyter_mlops import pipeline_testing",
        "jupyter_mlops.pipeline_testing",
    ),
}


def older_package(tmp_path: Path, relative: str) -> tuple[Path, Path]:
    cells = [
        "def double(v):\n    return v * factor\n",
        ("factor = 2", ["parameters"]),
        "%%mlstep load\nv = double(3)",
        "%%mlstep use\nprint(v)",
    ]
    folder = extract(tmp_path, "old", cells)
    new, old, _ = OLD_IMPORTS[relative]
    path = folder / relative
    text = path.read_text(encoding="utf-8")
    assert new in text
    path.write_text(text.replace(new, old), encoding="utf-8")
    return tmp_path / "old.ipynb", folder


def expected_line(folder: Path, relative: str, notebook: Path | str) -> str:
    module = OLD_IMPORTS[relative][2]
    return (
        f"error: {folder} was extracted by an older jupyter_mlops ({relative} imports {module}, "
        f"which this version does not have): re-extract it with jupyter mlops extract "
        f"{notebook} -o {folder}"
    )


@pytest.mark.parametrize("relative", sorted(OLD_IMPORTS))
def test_check_says_re_extract_in_one_line(tmp_path: Path, relative: str) -> None:
    notebook, folder = older_package(tmp_path, relative)
    done = cli("check", str(notebook), str(folder))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == expected_line(folder, relative, notebook)
    with pytest.raises(PipelineError, match="extracted by an older jupyter_mlops"):
        check_sync(notebook, folder)


@pytest.mark.parametrize("relative", sorted(OLD_IMPORTS))
def test_run_says_re_extract_before_any_step_starts(tmp_path: Path, relative: str) -> None:
    notebook, folder = older_package(tmp_path, relative)
    done = cli("run", str(folder), "--engine", "inprocess", "--no-track")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == expected_line(folder, relative, notebook)
    assert not (folder / ".mlops").exists()  # nothing ran, nothing stored
    write_package(scan_notebook(notebook), folder)  # re-extracting fixes it
    assert check_sync(notebook, folder).in_sync


def test_user_code_importing_an_existing_jupyter_mlops_module_is_no_older_package(
    tmp_path: Path,
) -> None:
    cells = [
        "from jupyter_mlops.errors import MlopsError\n",
        "%%mlstep load\nv = MlopsError('x')",
        "%%mlstep use\nprint(v)",
    ]
    folder = extract(tmp_path, "old", cells)
    assert check_sync(tmp_path / "old.ipynb", folder).in_sync
