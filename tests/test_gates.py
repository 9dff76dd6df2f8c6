"""Model gates: the ``gates:`` section, the decision, and real gated runs (MLflow SQLite,
``inprocess`` engine) where the champion is re-scored on the run's evaluation data."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import assert_no_global_store, client_for
from nbfactory import write_notebook

from jupyter_mlops import cli
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import GateConfigError
from jupyter_mlops.execute.run_result import RunResult
from jupyter_mlops.execute.runner import RunOptions, run_pipeline
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.pipeline.model import Pipeline, Step
from jupyter_mlops.pipeline.pipeline_file import PipelineFile, read_pipeline_file
from jupyter_mlops.quality.gates.champion import chain
from jupyter_mlops.quality.gates.config import GateConfig, MetricGate, SliceGate, read_gates
from jupyter_mlops.quality.gates.decision import decide
from jupyter_mlops.quality.gates.rescoring import slice_column, take_rows
from jupyter_mlops.registry.promotion import promote

# A classifier whose label rule differs per `group` (a feature), so a model trained on
# group 0 alone is fine there and poor on group 1: a slice regression.
SETUP = """import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

RANDOM_SEED = 0


def scores(model, X, y):
    labels = model.predict(X)
    return {"accuracy": float(accuracy_score(y, labels)), "f1": float(f1_score(y, labels))}
"""
PARAMS = 'n_estimators = 30\nmax_depth = 6\ntrain_groups = [0, 1]\ndrop_feature = ""\n'
LOAD = """%%mlstep load_data
rng = np.random.default_rng(RANDOM_SEED)
df = pd.DataFrame(rng.normal(size=(600, 4)), columns=["f0", "f1", "f2", "f3"])
df["group"] = rng.integers(0, 2, size=600)
sign = np.where(df["group"] == 0, 1.0, -1.0)
df["label"] = ((df["f0"] + sign * df["f1"] + 0.3 * df["f2"]) > 0).astype(int)
"""
SPLIT = """%%mlstep split
X = df.drop(columns=["label", *([drop_feature] if drop_feature else [])])
y = df["label"]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.4, random_state=RANDOM_SEED
)
"""
TRAIN = """%%mlstep train --model model
rows = X_train["group"].isin(train_groups)
model = RandomForestClassifier(
    n_estimators=n_estimators, max_depth=max_depth, random_state=RANDOM_SEED
)
model.fit(X_train[rows], y_train[rows])
"""
EVALUATE = "%%mlstep evaluate --metrics metrics\nmetrics = scores(model, X_test, y_test)\n"
CELLS: list[str | tuple[str, list[str]]] = [
    SETUP,
    (PARAMS, ["parameters"]),
    LOAD,
    SPLIT,
    TRAIN,
    EVALUATE,
]
WORSE = {"n_estimators": 1, "max_depth": 1}


def extract(root: Path, cells: list[str | tuple[str, list[str]]] = CELLS) -> Path:
    notebook = write_notebook(root / "gated.ipynb", cells)
    folder = root / "pipelines" / "gated"
    write_package(scan_notebook(notebook), folder)
    return folder


def set_gates(folder: Path, section: str) -> None:
    """Append a ``gates:`` section (YAML text) to pipeline.yaml, as a user would."""
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("\n" + section.strip() + "\n")


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extracted pipeline after one untracked run: load_data and split are cached."""
    root = tmp_path_factory.mktemp("gated")
    folder = extract(root)
    assert run_pipeline(folder, RunOptions(engine="inprocess", track=False)).status == "succeeded"
    return root


@pytest.fixture
def pipeline(prepared: Path, tmp_path: Path) -> Path:
    """A private copy of the prepared pipeline folder."""
    shutil.copytree(prepared, tmp_path / "project")
    return tmp_path / "project" / "pipelines" / "gated"


def gated_run(folder: Path, uri: str, **params: Any) -> RunResult:
    """A tracked in-process run re-training the model (train and evaluate always run)."""
    options = RunOptions(engine="inprocess", tracking_uri=uri, params=params, from_step="train")
    result = run_pipeline(folder, options)
    assert result.status == "succeeded", result.error
    return result


# --- the gates: section ---------------------------------------------------------------------


