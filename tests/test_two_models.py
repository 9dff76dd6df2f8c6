"""Several ``--model`` steps: one registered model each (names, versions, signatures through
lineage, per-model gates), on tests/notebooks/two_models.ipynb with a real MLflow store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import assert_no_global_store, client_for

from jupyter_mlops import api, cli
from jupyter_mlops.errors import DuplicateModelName, GateConfigError, PipelineError
from jupyter_mlops.execute.run_result import StepResult
from jupyter_mlops.pipeline.model import Pipeline, Step
from jupyter_mlops.pipeline.model_names import model_names
from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
from jupyter_mlops.quality.gates.config import read_gates
from jupyter_mlops.tracking.recording import registered_as

NOTEBOOK = Path(__file__).parent / "notebooks" / "two_models.ipynb"
FULL, SMALL = "two_models-full_model", "two_models-small_model"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """two_models.ipynb copied into a project and extracted."""
    notebook = tmp_path / "project" / "two_models.ipynb"
    notebook.parent.mkdir()
    shutil.copyfile(NOTEBOOK, notebook)
    return api.extract(notebook).folder


def run_json(folder: Path, uri: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    """``jupyter mlops run FOLDER --json``: (exit code, the summary, stderr)."""
    args = ["run", str(folder), "--engine", "inprocess", "--tracking-uri", uri, "--json"]
    code = cli.main([*args, "--fail-on-rejected"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def model_info(source: str, where: Path) -> Any:
    """The MLflow model info (signature, input example) of a logged model, read locally."""
    import mlflow
    from mlflow.models import Model

    where.mkdir()
    return Model.load(mlflow.artifacts.download_artifacts(source, dst_path=str(where)))


def set_gates(folder: Path, section: str) -> None:
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("\n" + section.strip() + "\n")


def test_each_model_step_registers_its_own_model_once(
    folder: Path, tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary, err = run_json(folder, tracking_uri, capsys)
    assert code == 0, err
    assert summary["model_versions"] == {FULL: "1", SMALL: "1"}
    assert summary["model_version"] is None  # several models: see model_versions
    assert f"registered models {FULL} version 1, {SMALL} version 1" in err
    metrics = summary["metrics"]
    assert metrics["evaluate_full.n_features"] == 30 and metrics["evaluate_small.n_features"] == 5
    client = client_for(tracking_uri)
    for name, features in ((FULL, 30), (SMALL, 5)):
        version = client.get_model_version_by_alias(name, "challenger")
        assert str(version.version) == "1"
        info = model_info(version.source, tmp_path / name)
        assert info.signature is not None, name
        assert len(info.signature.inputs.input_names()) == features
        assert info.saved_input_example_info is not None, name
    small = model_info(client.get_model_version(SMALL, "1").source, tmp_path / "small")
    assert small.signature.inputs.input_names() == [
        "mean radius",
        "mean texture",
        "mean perimeter",
        "mean area",
        "mean smoothness",
    ]  # from X_train_small, one lineage hop above the step (its inputs: a scaler, a list)

    code, again, err = run_json(folder, tracking_uri, capsys)
    assert code == 0, err
    assert again["model_versions"] == {} and "registered model" not in err
    assert {s["status"] for s in again["steps"].values()} == {"cached"}
    for name in (FULL, SMALL):
        assert len(client.search_model_versions(f"name='{name}'")) == 1
    versions = api.pipeline_model_versions(folder, tracking_uri=tracking_uri)["models"]
    assert [(m["step"], m["name"], m["aliases"]) for m in versions] == [
        ("train_full", FULL, {"challenger": "1"}),
        ("train_small", SMALL, {"challenger": "1"}),
    ]
    # GET models/<name> names the step that registers the model
    assert api.model_versions(folder, SMALL, tracking_uri=tracking_uri)["step"] == "train_small"
    assert_no_global_store(tmp_path)


def test_gates_per_model_alias_only_the_model_that_passes(
    folder: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    set_gates(
        folder,
        f"""
