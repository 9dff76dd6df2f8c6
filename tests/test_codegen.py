"""Extraction of a Pipeline into a package: generated code runs, is ruff-clean and stable."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbfactory import write_notebook
from ruff.__main__ import find_ruff_bin

from jupyter_mlops.errors import PipelineError, StepDeclarationError
from jupyter_mlops.extract.codegen import package_name, step_module
from jupyter_mlops.extract.step_notebook import step_notebook
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.pipeline.model import Pipeline, SetupName, Step

SETUP = '''import math
from statistics import mean, median

SCALE = 10


def scaled(values):
    """Values times SCALE, shifted by the `offset` parameter."""
    return [v * SCALE + offset for v in values]
'''


def make_pipeline(tmp_path: Path) -> Pipeline:
    """A three-step pipeline like the one scan_notebook builds (a setup fn reads a param)."""
    setup_names = {
        "math": SetupName("math", "import", 3, "import math"),
        "mean": SetupName("mean", "import", 3, "from statistics import mean"),
        "median": SetupName("median", "import", 3, "from statistics import median"),
        "SCALE": SetupName("SCALE", "const", 3),
        "scaled": SetupName("scaled", "def", 3),
    }
    load = Step(
        name="load",
        cell=5,
        code='global raw\nraw = list(range(1, n + 1))\nnote = """two\nlines"""\n',
        outputs=["raw"],
        params=["n"],
    )
    transform = Step(
        name="transform",
        cell=7,
        code="values = scaled(raw)\nraw.append(0)\nl = lambda x: x\nvalues\n",
        inputs={"raw": "load"},
        outputs=["raw", "values"],
        params=["offset"],
        setup=["SCALE", "scaled"],
        setup_params=["offset"],
    )
    summary = Step(
        name="summary",
        cell=9,
        code="metrics = {'mean': mean(values), 'median': median(values), 'sqrt': math.sqrt(2)}\n",
        inputs={"values": "transform"},
        outputs=["metrics"],
        imports=["from statistics import mean, median", "import math"],
        metrics="metrics",
        no_cache=True,
    )
    report = Step(name="report", cell=11, code="print(len(raw), metrics)\n")
    report.inputs = {"raw": "transform", "metrics": "summary"}
    return Pipeline(
        name="demo-pipeline",
        notebook=str(tmp_path / "demo-pipeline.ipynb"),
        notebook_hash="0" * 64,
        params={"n": 4, "offset": 0.5, "tag": "v1"},
        params_cell=4,
        setup_code=[(3, SETUP)],
        setup_names=setup_names,
        steps=[load, transform, summary, report],
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(autouse=True)
def fresh_modules():
    """Forget generated packages imported by a test (each test has its own folder)."""
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in ("demo_pipeline", "renamed")]:
        del sys.modules[name]


@pytest.fixture
def extracted(tmp_path: Path) -> tuple[Pipeline, Path]:
    pipeline = make_pipeline(tmp_path)
    out = tmp_path / "pipeline"
    write_package(pipeline, out)
    return pipeline, out


def test_layout_of_the_package(extracted: tuple[Pipeline, Path]) -> None:
    _, out = extracted
    assert package_name("demo-pipeline") == "demo_pipeline"
    expected = {"pipeline.yaml", "ruff.toml", "tests/conftest.py", "tests/test_whole_pipeline.py"}
    expected |= {"demo_pipeline/__init__.py", "demo_pipeline/common.py"}
    for step in ("load", "transform", "summary", "report"):
        expected |= {f"demo_pipeline/{step}.py", f"notebooks/{step}.ipynb", f"tests/test_{step}.py"}
    assert set(snapshot(out)) == expected
    common = (out / "demo_pipeline/common.py").read_text()
    assert "# --- cell 3 ---" in common
    assert 'offset = runtime.parameter("offset", 0.5)' in common and "n = 4" not in common
    assert "\noffset = " not in common  # no module global: the calling step's value


def test_generated_code_runs(extracted: tuple[Pipeline, Path], monkeypatch) -> None:
    _, out = extracted
    monkeypatch.syspath_prepend(str(out))
    load = importlib.import_module("demo_pipeline.load").load
    transform = importlib.import_module("demo_pipeline.transform").transform
    summary = importlib.import_module("demo_pipeline.summary").summary
    report = importlib.import_module("demo_pipeline.report").report
    raw = load(n=3)
    assert raw == [1, 2, 3]
    raw, values = transform(raw=raw, offset=1.0)
    assert values == [11.0, 21.0, 31.0] and raw == [1, 2, 3, 0]
    metrics = summary(values=values)
    assert metrics["mean"] == 21.0 and metrics["median"] == 21.0
    assert report(metrics=metrics, raw=raw) is None
    source = (out / "demo_pipeline/transform.py").read_text()
    assert "with runtime.parameters(offset=offset):" in source and "common." not in source
    assert "global" not in (out / "demo_pipeline/load.py").read_text()
    assert 'note = """two\nlines"""' in (out / "demo_pipeline/load.py").read_text()


def test_output_passes_ruff(extracted: tuple[Pipeline, Path]) -> None:
    _, out = extracted
    ruff = find_ruff_bin()
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [ruff, *args, "--no-cache", "."], cwd=out, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_generated_tests_pass(extracted: tuple[Pipeline, Path]) -> None:
    _, out = extracted
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


def test_step_notebook(extracted: tuple[Pipeline, Path]) -> None:
    _, out = extracted
    text = (out / "notebooks/transform.ipynb").read_text(encoding="utf-8")
    nb = json.loads(text)
    assert text == json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] == 5
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"]["jupyter_mlops"]["generated"] is True
    sources = ["".join(cell["source"]) for cell in nb["cells"]]
    assert nb["cells"][0]["metadata"]["tags"] == ["parameters"]
    assert "offset = 0.5" in sources[0] and "input_paths = {}" in sources[0]
    assert 'raw = load_input(input_paths["raw"])' in sources
    assert "raw, values = transform(raw=raw, offset=offset)" in sources
    assert 'save_outputs(output_dir, {"raw": raw, "values": values})' in sources


def test_extracting_twice_is_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_package(make_pipeline(tmp_path), first)
    write_package(make_pipeline(tmp_path), second)
    assert snapshot(first) == snapshot(second)
    assert write_package(make_pipeline(tmp_path), first) == []


def test_changing_one_step_changes_only_its_files(extracted: tuple[Pipeline, Path]) -> None:
    pipeline, out = extracted
    pipeline.steps[1].code += "values = values[::-1]\n"
    pipeline.notebook_hash = "1" * 64
    changed = write_package(pipeline, out)
    assert [p.relative_to(out).as_posix() for p in changed] == [
        "demo_pipeline/transform.py",
        "pipeline.yaml",
    ]


def test_stale_generated_files_are_removed(extracted: tuple[Pipeline, Path]) -> None:
    pipeline, out = extracted
    user_file = out / "notebooks" / "mine.ipynb"
    user_file.write_text("{}")
    (out / "demo_pipeline" / "helpers.py").write_text("X = 1\n")
    del pipeline.steps[3]
    changed = {p.relative_to(out).as_posix() for p in write_package(pipeline, out)}
    assert {"demo_pipeline/report.py", "notebooks/report.ipynb", "tests/test_report.py"} <= changed
    assert not (out / "demo_pipeline/report.py").exists()
    assert user_file.exists() and (out / "demo_pipeline/helpers.py").exists()


def test_renamed_pipeline_removes_the_old_package(extracted: tuple[Pipeline, Path]) -> None:
    pipeline, out = extracted
    pipeline.name = "renamed"
    write_package(pipeline, out)
    assert not (out / "demo_pipeline").exists()
    assert (out / "renamed/summary.py").exists()


def test_refuses_a_non_empty_folder_without_pipeline_yaml(tmp_path: Path) -> None:
    out = tmp_path / "project"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(PipelineError, match="no pipeline.yaml") as info:
        write_package(make_pipeline(tmp_path), out)
    assert info.value.path == str(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_refuses_a_foreign_pipeline_yaml(tmp_path: Path) -> None:
    out = tmp_path / "project"
    out.mkdir()
    (out / "pipeline.yaml").write_text("kind: Pipeline\n")
    with pytest.raises(PipelineError, match="not generated by jupyter_mlops"):
        write_package(make_pipeline(tmp_path), out)


@pytest.mark.parametrize(
    ("code", "line"), [("x = 1\n%time y = 2\n", "%time y = 2"), ("!ls\n", "!ls")]
)
def test_magic_in_a_step_is_refused(tmp_path: Path, code: str, line: str) -> None:
    pipeline = make_pipeline(tmp_path)
    pipeline.steps[0].code = code
    out = tmp_path / "pipeline"
    with pytest.raises(StepDeclarationError, match="move it to a cell that is not a step") as info:
        write_package(pipeline, out)
    assert line in str(info.value)
    assert info.value.step == "load" and info.value.cell == 5
    assert not out.exists()


def test_step_without_code_or_outputs_is_a_valid_function(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    source = step_module(pipeline, Step(name="noop", cell=2, code="# nothing yet\n"), "x.ipynb")
    namespace: dict[str, object] = {}
    exec(compile(source, "noop.py", "exec"), namespace)
    assert callable(namespace["noop"])


def test_step_notebooks_run_in_order(
    extracted: tuple[Pipeline, Path], tmp_path: Path, monkeypatch
) -> None:
    """Run each step notebook's cells as papermill would, passing artifacts between steps."""
    from jupyter_mlops.artifacts.store import ArtifactStore
    from jupyter_mlops.runtime.stepio import STORE_ENV, read_outputs

    pipeline, out = extracted
    store = ArtifactStore(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    monkeypatch.syspath_prepend(str(out))
    refs: dict[str, dict] = {}
    for step in pipeline.steps:
        nb = json.loads((out / "notebooks" / f"{step.name}.ipynb").read_text(encoding="utf-8"))
        namespace: dict[str, object] = {}
        for index, cell in enumerate(nb["cells"]):
            exec("".join(cell["source"]), namespace)
            if index == 0:  # what papermill's injected-parameters cell does
                namespace["input_paths"] = {
                    var: str(store.path_of(refs[producer][var].hash))
                    for var, producer in step.inputs.items()
                }
                namespace["output_dir"] = str(tmp_path / "runs" / step.name)
        refs[step.name] = read_outputs(str(tmp_path / "runs" / step.name))
        assert sorted(refs[step.name]) == sorted(step.outputs)
    assert store.get(refs["summary"]["metrics"])["mean"] == 25.5


def test_step_named_like_its_output_is_called_through_an_alias(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    step = Step(name="model", cell=3, code="model = 1\n", outputs=["model"])
    sources = [
        "".join(c["source"])
        for c in json.loads(step_notebook(pipeline, step, package_name(pipeline.name)))["cells"]
    ]
    assert "from demo_pipeline.model import model as run_step" in sources[1]
    assert "model = run_step()" in sources


def test_example_notebook_extracts_ruff_clean(tmp_path: Path) -> None:
    from jupyter_mlops.authoring.scan import scan_notebook

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "classification.ipynb"
    out = tmp_path / "classification_pipeline"
    write_package(scan_notebook(notebook), out)
    evaluate = (out / "classification" / "evaluate.py").read_text()
    assert "with runtime.parameters(threshold=threshold):" in evaluate
    ruff = find_ruff_bin()
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [ruff, *args, "--no-cache", "."], cwd=out, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_dunder_step_name_is_refused(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    pipeline.steps[0].name = "__init__"
    with pytest.raises(StepDeclarationError, match="special module names") as info:
        write_package(pipeline, tmp_path / "out")
    assert info.value.step == "__init__" and info.value.cell == 5


def test_an_empty_existing_folder_is_accepted(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    changed = write_package(make_pipeline(tmp_path), out)
    assert out / "pipeline.yaml" in changed


# --- the user's own imports: unused ones must not fail ruff, nor hide real errors ------

UNUSED_IMPORTS_CELLS = [
    "import json\nimport math\nfrom statistics import mean, median\n\nSCALE = 10",
    (
        "%%mlstep load\nimport os\nimport sys, re\nfrom math import pi, e as E  # constants\n"
        "from itertools import (\n    chain,  # used\n    permutations,\n)\n"
        "import string; raw = list(chain([3, 1], [2]))\nif raw: import csv; flag = 1\n"
        "try:\n    import tomllib\nexcept ImportError:\n    tomllib = None\n"
        "def scale(os):\n    return os * SCALE\n"
        "pattern = re.compile('[0-9]+')\nsquares = [scale(v) for v in raw]"
    ),
    (
        "%%mlstep summary\nfrom collections import Counter\nimport os.path as osp\n"
        "total = math.fsum(squares) + mean(raw); from math import tau; seen = Counter(raw)"
    ),
]


def extract_notebook(tmp_path: Path, cells: list, out_name: str = "pipeline") -> Path:
    from jupyter_mlops.authoring.scan import scan_notebook

    notebook = write_notebook(tmp_path / "unused_imports.ipynb", cells)
    out = tmp_path / out_name
    write_package(scan_notebook(notebook), out)
    return out


def ruff_check(folder: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_ruff_bin(), "check", "--no-cache", "--output-format", "concise", *(paths or ["."])],
        cwd=folder,
        capture_output=True,
        text=True,
    )


def test_unused_imports_of_a_cell_pass_ruff(tmp_path: Path, monkeypatch) -> None:
    out = extract_notebook(tmp_path, UNUSED_IMPORTS_CELLS)
    result = ruff_check(out)
    assert result.returncode == 0, result.stdout + result.stderr
    format_check = subprocess.run(
        [find_ruff_bin(), "format", "--check", "--no-cache", "."], cwd=out, capture_output=True
    )
    assert format_check.returncode == 0
    load = (out / "unused_imports/load.py").read_text()
    for marked in (
        "    import os  # noqa: F401, F811\n",
        "    import sys, re  # noqa: F401\n",
        "    from math import pi, e as E  # constants  # noqa: F401\n",
        "    from itertools import (  # noqa: F401\n        chain,  # used\n",
        "    import string  # noqa: F401\n\n    raw = list(chain([3, 1], [2]))\n",
        "        import tomllib  # noqa: F401, F811\n",
        "    def scale(os):  # noqa: F811\n",
        "# ruff: noqa: F401\n",  # `if raw: import csv; flag = 1` cannot be marked alone
    ):
        assert marked in load
    summary = (out / "unused_imports/summary.py").read_text()
    assert "    from collections import Counter\n" in summary  # used: no noqa
    assert "    import os.path as osp  # noqa: F401\n" in summary
    assert "    from math import tau  # noqa: F401\n\n    seen = Counter(raw)\n" in summary
    assert "noqa" not in (out / "unused_imports/common.py").read_text()
    # The marks change no behaviour: the step functions still compute the notebook's values.
    monkeypatch.syspath_prepend(str(out))
    try:
        steps = importlib.import_module("unused_imports.load").load()
        raw, squares = steps
        summary_step = importlib.import_module("unused_imports.summary").summary
        assert (raw, squares) == ([3, 1, 2], [30, 10, 20])
        # summary is a sink step: it returns its final values, the results the run keeps.
        total, seen = summary_step(raw=raw, squares=squares)
        assert (total, dict(seen)) == (62.0, {3: 1, 1: 1, 2: 1})
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "unused_imports"]:
            del sys.modules[name]


def test_unused_import_marks_are_deterministic(tmp_path: Path) -> None:
    first = extract_notebook(tmp_path, UNUSED_IMPORTS_CELLS, "one")
    second = extract_notebook(tmp_path, UNUSED_IMPORTS_CELLS, "two")
    assert snapshot(first) == snapshot(second)


def test_a_real_unused_import_is_still_reported(tmp_path: Path) -> None:
    out = extract_notebook(tmp_path, UNUSED_IMPORTS_CELLS)
    ruff_toml = (out / "ruff.toml").read_text()
    ignored = ruff_toml.split("\nignore = ")[1].split("\n")[0]
    assert "F401" not in ignored and "F811" not in ignored and "F821" not in ignored
    summary = out / "unused_imports/summary.py"
    # An import the generated scaffolding added without using it would be reported ...
    summary.write_text(summary.read_text().replace('"""\n', '"""\n\nimport json\n', 1))
    # ... and so would a user's import whose mark were missing.
    summary.write_text(summary.read_text().replace("as osp  # noqa: F401", "as osp"))
    result = ruff_check(out, "unused_imports/summary.py")
    assert result.returncode == 1
    assert "F401 [*] `json` imported but unused" in result.stdout
    assert "F401 [*] `os.path` imported but unused" in result.stdout