def pipeline_file(gates: Any, tmp_path: Path, metrics_steps: int = 1) -> PipelineFile:
    """A pipeline model (train → evaluate…) with ``gates`` as its settings; no files."""
    steps = [
        Step("split", 1, "", outputs=["X", "y"]),
        Step("train", 2, "", inputs={"X": "split", "y": "split"}, model="model"),
        Step("evaluate", 3, "", inputs={"model": "train", "X": "split"}, metrics="metrics"),
        Step("baseline", 4, "", inputs={"y": "split"}, metrics="base_metrics"),
    ]
    pipeline = Pipeline("demo", str(tmp_path / "demo.ipynb"), "f" * 64, steps=steps)
    if metrics_steps == 1:
        pipeline.steps.pop()
    return PipelineFile(tmp_path, "demo", "0", pipeline, settings={"gates": gates})


def test_a_gates_section_is_read_with_defaults(tmp_path: Path) -> None:
    gates = {
        "metrics": {
            "accuracy": {"min": 0.8, "min_relative_improvement": 0.01},
            "log_loss": {"max": 0.5, "greater_is_better": False},
            "f1": None,
        },
        "slices": {"column": "group", "tolerance": 0.02},
        "promote": "champion",
    }
    config = read_gates(pipeline_file(gates, tmp_path))
    assert config is not None
    assert config.metrics["accuracy"] == MetricGate(
        "accuracy", "evaluate", "accuracy", min=0.8, min_relative_improvement=0.01,
        models=("train",),
    )  # fmt: skip
    assert config.metrics["log_loss"].greater_is_better is False
    assert config.metrics["f1"].min is None and config.metrics["f1"].min_improvement is None
    assert config.slices == SliceGate("group", 0.02, ("accuracy", "log_loss", "f1"))
    assert config.promote == "champion"
    assert read_gates(pipeline_file(None, tmp_path)) is None
    assert read_gates(pipeline_file({}, tmp_path)) is None


def test_with_several_metrics_steps_keys_name_the_metrics_variable(tmp_path: Path) -> None:
    config = read_gates(pipeline_file({"metrics": {"metrics.auc": {"min": 0.5}}}, tmp_path, 2))
    assert config is not None
    assert (config.metrics["metrics.auc"].step, config.metrics["metrics.auc"].name) == (
        "evaluate",
        "auc",
    )
    with pytest.raises(GateConfigError, match=r"'gates.metrics.auc' must name its --metrics"):
        read_gates(pipeline_file({"metrics": {"auc": {}}}, tmp_path, 2))
    # The baseline metrics depend on no --model step: nothing to gate.
    with pytest.raises(GateConfigError, match="step 'baseline', which depends on no --model"):
        read_gates(pipeline_file({"metrics": {"base_metrics.n": {}}}, tmp_path, 2))


@pytest.mark.parametrize(
    "gates, field, problem",
    [
        ({"accuracy": {"min": 0.9}}, "gates.accuracy", "gates on metrics go under gates.metrics"),
        ("strict", "gates", "must be a mapping"),
        ({"metrics": {}}, "gates.metrics", "at least one metric"),
        ({"metrics": ["accuracy"]}, "gates.metrics", "at least one metric"),
        ({"metrics": {"accuracy": {"min": "high"}}}, "gates.metrics.accuracy.min", "number"),
        ({"metrics": {"accuracy": {"max": True}}}, "gates.metrics.accuracy.max", "number"),
        ({"metrics": {"accuracy": {"minimum": 1}}}, "gates.metrics.accuracy.minimum", "unknown"),
        ({"metrics": {"accuracy": {"min": 2, "max": 1}}}, "gates.metrics.accuracy.min", "max"),
        (
            {"metrics": {"accuracy": {"greater_is_better": "yes"}}},
            "gates.metrics.accuracy.greater_is_better",
            "true or false",
        ),
        (
            {"metrics": {"accuracy": {"min_improvement": "0.1"}}},
            "gates.metrics.accuracy.min_improvement",
            "number",
        ),
        ({"metrics": {"accuracy": 0.9}}, "gates.metrics.accuracy", "must be a mapping"),
        ({"metrics": {"accuracy": {}}, "slices": {"tolerance": 0.1}}, "gates.slices.column", ""),
        (
            {"metrics": {"accuracy": {}}, "slices": {"column": "g", "tolerance": -1}},
            "gates.slices.tolerance",
            "≥ 0",
        ),
        (
            {
                "metrics": {"accuracy": {}},
                "slices": {"column": "g", "tolerance": 0, "metrics": ["f1"]},
            },
            "gates.slices.metrics",
            "'f1', which is not in gates.metrics",
        ),
        ({"metrics": {"accuracy": {}}, "promote": "challenger"}, "gates.promote", "cannot be"),
        ({"metrics": {"accuracy": {}}, "promote": "to prod"}, "gates.promote", "alias name"),
        ({"metrics": {"accuracy": {}}, "deploy": True}, "gates.deploy", "unknown"),
    ],
)
def test_a_malformed_gates_section_names_the_field(
    gates: Any, field: str, problem: str, tmp_path: Path
) -> None:
    with pytest.raises(GateConfigError) as raised:
        read_gates(pipeline_file(gates, tmp_path))
    message = str(raised.value)
    assert f"field '{field}'" in message and problem in message
    assert message.startswith(str(tmp_path / "pipeline.yaml") + ": ")
    assert "\n" not in message and raised.value.exit_code == 2