gates:
  models:
    {FULL}:
      metrics:
        evaluate_full.accuracy: {{min: 0.5}}
    {SMALL}:
      metrics:
        evaluate_small.accuracy: {{min: 0.999}}
""",
    )
    code, summary, err = run_json(folder, tracking_uri, capsys)
    assert code == 1  # --fail-on-rejected: one model was rejected
    assert summary["status"] == "succeeded" and summary["gates"] is None
    gates = summary["model_gates"]
    assert gates[FULL]["outcome"] == "validated" and gates[FULL]["aliases"] == ["challenger"]
    assert gates[SMALL]["outcome"] == "rejected" and gates[SMALL]["aliases"] == []
    assert gates[SMALL]["reasons"][0].startswith("evaluate_small.accuracy ")
    assert list(gates[FULL]["metrics"]) == ["evaluate_full.accuracy"]
    assert f"gates: model {SMALL} version 1 rejected (no champion yet" in err
    client = client_for(tracking_uri)
    assert client.get_registered_model(FULL).aliases == {"challenger": 1}
    assert client.get_registered_model(SMALL).aliases == {}
    assert client.get_model_version(SMALL, "1").tags["mlops.gate"] == "rejected"


def test_top_level_gates_with_step_prefixed_keys_apply_to_their_own_model(folder: Path) -> None:
    set_gates(folder, "gates:\n  metrics:\n    evaluate_small.accuracy: {min: 0.8}\n")
    gates = read_gates(read_pipeline_file(folder))
    assert gates is not None
    assert gates.for_model("train_full") is None
    small = gates.for_model("train_small")
    assert small is not None and small.metrics["evaluate_small.accuracy"].step == "evaluate_small"


def test_gates_for_an_unknown_model_name_the_field_and_the_models(folder: Path) -> None:
    set_gates(
        folder, "gates:\n  models:\n    fraud:\n      metrics: {evaluate_full.accuracy: {}}\n"
    )
    with pytest.raises(GateConfigError) as error:
        read_gates(read_pipeline_file(folder))
    assert "field 'gates.models.fraud' names no model of this pipeline" in str(error.value)
    assert f"(its models: {FULL}, {SMALL})" in str(error.value)


def test_gates_of_a_model_on_a_metric_of_the_other_model_are_refused(folder: Path) -> None:
    set_gates(
        folder,
        f"gates:\n  models:\n    {FULL}:\n      metrics: {{evaluate_small.n_features: {{}}}}\n",
    )
    with pytest.raises(GateConfigError, match="which does not depend on model"):
        read_gates(read_pipeline_file(folder))


def pipeline_of(*steps: Step) -> Pipeline:
    return Pipeline("fraud", "fraud.ipynb", "0" * 64, steps=list(steps))


def test_model_names_follow_the_rule_and_can_be_overridden() -> None:
    one = pipeline_of(Step("train", 1, "", model="clf"))
    assert model_names(one) == {"train": "fraud"}  # a single model keeps the pipeline name
    two = pipeline_of(Step("a", 1, "", model="clf"), Step("b", 2, "", model="small"))
    assert model_names(two) == {"a": "fraud-clf", "b": "fraud-small"}
    same_var = pipeline_of(Step("a", 1, "", model="clf"), Step("b", 2, "", model="clf"))
    assert model_names(same_var) == {"a": "fraud-a", "b": "fraud-b"}
    named = pipeline_of(Step("a", 1, "", model="clf", model_name="fraud_clf"))
    assert model_names(named) == {"a": "fraud_clf"}


def test_two_steps_registering_one_name_are_refused() -> None:
    steps = (
        Step("a", 1, "", model="clf", model_name="shared"),
        Step("b", 2, "", model="small", model_name="shared"),
    )
    with pytest.raises(DuplicateModelName, match="steps 'a' and 'b' would both register model"):
        model_names(pipeline_of(*steps))


def test_model_name_option_is_stored_in_pipeline_yaml_and_checked(tmp_path: Path) -> None:
    notebook = tmp_path / "two_models.ipynb"
    text = NOTEBOOK.read_text(encoding="utf-8")
    text = text.replace(
        "train_small --model small_model", "train_small --model small_model --model-name small-one"
    )
    notebook.write_text(text, encoding="utf-8")
    folder = api.extract(notebook).folder
    assert read_pipeline_file(folder).pipeline.step("train_small").model_name == "small-one"
    assert api.model_names(folder) == {"train_full": FULL, "train_small": "small-one"}
    yaml_text = (folder / "pipeline.yaml").read_text(encoding="utf-8")
    assert yaml_text.count("model_name:") == 1  # only where given: other steps stay unchanged
    (folder / "pipeline.yaml").write_text(yaml_text.replace("small-one", FULL), encoding="utf-8")
    with pytest.raises(PipelineError, match=r"field 'steps\[5\]\.model_name' steps 'train_full'"):
        read_pipeline_file(folder)


def test_a_cached_model_is_registered_again_only_under_a_new_name() -> None:
    old_entry = StepResult("train", model_version="3")  # cache entry without a model name
    assert registered_as(old_entry, "fraud", "fraud")
    assert not registered_as(old_entry, "fraud-clf", "fraud")
    named = StepResult("train", model_version="1", model_name="fraud-clf")
    assert registered_as(named, "fraud-clf", "fraud")
    assert not registered_as(StepResult("train"), "fraud", "fraud")


def test_the_regression_example_registers_one_model_per_model_step() -> None:
    regression = Path(__file__).parents[1] / "notebooks" / "regression.ipynb"
    assert api.model_names(regression) == {
        "train_ridge": "regression-ridge",
        "train_forest": "regression-forest",
    }


def test_a_notebook_run_registers_under_the_same_names() -> None:
    from jupyter_mlops.authoring.notebook_file import read_notebook
    from jupyter_mlops.jupyter.notebook_tracking import declared_model_names

    cells = read_notebook(NOTEBOOK).cells
    assert declared_model_names(cells, "two_models") == {"train_full": FULL, "train_small": SMALL}


def test_a_frame_holding_the_model_columns_among_others_gives_those_columns() -> None:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    from jupyter_mlops.registry.models import training_input

    wide = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0], "c": [3.0, 1, 2, 0]})
    model = LinearRegression().fit(wide[["c", "a"]], [0.0, 1, 2, 3])
    found = training_input(model, {"wide": wide, "labels": [0, 1, 2, 3]})
    assert found is not None and found[0] == "wide"
    assert list(found[1].columns) == ["c", "a"]
    other = wide.rename(columns={"c": "d"})  # 3 columns, and not the model's
    assert training_input(model, {"other": other}) is None


def test_a_model_fitted_on_data_its_step_transformed_gets_rows_through_the_transformer() -> None:
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from jupyter_mlops.registry.lineage import _through_a_transformer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    selector = SelectKBest(f_classif, k=4).fit(X, y)
    model = LogisticRegression(max_iter=5000).fit(selector.transform(X), y)
    scaler = StandardScaler().fit(X)  # accepts X, but its 30 outputs do not fit the model
    found = _through_a_transformer(
        model, {"scaler": scaler, "selector": selector}, {"X": X, "y": y}
    )
    assert found is not None
    name, rows = found
    assert name == "selector.transform(X)"
    assert np.array_equal(rows, selector.transform(X.iloc[:5]))
    assert _through_a_transformer(model, {"scaler": scaler}, {"X": X}) is None


def test_extract_refuses_two_steps_registering_one_name_naming_the_cell(tmp_path: Path) -> None:
    from jupyter_mlops.errors import ExtractionErrors

    notebook = tmp_path / "two_models.ipynb"
    text = NOTEBOOK.read_text(encoding="utf-8")
    text = text.replace(
        "train_small --model small_model", f"train_small --model small_model --model-name {FULL}"
    )
    notebook.write_text(text, encoding="utf-8")
    with pytest.raises(ExtractionErrors) as refused:
        api.extract(notebook)
    message = str(refused.value)
    assert f"steps 'train_full' and 'train_small' would both register model '{FULL}'" in message
    assert "cell 10" in message, message
    assert not (tmp_path / "pipelines").exists()  # nothing written
