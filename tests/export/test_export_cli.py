"""``jupyter mlops export`` on the command line: what it prints, and the bad input it refuses
naming the target, option, parameter or path, with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_mlops.cli.main import main
from jupyter_mlops.errors import ExportError
from jupyter_mlops.export.steps import ExportOptions, plan_export
from jupyter_mlops.pipeline.pipeline_file import read_pipeline


def test_prints_what_it_wrote(
    example_pipelines: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "dag.py"
    folder = example_pipelines["regression"]
    assert main(["export", str(folder), "--to", "airflow", "-o", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["path"] == str(out) and out.is_file()
    assert result["parameters"] == ["mlops_store", "alpha", "n_estimators", "test_size"]
    assert ["train_ridge", "evaluate_ridge"] in result["edges"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--to", "argo"], "unknown export target 'argo' (choose kfp or airflow)"),
        (["--to", "airflow", "--operator", "docker"], "unknown --operator 'docker'"),
        (["--to", "kfp", "--operator", "bash"], "--operator applies to --to airflow only"),
        (["--to", "kfp", "--retries", "-1"], "--retries must be a whole number from 0 to 100"),
        (["--to", "kfp", "--image", "my image"], "--image must be a non-empty value"),
        (["--to", "kfp", "--store", ""], "--store must be a non-empty value"),
    ],
)
def test_bad_options_are_named_and_nothing_is_written(
    example_pipelines: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    out = tmp_path / "spec.yaml"
    code = main(["export", str(example_pipelines["regression"]), "-o", str(out), *arguments])
    assert code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_notebook_not_extracted_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "fresh.ipynb"
    notebook.write_text("{}")
    assert main(["export", str(notebook), "--to", "kfp", "-o", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert "fresh.ipynb" in err and "jupyter mlops extract" in err
    missing = tmp_path / "nowhere"
    assert main(["export", str(missing), "--to", "kfp", "-o", str(tmp_path / "p.yaml")]) == 2
    assert "no such notebook or pipeline folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.ipynb"]


def test_an_output_folder_is_refused(
    example_pipelines: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["export", str(example_pipelines["regression"]), "--to", "kfp", "-o", str(tmp_path)]
    )
    assert code == 2
    assert f"{tmp_path}: the output is a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"x": None}, "x"),
        ({"x": float("nan")}, "x"),
        ({"x": (1, 2)}, "x"),
        ({"mlops_store": "s"}, "mlops_store"),
    ],
)
def test_parameters_an_orchestrator_cannot_type_are_named(
    example_pipelines: dict[str, Path], params: dict[str, object], name: str
) -> None:
    pipeline = read_pipeline(example_pipelines["regression"])
    pipeline.params = params
    with pytest.raises(ExportError, match=f"parameter '{name}'") as error:
        plan_export(pipeline, ExportOptions())
    assert error.value.name == name


def test_json_words_kfp_renders_are_read_as_values() -> None:
    from jupyter_mlops.pipeline.params import parse_assignments

    values = parse_assignments(
        ["flag=true", "none=null", "xs=[1, null]", 'd={"a": false}', "s=x y"]
    )
    assert values == {"flag": True, "none": None, "xs": [1, None], "d": {"a": False}, "s": "x y"}


def test_numbers_take_the_declared_parameters_type() -> None:
    from jupyter_mlops.pipeline.params import resolve_params

    declared = {"n": 3, "rate": 0.5, "flag": False, "depth": 2}
    given = {"n": 200.0, "rate": 1, "flag": True, "depth": 4}
    resolved = resolve_params(declared, given)
    assert resolved == {"n": 200, "rate": 1.0, "flag": True, "depth": 4}
    assert [type(v) for v in resolved.values()] == [int, float, bool, int]
