"""Progressive rollouts as a user runs them: ``jupyter mlops deploy`` (or ``api.deploy``)
against a real ``jupyter mlops serve`` process on 127.0.0.1 following a real MLflow store,
with client traffic running. Versions of model ``flowers``: 1 a depth-2 tree (production),
2 a depth-4 tree, 3 raises on 1-row requests, 4 answers 0.15 s late, 5 predicts constants."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from service_process import Service, http, new_store, register

from jupyter_mlops import api
from jupyter_mlops.deploy.rollout.result import RolloutEvent
from jupyter_mlops.registry.traffic import clear_traffic, traffic_key

pytest_plugins = ("mlflow_fixtures",)

NAME = "flowers"
STRIDE = 37  # walks the 150 iris rows (sorted by class) so any stretch mixes the classes


@pytest.fixture(scope="module")
def iris() -> Any:
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    return data.frame.drop(columns="target"), data.target


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory, iris: Any) -> str:
    from broken_models import Constant, Raising, Slow
    from sklearn.tree import DecisionTreeClassifier

    frame, target = iris
    uri = new_store(mlflow_db_template, tmp_path_factory.mktemp("rollout-store"))
    models = [
        DecisionTreeClassifier(max_depth=2, random_state=0),
        DecisionTreeClassifier(max_depth=4, random_state=0),
        Raising(),
        Slow(),
        Constant(),
    ]
    for index, model in enumerate(models):
        register(uri, NAME, model.fit(frame, target), frame, "production" if index == 0 else None)
    return uri


@pytest.fixture(scope="module")
def service(store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    cwd = tmp_path_factory.mktemp("serve-cwd")
    with Service(store, NAME, "--poll-interval", "0.2s", "--no-log", cwd=cwd) as running:
        yield running


@pytest.fixture(scope="module")
def pipeline(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An extracted pipeline whose one model is ``flowers``, with three deploy targets."""
    from nbfactory import write_notebook

    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    folder = tmp_path_factory.mktemp("project")
    notebook = write_notebook(folder / f"{NAME}.ipynb", ["%%mlstep train --model model\nmodel = 1"])
    out = folder / "pipe"
    write_package(scan_notebook(notebook), out)
    checks = "max_error_rate: 0.01, max_prediction_drift: 0.5, min_requests: 5"
    deploy = f"""
deploy:
  prod:
    url: {service.url}
    steps: [20, 50]
    interval: 1.5s
    analysis: {{{checks}}}
  strict:
    url: {service.url}
    steps: [50]
    interval: 1.5s
    analysis: {{{checks}, max_p99_ms: 100}}
  experiment:
    url: {service.url}
    strategy: ab
    steps: [50]
    duration: 2s
    sticky: x-client-id
    analysis: {{min_requests: 5}}
  scored:
    url: {service.url}
    strategy: ab
    duration: 2s
    log_dir: {folder / "serve-log"}
    analysis: {{min_requests: 5}}
"""
    (out / "pipeline.yaml").write_text((out / "pipeline.yaml").read_text() + deploy)
    return out


@pytest.fixture()
def stable_on_1(store: str, service: Service) -> None:
    """Each test starts with alias production on version 1, no split, the service following."""
    client = client_for(store)
    client.set_registered_model_alias(NAME, "production", "1")
    clear_traffic(client, NAME, "production")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = service.get("/version").json()
        if info["alias_version"] == "1" and [v["version"] for v in info["versions"]] == ["1"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"the service did not go back to version 1: {info}")


@dataclass
class Answer:
    status: int
    version: str | None
    key: str | None
    phase: str | None  # the rollout phase running from sending to answering, if one did