def test_no_gates_without_a_metrics_step(tmp_path: Path) -> None:
    file = pipeline_file({"metrics": {"accuracy": {}}}, tmp_path)
    file.pipeline.steps[2].metrics = None
    with pytest.raises(GateConfigError, match="'gates' needs a step with --metrics"):
        read_gates(file)


# --- the decision -----------------------------------------------------------------------------


def config(**gates: MetricGate) -> GateConfig:
    return GateConfig(dict(gates))


def gate(key: str, **options: Any) -> MetricGate:
    return MetricGate(key, "evaluate", key, models=("train",), **options)


def test_without_a_champion_thresholds_alone_decide() -> None:
    gates = config(accuracy=gate("accuracy", min=0.9, min_improvement=0.05))
    assert decide(gates, "1", {"evaluate": {"accuracy": 0.91}}, None).outcome == "validated"
    rejected = decide(gates, "1", {"evaluate": {"accuracy": 0.85}}, None)
    assert rejected.outcome == "rejected"
    assert rejected.reasons == ["accuracy 0.85 is below min 0.9"]
    assert rejected.champion is None
    missing = decide(gates, "1", {"evaluate": {"f1": 0.85}}, None)
    assert missing.reasons == ["accuracy: step 'evaluate' produced no metric 'accuracy'"]


def test_against_a_champion_the_default_is_never_worse() -> None:
    gates = config(accuracy=gate("accuracy"))
    champion = {"version": "3", "metrics": {"evaluate": {"accuracy": 0.9}}}
    same = decide(gates, "4", {"evaluate": {"accuracy": 0.9}}, champion)
    assert same.validated and same.champion == {"version": "3", "metrics": {"accuracy": 0.9}}
    worse = decide(gates, "4", {"evaluate": {"accuracy": 0.88}}, champion)
    assert worse.reasons == ["accuracy 0.88 is worse than champion version 3 (0.9) by 0.02"]
    assert worse.to_json()["metrics"] == {"accuracy": {"value": 0.88, "champion": 0.9}}


def test_lower_is_better_and_relative_improvement() -> None:
    gates = config(
        rmse=gate("rmse", max=10.0, greater_is_better=False, min_relative_improvement=0.05),
        mae=gate("mae", greater_is_better=False, min_improvement=-0.5),
    )
    champion = {"version": "1", "metrics": {"evaluate": {"rmse": 8.0, "mae": 5.0}}}
    better = decide(gates, "2", {"evaluate": {"rmse": 7.5, "mae": 5.4}}, champion)
    assert better.validated, better.reasons
    slightly = decide(gates, "2", {"evaluate": {"rmse": 7.8, "mae": 5.6}}, champion)
    assert slightly.reasons == [
        "rmse 7.8 improves on champion version 1 (8) by only 2.50% "
        "(min_relative_improvement 5.00%)",
        "mae 5.6 is worse than champion version 1 (5) by 0.6 (min_improvement -0.5)",
    ]
    relative = config(auc=gate("auc", min_relative_improvement=-0.01))
    champion = {"version": "1", "metrics": {"evaluate": {"auc": 0.9}}}
    assert decide(relative, "2", {"evaluate": {"auc": 0.8}}, champion).reasons == [
        "auc 0.8 is worse than champion version 1 (0.9) by 11.11% (min_relative_improvement -1.00%)"
    ]
    too_high = decide(gates, "2", {"evaluate": {"rmse": 12.0, "mae": 5.0}}, None)
    assert too_high.reasons == ["rmse 12 is above max 10"]


