"""The after-run chain: the same outcome whichever front end starts a run, and an honest
outcome (then a retry) when one of its links fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from quality_pipeline import write_quality_notebook

from jupyter_mlops import cli
from jupyter_mlops.errors import TrackingError
from jupyter_mlops.execute import after_run
from jupyter_mlops.jupyter.panel.state import PanelModel
from jupyter_mlops.server.run_manager import RunManager
from jupyter_mlops.tracking import recording

GATES = "gates:\n  metrics:\n    accuracy: {min: 0.5}\n"
STEPS = ["load", "split", "arrays", "train", "evaluate"]


def extracted(folder: Path) -> tuple[Path, Path]:
    """(notebook, pipeline folder) of the small classification example, with a gates section."""
    notebook = write_quality_notebook(folder)
    assert cli.main(["extract", str(notebook)]) == 0
    pipeline = folder / "pipelines" / "quality"
    with (pipeline / "pipeline.yaml").open("a") as yaml_file:
        yaml_file.write(GATES)
    return notebook, pipeline


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """``jupyter mlops run … --json`` in this process: (exit code, the JSON summary)."""
    capsys.readouterr()
    code = cli.main(["run", *args, "--engine", "inprocess", "--json"])
    return code, json.loads(capsys.readouterr().out)


def outcome(pipeline: Path, tracking_uri: str) -> dict[str, Any]:
    """What a run left behind, comparable across front ends."""
    client = client_for(tracking_uri)
    experiment = client.get_experiment_by_name("quality")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    versions = client.search_model_versions("name='quality'")
    return {
        "schemas": sorted(p.name for p in (pipeline / "schemas").iterdir()),
        "schema_texts": {p.name: p.read_text() for p in (pipeline / "schemas").glob("*.yaml")},
        "fixtures": sorted(
            json.loads((pipeline / "tests/fixtures/manifest.json").read_text())["fixtures"]
        ),
        "parents": [(r.info.status, r.data.tags["mlops.status"]) for r in parents],
        "step_runs": sorted(r.data.tags["mlops.step"] for r in runs if r not in parents),
        "versions": [(str(v.version), v.tags.get("mlops.gate")) for v in versions],
        "challenger": str(client.get_model_version_by_alias("quality", "challenger").version),
        "metrics": parents[0].data.metrics["accuracy"],
    }


def run_from(front_end: str, folder: Path, store: str, start_rest: Any = None) -> Path:
    """Extract the example into ``folder`` and run it from ``front_end`` (cli, rest, widgets)
    with MLflow store ``store``; the pipeline folder."""
    notebook, pipeline = extracted(folder)
    if front_end == "cli":
        assert cli.main(["run", str(pipeline), "--engine", "inprocess"]) == 0
    elif front_end == "rest":
        assert start_rest is not None
        done = start_rest(notebook)
        assert done["status"] == "succeeded", done
    else:
        model = PanelModel(notebook)
        result = model.run({"n": "500", "C": "1.0"}, engine="inprocess")
        assert result is not None and result.status == "succeeded", model.message
    return pipeline


def run_manager_start(notebook: Path) -> dict[str, Any]:
    """What ``POST /jupyter-mlops/run`` starts, without tornado (test_server.py goes through
    real HTTP)."""
    folder = notebook.parent / "pipelines" / "quality"
    manager = RunManager()
    try:
        started = manager.start(
            notebook, folder=folder, pipeline="quality", steps=STEPS, engine="inprocess"
        )
        return manager.wait(started.id, timeout=300).snapshot()
    finally:
        manager.shutdown()


def same_outcomes(
    tmp_path: Path, template: str, monkeypatch: pytest.MonkeyPatch, start_rest: Any
) -> dict[str, dict[str, Any]]:
    """Each front end's outcome, each with a fresh copy of the MLflow store."""
    outcomes = {}
    for front_end in ("cli", "rest", "widgets"):
        folder = tmp_path / front_end
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(template.removeprefix("sqlite:///"), folder / "mlflow.db")
        store = f"sqlite:///{folder / 'mlflow.db'}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
        pipeline = run_from(front_end, folder, store, start_rest)
        outcomes[front_end] = outcome(pipeline, store)
    assert outcomes["cli"]["versions"] == [("1", "validated")]
    assert outcomes["cli"]["parents"] == [("FINISHED", "succeeded")]
    assert sorted(outcomes["cli"]["step_runs"]) == sorted(STEPS)
    assert outcomes["cli"]["fixtures"]
    return outcomes


def test_cli_rest_and_widgets_runs_leave_the_same_records(
    tmp_path: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = same_outcomes(tmp_path, tracking_uri, monkeypatch, run_manager_start)
    assert outcomes["rest"] == outcomes["cli"]
    assert outcomes["widgets"] == outcomes["cli"]


def test_a_failing_link_fails_the_run_and_the_next_run_retries_it(
    tmp_path: Path,
    tracking_uri: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registration is made to fail by injecting an error (as an unreachable registry would)."""
    _, pipeline = extracted(tmp_path)

    def unreachable(*args: Any, **kwargs: Any) -> str:
        raise TrackingError("cannot register the model: the registry is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(recording, "register_model", unreachable)
        code, summary = run_json(capsys, str(pipeline), "--tracking-uri", tracking_uri)
    assert code == 1
    assert summary["status"] == "failed"
    assert summary["model_version"] is None
    assert summary["failed_links"] == {"register": summary["failed_links"]["register"]}
    assert "registry is unreachable" in summary["error"]
    assert {s["status"] for s in summary["steps"].values()} == {"ran"}
    client = client_for(tracking_uri)
    parent = client.get_run(summary["run_id"])
    assert parent.info.status == "FAILED"
    assert parent.data.tags["mlops.status"] == "failed"

    code, again = run_json(capsys, str(pipeline), "--tracking-uri", tracking_uri)
    assert code == 0, again
    assert {s["status"] for s in again["steps"].values()} == {"cached"}
    assert again["status"] == "succeeded" and again["failed_links"] == {}
    assert again["model_version"] == "1"
    assert again["gates"]["outcome"] == "validated"
    assert str(client.get_model_version_by_alias("quality", "challenger").version) == "1"

    code, third = run_json(capsys, str(pipeline), "--tracking-uri", tracking_uri)
    assert code == 0 and third["model_version"] is None  # nothing left to do: nothing new
    assert len(client.search_model_versions("name='quality'")) == 1


def test_without_tracking_gates_check_thresholds_and_say_the_champion_needs_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, pipeline = extracted(tmp_path)
    (pipeline / "pipeline.yaml").write_text(
        (pipeline / "pipeline.yaml").read_text().replace("min: 0.5", "min: 0.999")
    )
    capsys.readouterr()
    code = cli.main(["run", str(pipeline), "--engine", "inprocess", "--no-track", "--json"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert code == 0  # a rejection is reported; --fail-on-rejected makes it exit 1
    assert summary["gates"]["outcome"] == "rejected"
    assert "accuracy" in summary["gates"]["reasons"][0]
    assert "comparing with the champion needs the registry" in captured.err


def test_links_run_in_order_and_a_new_link_can_be_added_after_one() -> None:
    assert after_run.link_names()[:5] == ["schemas", "record", "register", "gates", "fixtures"]
    seen: list[str] = []
    after_run.add_link("probe", lambda context: seen.append("probe"), after="gates")
    try:
        assert after_run.link_names().index("probe") == after_run.link_names().index("gates") + 1
        with pytest.raises(ValueError, match="exists already"):
            after_run.add_link("probe", lambda context: None)
    finally:
        after_run._LINKS[:] = [link for link in after_run._LINKS if link.name != "probe"]
