"""A sink step keeps its final values as results: the rule, pipeline.yaml, the run summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from nbfactory import write_notebook

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.authoring.sink_results import sink_results
from jupyter_mlops.errors import PipelineError
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.pipeline.pipeline_file import read_pipeline

NOTEBOOK = Path(__file__).parent / "notebooks" / "sink_table.ipynb"
RESULT_KEYS = {"summarize.summary", "summarize.overall"}


# --- the rule, on small cells ---------------------------------------------------------------


@pytest.mark.parametrize(
    "code, kept",
    [
        ("total = 1\nlabel: str = 'a'", ["total", "label"]),
        # Read again after its last assignment: an intermediate.
        ("preds = model.predict(X)\nscore = (preds == y).mean()", ["score"]),
        # Reassigned or changed in place after the read: the last value is a result.
        ("t = load()\nt = t.dropna()\nt['r'] = t['a'] / t['b']", ["t"]),
        # Loop, with, except variables, imports, functions and classes are not kept.
        ("for i in range(3):\n    last = i\nn = 3", ["n"]),
        ("with open(p) as f:\n    text = f.read()", []),
        ("try:\n    v = 1\nexcept ValueError as err:\n    v = 2", []),
        ("import os\ndef f():\n    return 1\nclass C:\n    pass", []),
        ("_hidden = 1\nshown = 2", ["shown"]),
        ("a, b = pair()", []),
        # Consumed inside a loop or by an in-place change of another value.
        ("rows = []\nfor x in xs:\n    rows.append(x)\nframe = pd.DataFrame(rows)", ["frame"]),
        ("x = 1\nitems.append(x)", []),
        # Showing a value is not using it.
        ("best = pick()\nprint(f'best: {best}')", ["best"]),
        ("summary = make()\nsummary.head()", ["summary"]),
        # The last line's display keeps a value the cell also computes from.
        ("table = make()\nbest = table.idxmin()\ntable", ["table", "best"]),
        ("table = make()\nn = len(table)\ntable.head(3)", ["table", "n"]),
        ("table = make()\nn = len(table)\nlen(table)", ["n"]),
    ],
)
def test_which_final_values_a_sink_step_keeps(code: str, kept: list[str]) -> None:
    assert sink_results(code) == kept


def test_only_sink_steps_keep_results_and_model_metrics_stay_outputs(tmp_path: Path) -> None:
    notebook = write_notebook(
        tmp_path / "flow.ipynb",
        [
            "%%mlstep load\nraw = [3, 1, 2]\nunused = 5",
            "%%mlstep fit --metrics scores\nscores = {'n': float(len(raw))}\nlabel = 'x'",
            "%%mlstep explicit --outputs kept\nkept = sorted(raw)\nother = 1",
            "%%mlstep gone\nvalue = 1\ndel value",
        ],
    )
    steps = {step.name: step for step in scan_notebook(notebook).steps}
    assert steps["load"].results == [] and steps["load"].outputs == ["raw"]
    assert steps["fit"].results == ["label"]
    assert steps["fit"].outputs == ["scores", "label"]
    assert steps["explicit"].results == [] and steps["explicit"].outputs == ["kept"]
    assert steps["gone"].results == [] and steps["gone"].outputs == []


# --- the sink_table notebook, extracted and run ---------------------------------------------


def notebook_values() -> dict[str, Any]:
    """The notebook's namespace after running its code cells top to bottom (as a kernel would,
    minus the display): each ``%%mlstep`` body runs as plain code."""
    namespace: dict[str, Any] = {}
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith("%load_ext"):
            continue
        if source.startswith("%%mlstep"):
            source = source.split("\n", 1)[1]
        exec(compile(source, "cell", "exec"), namespace)
    return namespace


def cli_run(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "run", str(folder), "--engine", "inprocess",
         "--no-track", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """The notebook extracted, then run twice: cold, then from the cache."""
    folder = tmp_path_factory.mktemp("sink") / "sink_table"
    write_package(scan_notebook(NOTEBOOK), folder)
    results = [cli_run(folder), cli_run(folder)]
    for result in results:
        assert result.returncode == 0, result.stderr
    return folder, results


def test_pipeline_yaml_lists_exactly_the_kept_names(runs: tuple[Path, list[Any]]) -> None:
    folder, _ = runs
    data = yaml.safe_load((folder / "pipeline.yaml").read_text(encoding="utf-8"))
    steps = {step["name"]: step for step in data["steps"]}
    assert steps["summarize"]["results"] == ["summary", "overall"]
    assert steps["summarize"]["outputs"] == ["summary", "overall"]
    assert [name for name, step in steps.items() if "results" in step] == ["summarize"]
    assert steps["train"]["outputs"] == ["predictions"]  # X, y, model: read by no step
    assert read_pipeline(folder).step("summarize").results == ["summary", "overall"]
    module = (folder / "sink_table" / "summarize.py").read_text(encoding="utf-8")
    assert "    # Results the run keeps (no later step reads them): summary, overall\n" in module
    assert module.rstrip().endswith("return summary, overall")


def test_run_json_and_text_summary_show_the_results(runs: tuple[Path, list[Any]]) -> None:
    _, (first, _) = runs
    summary = json.loads(first.stdout)
    assert set(summary["results"]) == RESULT_KEYS
    frame = summary["results"]["summarize.summary"]
    assert frame["type"].startswith("pandas.") and frame["type"].endswith(".DataFrame")
    assert Path(frame["path"]).is_absolute() and Path(frame["path"]).is_file()
    assert Path(frame["path"]).name.startswith(frame["hash"])
    lines = first.stderr.splitlines()
    heading = next(line for line in lines if line.startswith("result summarize.summary: "))
    assert heading.startswith("result summarize.summary: DataFrame, 3 rows × 3 columns")
    table = lines[lines.index(heading) + 1 : lines.index(heading) + 6]
    assert table[0].split() == ["n", "accuracy", "share"]
    assert [row.split()[0] for row in table[2:5]] == ["0", "1", "2"]
    overall = next(line for line in lines if line.startswith("result summarize.overall = "))
    assert overall.startswith(f"result summarize.overall = {notebook_values()['overall']!r} ")


def test_kept_artifacts_equal_the_notebooks_values(runs: tuple[Path, list[Any]]) -> None:
    import pandas as pd

    folder, (first, _) = runs
    store = ArtifactStore.for_pipeline(folder)
    results = json.loads(first.stdout)["results"]
    expected = notebook_values()
    pd.testing.assert_frame_equal(
        store.get(results["summarize.summary"]["hash"]), expected["summary"], check_exact=True
    )
    assert store.get(results["summarize.overall"]["hash"]) == expected["overall"]


def test_a_cached_rerun_still_has_the_results(runs: tuple[Path, list[Any]]) -> None:
    _, (first, second) = runs
    summary = json.loads(second.stdout)
    assert {step["status"] for step in summary["steps"].values()} == {"cached"}
    assert summary["results"] == json.loads(first.stdout)["results"]
    assert any(line.startswith("result summarize.summary: ") for line in second.stderr.splitlines())


def test_results_get_no_inferred_schema(runs: tuple[Path, list[Any]]) -> None:
    folder, _ = runs
    written = sorted(path.name for path in (folder / "schemas").glob("*.yaml"))
    assert "train.predictions.yaml" in written
    assert not [name for name in written if name.startswith("summarize.")]


def test_results_must_be_outputs_in_pipeline_yaml(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "flow.ipynb", ["%%mlstep only\ntotal = 1"])
    folder = tmp_path / "flow"
    write_package(scan_notebook(notebook), folder)
    text = (folder / "pipeline.yaml").read_text(encoding="utf-8")
    assert "  results:\n  - total\n" in text
    bad = text.replace("  results:\n  - total\n", "  results:\n  - totals\n")
    (folder / "pipeline.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        read_pipeline(folder)
    assert "field 'steps[0].results' names 'totals', which is not in 'outputs'" in str(caught.value)