def test_a_slice_that_regresses_beyond_the_tolerance_rejects() -> None:
    gates = GateConfig(
        {"accuracy": gate("accuracy", min_improvement=-1.0)},
        SliceGate("group", 0.05, ("accuracy",)),
    )
    slices = {
        "a": {"new": {"evaluate": {"accuracy": 0.93}}, "champion": {"evaluate": {"accuracy": 0.9}}},
        "b": {"new": {"evaluate": {"accuracy": 0.7}}, "champion": {"evaluate": {"accuracy": 0.8}}},
    }
    champion = {"version": "1", "metrics": {"evaluate": {"accuracy": 0.85}}, "slices": slices}
    outcome = decide(gates, "2", {"evaluate": {"accuracy": 0.82}}, champion)
    assert outcome.reasons == [
        "accuracy in slice group=b regressed by 0.1 versus champion version 1 (0.8 → 0.7), "
        "more than tolerance 0.05"
    ]
    assert outcome.slices is not None
    assert outcome.slices["values"]["a"] == {"accuracy": {"value": 0.93, "champion": 0.9}}


def test_an_error_re_scoring_the_champion_rejects() -> None:
    gates = config(accuracy=gate("accuracy"))
    champion: dict[str, Any] = {"version": "1", "metrics": {}, "slices": {}}
    error = "cannot re-score the champion on this run's evaluation data: ValueError: boom"
    outcome = decide(gates, "2", {"evaluate": {"accuracy": 0.9}}, champion, [error])
    assert outcome.outcome == "rejected" and outcome.reasons == [error]