@dataclass
class Traffic:
    """Clients posting 1-row requests until stopped; each answer noted with the phase it
    was sent and answered in (set by the rollout's progress events)."""

    url: str
    rows: list[dict[str, float]]
    keys: tuple[str, ...] = ()
    clients: int = 2
    answers: list[Answer] = field(default_factory=list)
    phase: str | None = None
    events: list[RolloutEvent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def progress(self, event: RolloutEvent) -> None:
        self.events.append(event)
        if event.kind == "phase":
            self.phase = event.message
        elif event.kind == "window":
            self.phase = None

    def __enter__(self) -> Traffic:
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _client(self, number: int) -> None:
        index = number
        while not self._stop.is_set():
            row = self.rows[(index * STRIDE) % len(self.rows)]
            key = self.keys[index % len(self.keys)] if self.keys else None
            headers = {"x-client-id": key} if key else {}
            sent_in = self.phase
            reply = http(
                self.url + "/invocations",
                json.dumps({"dataframe_records": [row]}).encode(),
                headers=headers,
            )
            phase = sent_in if sent_in is not None and self.phase == sent_in else None
            self.answers.append(
                Answer(reply.status, reply.headers.get("x-model-version"), key, phase)
            )
            index += self.clients
            time.sleep(0.005)

    def in_phases(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.phase is not None]


@pytest.fixture()
def rows(iris: Any) -> list[dict[str, float]]:
    return iris[0].to_dict(orient="records")


def alias_and_split(store: str) -> tuple[str, bool]:
    model = client_for(store).get_registered_model(NAME)
    return str(model.aliases["production"]), traffic_key("production") in model.tags


def last_move(store: str) -> dict[str, Any]:
    from jupyter_mlops.registry.alias_history import alias_history

    return alias_history(client_for(store), NAME, "production")[-1].to_json()


def deploy_cli(pipeline: Path, store: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jupyter_mlops.cli", "deploy", str(pipeline), *args]
    return subprocess.run(
        [*command, "--tracking-uri", store], capture_output=True, text=True, timeout=600
    )


@pytest.mark.usefixtures("stable_on_1")
def test_a_canary_promotes_step_by_step(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    with Traffic(service.url, rows) as traffic:
        done = deploy_cli(pipeline, store, "prod", "--version", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("smoke test passed: 5 rows answered") for line in lines)
    assert any(line.startswith("load check: passed") for line in lines)
    for label in ("phase 1 canary 20%: passed", "phase 2 canary 50%: passed"):
        assert any(line.startswith(label) for line in lines), done.stdout
    assert lines[-1].startswith(f"{NAME}: production 1 → 2 (canary, rollout r-")
    assert alias_and_split(store) == ("2", False)
    assert service.get("/version").json()["alias_version"] == "2"
    assert {answer.status for answer in traffic.answers} == {200}
    assert {answer.version for answer in traffic.answers} == {"1", "2"}
    move = last_move(store)
    assert (move["from"], move["to"], move["reason"]) == ("1", "2", "deploy")
    client = client_for(store)
    experiment = client.get_experiment_by_name(f"{NAME}-deployments")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == move["rollout"]
    assert run.data.tags["mlops.rollout.outcome"] == "promoted"
    assert (run.data.params["strategy"], run.data.params["candidate"]) == ("canary", "2")
    steps = {m.step for m in client.get_metric_history(run.info.run_id, "error_rate")}
    assert steps == {1, 2}


@pytest.mark.usefixtures("stable_on_1")
def test_a_version_that_raises_is_rolled_back(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    with Traffic(service.url, rows) as traffic:
        done = deploy_cli(pipeline, store, "prod", "--version", "3", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["outcome"], result["stable"], result["candidate"]) == ("rolled_back", "1", "3")
    assert result["reason"].startswith("load check: error_rate 1 > 0.01")
    assert [check["name"] for check in result["failed"]] == ["error_rate"]
    assert result["windows"] == []  # rolled back before any traffic
    assert alias_and_split(store) == ("1", False)
    assert {(a.status, a.version) for a in traffic.answers} == {(200, "1")}
    move = last_move(store)
    assert (move["from"], move["to"], move["reason"]) == ("1", "1", "rollback")
    assert move["rollout"] == result["rollout"] and "error_rate" in move["note"]


@pytest.mark.usefixtures("stable_on_1")
def test_a_slow_version_is_rolled_back(pipeline: Path, store: str) -> None:
    done = deploy_cli(pipeline, store, "strict", "--version", "4")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("load check: FAILED: requests 50 ≥ 50, ") for line in lines)
    assert lines[-2].startswith(f"{NAME}: version 4 rolled back, production stays on 1: ")
    assert lines[-1].startswith("failed check: p99_ms ") and lines[-1].endswith(" > 100")
    assert alias_and_split(store) == ("1", False)


@pytest.mark.usefixtures("stable_on_1")
def test_constant_predictions_are_rolled_back_during_the_canary(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    with Traffic(service.url, rows) as traffic:
        result = api.deploy(
            pipeline, "prod", version="5", tracking_uri=store, progress=traffic.progress
        )
    assert not result.promoted
    assert result.smoke is not None and result.smoke.passed
    assert [check.name for check in result.failed] == ["prediction_drift"]
    assert result.reason.startswith("canary 20%: prediction_drift ")
    [window] = result.windows
    assert window.versions[1]["predictions"].keys() == {"label 0"}
    assert alias_and_split(store) == ("1", False)
    assert {answer.status for answer in traffic.answers} == {200}
    assert service.get("/version").json()["versions"][0]["version"] == "1"


@pytest.mark.usefixtures("stable_on_1")
def test_blue_green_switches_under_load_without_a_failed_request(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    with Traffic(service.url, rows, clients=3) as traffic:
        result = api.deploy(
            pipeline,
            "prod",
            version="2",
            strategy="blue-green",
            tracking_uri=store,
            progress=traffic.progress,
        )
        time.sleep(0.5)
    assert result.promoted, result.reason
    assert [w.phase.label for w in result.windows] == ["blue-green switch"]
    assert len(traffic.answers) > 100
    assert {answer.status for answer in traffic.answers} == {200}
    assert {answer.version for answer in traffic.in_phases()} == {"2"}
    assert traffic.answers[-1].version == "2"
    assert alias_and_split(store) == ("2", False)


@pytest.mark.usefixtures("stable_on_1")
def test_shadow_answers_are_compared_never_returned(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    with Traffic(service.url, rows) as traffic:
        result = api.deploy(
            pipeline,
            "prod",
            version="2",
            strategy="shadow",
            tracking_uri=store,
            progress=traffic.progress,
        )
    assert result.promoted, result.reason
    [window] = result.windows
    assert window.phase.shadow and window.versions[1]["requests"] >= 5
    shadowed = window.versions[1]
    assert shadowed["shadow_requests"] == shadowed["requests"]
    assert 0 <= shadowed["shadow_mismatch_rate"] <= 1
    in_shadow = traffic.in_phases()
    assert in_shadow and {answer.version for answer in in_shadow} == {"1"}
    assert {answer.status for answer in traffic.answers} == {200}


@pytest.mark.usefixtures("stable_on_1")
def test_ab_split_is_sticky_per_client_key(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    keys = tuple(f"client-{n}" for n in range(12))
    with Traffic(service.url, rows, keys=keys) as traffic:
        result = api.deploy(
            pipeline, "experiment", tracking_uri=store, version="2", progress=traffic.progress
        )
    assert result.promoted, result.reason
    assert result.windows[0].phase.sticky == "x-client-id"
    seen: dict[str, set[str | None]] = {}
    for answer in traffic.in_phases():
        seen.setdefault(str(answer.key), set()).add(answer.version)
    assert all(len(versions) == 1 for versions in seen.values()), seen
    assert set().union(*seen.values()) == {"1", "2"}
    summaries = {summary["version"]: summary for summary in result.windows[0].versions}
    assert summaries["1"]["requests"] > 0 and summaries["2"]["requests"] > 0
    [shown] = [event.message for event in traffic.events if event.kind == "versions"]
    first, second = shown.splitlines()
    assert first.startswith(f"  version 1: {summaries['1']['requests']} requests, 0 errors, p99 ")
    assert second.startswith(f"  version 2: {summaries['2']['requests']} requests, 0 errors, p99 ")


@pytest.mark.usefixtures("stable_on_1")
def test_rollouts_that_cannot_start_are_refused(
    pipeline: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_mlops.errors import DeployError
    from jupyter_mlops.registry.traffic import TrafficSplit, write_traffic

    def refused(match: str, target: str = "prod", **options: Any) -> None:
        with pytest.raises(DeployError, match=match):
            api.deploy(pipeline, target, tracking_uri=store, **options)

    refused("already serves version 1", version="1")
    refused(f"model '{NAME}' has no version 99", version="99")
    refused(f"model '{NAME}' has no alias 'challenger': name a --version")
    refused("give --version or --alias, not both", version="2", alias="challenger")
    refused("--strategy 'linear' is not one of", version="2", strategy="linear")
    refused(r"no deploy target 'staging' \(targets: prod, strict, experiment, scored\)", "staging")
    client = client_for(store)
    write_traffic(client, NAME, "production", TrafficSplit({"1": 100}, rollout="r-other"))
    refused(f"alias 'production' of model '{NAME}' is in rollout r-other", version="2")
    aborted = api.abort_deploy(pipeline, "prod", tracking_uri=store)
    assert (
        aborted == f"{NAME}: rollout r-other aborted; alias 'production' serves its version 100 %"
    )
    last = api.history(NAME, alias="production", tracking_uri=store).moves[-1]
    assert (last.reason, last.rollout, last.from_version, last.to_version) == (
        "abort",
        "r-other",
        "1",
        "1",
    )
    nothing = api.abort_deploy(pipeline, "prod", tracking_uri=store)
    assert nothing == f"{NAME}: alias 'production' has no traffic split: nothing to abort"
    file = pipeline / "pipeline.yaml"
    text = file.read_text()
    monkeypatch.delenv("SERVE_TOKEN", raising=False)
    try:
        file.write_text(text.replace("  strict:\n", "  strict:\n    token_env: SERVE_TOKEN\n"))
        refused("environment variable SERVE_TOKEN .* is not set", "strict", version="2")
    finally:
        file.write_text(text)
    assert alias_and_split(store) == ("1", False)


@pytest.mark.usefixtures("stable_on_1")
def test_ab_rolls_back_a_candidate_scoring_worse_on_feedback(
    pipeline: Path, store: str, service: Service, rows: Any
) -> None:
    """The labels arrive as the service stores them (its request log and feedback files
    under the target's log_dir), written here during the A/B phase: the candidate is right
    half as often, which the significance test finds."""
    import numpy as np

    from jupyter_mlops.deploy.serving.feedback import FeedbackStore
    from jupyter_mlops.deploy.serving.request_log import RequestLog

    log_dir = pipeline.parent / "serve-log"

    def label_answers(event: RolloutEvent) -> None:
        if event.kind != "phase":
            return
        when = time.time() + 0.5  # inside the window that starts right after this event
        log = RequestLog(log_dir, NAME)
        labels = []
        for version, right in (("1", 57), ("2", 30)):
            for n in range(60):
                log.log(f"{version}-{n}", when, version, ("x",), [[1.0]], np.array([1]), 0.001)
                labels.append((f"{version}-{n}", 1 if n < right else 0))
        log.close()
        FeedbackStore(log_dir, NAME).add(labels)

    def progress(event: RolloutEvent) -> None:
        traffic.progress(event)
        label_answers(event)

    with Traffic(service.url, rows) as traffic:
        result = api.deploy(pipeline, "scored", version="2", tracking_uri=store, progress=progress)
    assert not result.promoted
    assert [check.name for check in result.failed] == ["feedback_p_value"]
    assert "accuracy: candidate 0.5 [" in result.failed[0].detail
    feedback = result.windows[0].feedback
    assert feedback is not None and feedback["metric"] == "accuracy"
    assert (feedback["stable"]["n"], feedback["candidate"]["n"]) == (60, 60)
    assert alias_and_split(store) == ("1", False)


@pytest.mark.usefixtures("stable_on_1")
def test_an_interrupted_rollout_rolls_back_before_stopping(pipeline: Path, store: str) -> None:
    def interrupt(event: RolloutEvent) -> None:
        if event.kind == "phase":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.deploy(pipeline, "prod", version="2", tracking_uri=store, progress=interrupt)
    assert alias_and_split(store) == ("1", False)
    move = last_move(store)
    assert (move["from"], move["to"], move["reason"]) == ("1", "1", "rollback")
    assert move["note"] == "version 2 rolled back: interrupted"
    client = client_for(store)
    experiment = client.get_experiment_by_name(f"{NAME}-deployments")
    [run] = client.search_runs(
        [experiment.experiment_id], f"tags.`mlops.rollout.id` = '{move['rollout']}'"
    )
    assert run.info.status == "KILLED"
    assert run.data.tags["mlops.rollout.outcome"] == "rolled_back"
