"""Triggers parsed from a pipeline model with no files, and monitoring windows written into a
real MLflow store the way ``jupyter mlops monitor`` records them (the issue 13 contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jupyter_mlops.pipeline.model import Pipeline, Step
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.triggers.config import Trigger, read_triggers
from jupyter_mlops.triggers.evaluate import Context
from jupyter_mlops.triggers.state import TriggerState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def pipeline_file(folder: Path, triggers: Any, deploy: Any = None) -> PipelineFile:
    """A pipeline ``demo`` (parameters data_path, C; one --model step) with ``triggers``."""
    steps = [Step("train", 1, "", outputs=["model"], model="model", params=["C", "data_path"])]
    pipeline = Pipeline(
        "demo",
        str(folder / "demo.ipynb"),
        "f" * 64,
        steps=steps,
        params={"C": 1.0, "data_path": ""},
    )
    settings: dict[str, Any] = {"triggers": triggers}
    if deploy is not None:
        settings["deploy"] = deploy
    return PipelineFile(folder, "demo", "0", pipeline, settings=settings)


def trigger(folder: Path, **settings: Any) -> Trigger:
    """The one trigger ``t`` with ``settings``."""
    return read_triggers(pipeline_file(folder, {"t": settings}))["t"]


def context(uri: str = "sqlite:///unused.db", now: datetime = NOW) -> Context:
    return Context(now, lambda: uri, lambda name: "demo")


def state(**fields: Any) -> TriggerState:
    return TriggerState(**fields)


def write_windows(
    uri: str, model: str, windows: list[dict[str, float]], first_hour: int = 0
) -> list[str]:
    """One run per window of ``model``'s monitoring experiment: hourly windows, the first
    starting ``first_hour`` hours after NOW; returns the window starts (ISO UTC)."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = f"{model}-monitoring"
    found = client.get_experiment_by_name(name)
    experiment = found.experiment_id if found else client.create_experiment(name)
    starts = []
    for index, metrics in enumerate(windows):
        start = NOW + timedelta(hours=first_hour + index)
        end = start + timedelta(hours=1)
        tags = {
            "mlops.monitor.window_start": start.isoformat(),
            "mlops.monitor.window_end": end.isoformat(),
            "mlops.monitor.source": "test",
            "mlops.monitor.model": model,
        }
        run = client.create_run(experiment, tags=tags, run_name=f"window {start.isoformat()}")
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)
        starts.append(start.isoformat())
    return starts