def test_chain_and_slice_helpers(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    file = pipeline_file({"metrics": {"metrics.auc": {}}}, tmp_path, 2)
    file.pipeline.steps.insert(
        2, Step("predict", 3, "", inputs={"model": "train", "X": "split"}, outputs=["p"])
    )
    file.pipeline.steps[3].inputs = {"p": "predict", "X": "split"}
    assert chain(file, "train", ["evaluate"]) == ["predict", "evaluate"]

    frame = pd.DataFrame({"group": ["a", "b", "a"], "x": [1, 2, 3]})
    inputs = {("evaluate", "X"): frame, ("evaluate", "model"): object()}
    column = slice_column(inputs, "group")
    assert column is not None and list(column) == ["a", "b", "a"]
    assert slice_column({("e", "y"): pd.Series([1], name="group")}, "group") is not None
    assert slice_column(inputs, "region") is None
    mask = (column == "a").to_numpy()
    assert list(take_rows(frame, mask)["x"]) == [1, 3]
    assert list(take_rows(np.array([5, 6, 7]), mask)) == [5, 7]
    assert take_rows([5, 6, 7], mask) == [5, 6, 7]  # lists are left alone
    assert take_rows(np.array([1, 2]), mask).tolist() == [1, 2]  # other lengths too


# --- gated runs -------------------------------------------------------------------------------


def test_a_good_model_becomes_champion_and_a_worse_one_is_rejected(
    pipeline: Path, tracking_uri: str, tmp_path: Path
) -> None:
    set_gates(pipeline, "gates:\n  metrics:\n    accuracy: {min: 0.7}\n    f1: {}\n")
    good = gated_run(pipeline, tracking_uri)
    assert good.model_version == "1"
    assert good.gates is not None
    assert good.to_json()["gates"] == {
        "model": "gated",
        "outcome": "validated",
        "version": "1",
        "reasons": [],
        "metrics": {
            "accuracy": {"value": good.metrics["accuracy"], "champion": None},
            "f1": {"value": good.metrics["f1"], "champion": None},
        },
        "champion": None,
        "slices": None,
        "aliases": ["challenger"],
    }
    client = client_for(tracking_uri)
    assert client.get_registered_model("gated").aliases == {"challenger": 1}
    promotion = promote(tracking_uri, "gated")  # default: the challenger
    assert (promotion.version, promotion.previous, promotion.gate) == ("1", None, "validated")

    worse = gated_run(pipeline, tracking_uri, **WORSE)
    assert worse.model_version == "2" and worse.gates is not None
    assert worse.gates.outcome == "rejected"
    # The champion was re-scored on this run's holdout: the same data as run 1, same numbers.
    assert worse.gates.champion == {"version": "1", "metrics": good.metrics}
    assert any(
        reason.startswith(f"accuracy {worse.metrics['accuracy']:.4g} is worse than champion")
        for reason in worse.gates.reasons
    ), worse.gates.reasons
    assert client.get_registered_model("gated").aliases == {"challenger": 1, "champion": 1}

    version = client.get_model_version("gated", "2")
    assert version.tags["mlops.gate"] == "rejected"
    assert version.tags["mlops.gate.reasons"] == "; ".join(worse.gates.reasons)
    assert version.tags["mlops.gate.champion"] == "1"
    assert client.get_model_version("gated", "1").tags["mlops.gate"] == "validated"
    parent = client.get_run(str(worse.run_id))
    assert parent.data.tags["mlops.gate"] == "rejected"
    assert "accuracy" in parent.data.tags["mlops.gate.reasons"]
    assert parent.data.metrics["champion.accuracy"] == good.metrics["accuracy"]
    assert_no_global_store(tmp_path)


def test_a_champion_whose_files_changed_since_registration_is_not_loaded(
    pipeline: Path, tracking_uri: str
) -> None:
    """Re-scoring loads the champion (pickle: code) only when its files match the seal its
    registration wrote; a changed file rejects the new version, naming why."""
    from urllib.parse import urlparse

    set_gates(pipeline, "gates:\n  metrics:\n    accuracy: {min: 0.7}\n")
    assert gated_run(pipeline, tracking_uri).model_version == "1"
    promote(tracking_uri, "gated")
    client = client_for(tracking_uri)
    assert client.get_model_version("gated", "1").tags["mlops.model_seal"]
    location = urlparse(client.get_model_version_download_uri("gated", "1"))
    [pickled] = [p for p in Path(location.path).rglob("*") if p.suffix in (".pkl", ".skops")]
    pickled.write_bytes(pickled.read_bytes() + b"\n")

    second = gated_run(pipeline, tracking_uri, **WORSE)  # another model: not a reused version
    assert second.gates is not None and second.gates.outcome == "rejected"
    [reason] = [r for r in second.gates.reasons if "re-score the champion" in r]
    assert "UntrustedArtifactError" in reason and "no valid seal" in reason, reason
    assert client.get_registered_model("gated").aliases["champion"] == 1


def test_a_slice_regression_rejects_and_auto_promotion(
    pipeline: Path, tracking_uri: str, tmp_path: Path
) -> None:
    set_gates(
        pipeline,
        """
gates:
  metrics:
    accuracy: {min_improvement: -0.3}
  slices: {column: group, tolerance: 0.05}
  promote: champion
""",
    )
    first = gated_run(pipeline, tracking_uri)
    assert first.gates is not None and first.gates.aliases == ["challenger", "champion"]
    client = client_for(tracking_uri)
    assert client.get_registered_model("gated").aliases == {"challenger": 1, "champion": 1}

    # Trained on group 0 only: overall within -0.3 of the champion, group 1 far worse.
    narrow = gated_run(pipeline, tracking_uri, train_groups=[0])
    assert narrow.gates is not None and narrow.gates.outcome == "rejected"
    assert len(narrow.gates.reasons) == 1, narrow.gates.reasons
    assert narrow.gates.reasons[0].startswith("accuracy in slice group=1 regressed by")
    assert narrow.gates.slices is not None
    assert set(narrow.gates.slices["values"]) == {"0", "1"}
    assert client.get_registered_model("gated").aliases == {"challenger": 1, "champion": 1}

    # A dropped feature: the champion cannot be scored on the new evaluation data.
    shutil.rmtree(pipeline / "schemas", ignore_errors=True)  # data validation would stop it
    options = RunOptions(
        engine="inprocess", tracking_uri=tracking_uri, params={"drop_feature": "f3"}
    )
    dropped = run_pipeline(pipeline, options)
    assert dropped.gates is not None and dropped.gates.outcome == "rejected"
    assert dropped.gates.reasons[0].startswith(
        "cannot re-score the champion on this run's evaluation data: ValueError"
    ), dropped.gates.reasons
    assert client.get_registered_model("gated").aliases == {"challenger": 1, "champion": 1}
    assert_no_global_store(tmp_path)


def test_cli_without_a_champion_thresholds_alone_decide(
    pipeline: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    set_gates(pipeline, "gates:\n  metrics:\n    accuracy: {min: 0.99}\n")
    args = ["run", str(pipeline), "--engine", "inprocess", "--tracking-uri", tracking_uri]
    code = cli.main([*args, "--from", "train", "--json", "--fail-on-rejected"])
    out, err = capsys.readouterr()
    assert code == 1
    gates = json.loads(out)["gates"]
    assert gates["outcome"] == "rejected" and gates["champion"] is None
    assert len(gates["reasons"]) == 1 and gates["reasons"][0].startswith("accuracy ")
    assert gates["reasons"][0].endswith(" is below min 0.99")
    assert "gates: model version 1 rejected (no champion yet: thresholds only) (1 reason):" in err
    assert client_for(tracking_uri).get_registered_model("gated").aliases == {}


def test_cli_a_malformed_gates_section_stops_before_anything_runs(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = extract(tmp_path)
    set_gates(folder, "gates:\n  metrics:\n    accuracy: {min: high}\n")
    code = cli.main(["run", str(folder), "--engine", "inprocess", "--tracking-uri", tracking_uri])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        f"error: {folder / 'pipeline.yaml'}: field 'gates.metrics.accuracy.min' "
        "must be a number, not 'high'\n"
    )
    assert not (folder / ".mlops").exists()  # no step ran
    assert not Path(tracking_uri.removeprefix("sqlite:///")).with_name("mlartifacts").exists()
    assert read_pipeline_file(folder).settings["gates"]  # the section is kept as written


# A model step, then a predict step, then the --metrics step: the chain is re-run; the
# metric is lower-is-better with a relative improvement.
CHAIN_CELLS: list[str | tuple[str, list[str]]] = [
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n",
    ("flip = 0.0\n", ["parameters"]),
    "%%mlstep data\nrng = np.random.default_rng(1)\nX = rng.normal(size=(300, 3))\n"
    "y = (X[:, 0] - X[:, 1] > 0).astype(int)\nX_fit, X_eval, y_fit, y_eval = "
    "X[:200], X[200:], y[:200], y[200:]\n",
    "%%mlstep fit --model clf\nnoisy = y_fit.copy()\nnoisy[: int(flip * len(noisy))] ^= 1\n"
    "clf = LogisticRegression().fit(X_fit, noisy)\n",
    "%%mlstep predict\npredicted = clf.predict(X_eval)\n",
    "%%mlstep score --metrics errors\nerrors = {'error_rate': float(np.mean(predicted != y_eval))}\n",
]


def test_the_chain_between_model_and_metrics_is_re_run_for_the_champion(
    tmp_path: Path, tracking_uri: str
) -> None:
    folder = extract(tmp_path, CHAIN_CELLS)
    set_gates(
        folder,
        "gates:\n  metrics:\n    error_rate:\n      greater_is_better: false\n"
        "      min_relative_improvement: 0.0\n  promote: champion\n",
    )
    options = RunOptions(engine="inprocess", tracking_uri=tracking_uri)
    good = run_pipeline(folder, options)
    assert good.gates is not None and good.gates.validated
    worse = run_pipeline(folder, dataclasses.replace(options, params={"flip": 0.45}))
    assert worse.gates is not None and worse.gates.outcome == "rejected"
    assert worse.gates.champion == {"version": "1", "metrics": good.metrics}
    assert worse.gates.reasons[0].startswith(f"error_rate {worse.metrics['error_rate']:.4g} ")
    assert worse.gates.reasons[0].endswith(" (min_relative_improvement 0.00%)")
