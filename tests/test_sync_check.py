"""`jupyter mlops check`: green right after extraction, red with a diff after edits, and
blind to what the user owns (schemas, fixtures, the drift/gates sections, own files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from quality_pipeline import LOAD, cli, write_quality_notebook

from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import PipelineError
from jupyter_mlops.extract.sync_check import check_sync, without_user_sections
from jupyter_mlops.extract.writer import write_package


@pytest.fixture
def extracted(tmp_path: Path) -> tuple[Path, Path]:
    notebook = write_quality_notebook(tmp_path)
    folder = tmp_path / "pipelines" / "quality"
    write_package(scan_notebook(notebook), folder)
    return notebook, folder


def edit_cell(notebook: Path, old: str, new: str) -> None:
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if old in source:
            cell["source"] = source.replace(old, new)
    notebook.write_text(json.dumps(nb, indent=1))


def test_green_right_after_extraction(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    report = check_sync(notebook, folder)
    assert report.in_sync and report.differences == []
    done = cli("check", str(notebook))  # default folder: pipelines/<stem>/ beside it
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"{folder}/ is in sync with {notebook}: 21 generated files")


def test_red_with_a_diff_after_a_notebook_edit(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    edit_cell(notebook, "rng.uniform(size=n)})", "rng.uniform(size=n) * 2})")
    done = cli("check", str(notebook), str(folder))
    assert done.returncode == 1
    out = done.stdout
    assert out.startswith(f"{folder}/ is out of sync with {notebook}: 2 of 21 generated files")
    assert "--- quality/load.py (in the folder)\n+++ quality/load.py (extracted from the" in out
    assert '-    df = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n)})' in out
    assert '+    df = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.uniform(size=n) * 2})' in out
    assert "--- pipeline.yaml (in the folder)" in out and "-  sha256: " in out
    assert out.rstrip().endswith(
        f"jupyter mlops extract {notebook} -o {folder} (or revert the hand edits)"
    )
    write_package(scan_notebook(notebook), folder)  # re-extraction makes it green again
    assert check_sync(notebook, folder).in_sync


def test_red_after_a_hand_edit_of_a_generated_file(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    module = folder / "quality" / "train.py"
    module.write_text(module.read_text().replace("C=C", "C=10 * C"))
    report = check_sync(notebook, folder)
    assert [(d.path, d.kind) for d in report.differences] == [("quality/train.py", "changed")]
    assert "-    model = LogisticRegression(C=10 * C).fit(Xa, ya)" in report.differences[0].diff
    assert "+    model = LogisticRegression(C=C).fit(Xa, ya)" in report.differences[0].diff


def test_missing_and_stale_generated_files(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    (folder / "tests" / "test_arrays.py").unlink()
    stale = folder / "notebooks" / "old_step.ipynb"
    stale.write_text((folder / "notebooks" / "load.ipynb").read_text())
    report = check_sync(notebook, folder)
    kinds = {(d.path, d.kind) for d in report.differences}
    assert kinds == {("tests/test_arrays.py", "missing"), ("notebooks/old_step.ipynb", "stale")}
    text = report.render()
    assert "missing: tests/test_arrays.py (extraction would write it)" in text
    assert "stale: notebooks/old_step.ipynb (extraction would remove it)" in text


def test_user_owned_files_and_sections_are_not_compared(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    (folder / "schemas").mkdir()
    (folder / "schemas" / "load.df.yaml").write_text("schema_type: dataframe\n")
    (folder / "tests" / "fixtures").mkdir()
    (folder / "tests" / "fixtures" / "manifest.json").write_text("{}\n")
    (folder / "tests" / "test_mine.py").write_text("def test_mine():\n    pass\n")
    yaml_file = folder / "pipeline.yaml"
    yaml_file.write_text(
        yaml_file.read_text()
        + "\n# my gates, reviewed by Ann\ngates:\n  metrics:\n    accuracy: {min: 0.8}\n"
        + "drift:\n  action: fail  # stop on drift\n"
    )
    assert check_sync(notebook, folder).in_sync
    write_package(scan_notebook(notebook), folder)  # extraction keeps the sections...
    assert "accuracy" in yaml_file.read_text()
    assert check_sync(notebook, folder).in_sync  # ...and still agrees with itself
    yaml_file.write_text(yaml_file.read_text().replace("name: quality\n", "name: other\n", 1))
    report = check_sync(notebook, folder)
    assert [d.path for d in report.differences] == ["pipeline.yaml"]
    assert "-name: other\n+name: quality" in report.differences[0].diff


def test_without_user_sections_keeps_generated_text() -> None:
    text = (
        "# Generated by jupyter_mlops 0.1.0 from x.ipynb; review\n"
        "gates:\n  metrics: {}\n"
        "name: p\nsteps:\n- name: a\n  cell: 1\n\n"
        "# Your settings: kept as they are when the notebook is re-extracted.\n"
        "drift: warn\n# trailing note\n- stray\n"
    )
    assert without_user_sections(text) == (
        "# Generated by jupyter_mlops 0.1.0 from x.ipynb; review\n"
        "name: p\nsteps:\n- name: a\n  cell: 1\n"
    )


def test_folder_that_was_never_extracted_is_bad_input(tmp_path: Path) -> None:
    notebook = write_quality_notebook(tmp_path)
    with pytest.raises(PipelineError, match="holds no pipeline.yaml"):
        check_sync(notebook, tmp_path / "nowhere")
    done = cli("check", str(notebook))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {tmp_path}/pipelines/quality: holds no pipeline.yaml")


def test_notebook_with_extraction_errors_is_bad_input(extracted: tuple[Path, Path]) -> None:
    notebook, folder = extracted
    edit_cell(notebook, LOAD.splitlines()[1], "rng = np.random.default_rng(undefined_name)")
    done = cli("check", str(notebook), str(folder))
    assert done.returncode == 2
    assert "reads 'undefined_name'" in done.stderr
