"""Deploy targets: the ``deploy:`` section of pipeline.yaml, checked key by key, kept across
re-extraction; and the phases each strategy plans from a target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.deploy.rollout.strategies import plan, staging_split
from jupyter_mlops.deploy.targets import Analysis, parse_target, read_target, read_targets
from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.traffic import TrafficSplit

DEPLOY = """
deploy:
  prod:
    kind: rest
    alias: production
    url: http://127.0.0.1:8080/
    strategy: canary
    steps: [10, 50]
    interval: 30s
    analysis: {max_error_rate: 0.01, max_p99_ms: 100, max_prediction_drift: 0.2, failure_limit: 2}
  experiment:
    url: https://models.example.com
    strategy: ab
    steps: [20]
    duration: 10m
    sticky: X-Client-Id
    token_env: SERVE_TOKEN
    auto: true
    log_dir: serve-log
    analysis: {feedback_alpha: 0.01}
"""


@pytest.fixture()
def pipeline(tmp_path: Path) -> Path:
    """An extracted one-step pipeline whose pipeline.yaml has the deploy: section above."""
    from nbfactory import write_notebook

    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package

    notebook = write_notebook(tmp_path / "nb.ipynb", ["%%mlstep a\nx = 1"])
    out = tmp_path / "pipe"
    write_package(scan_notebook(notebook), out)
    (out / "pipeline.yaml").write_text(
        (out / "pipeline.yaml").read_text() + DEPLOY, encoding="utf-8"
    )
    return out


def test_targets_read_from_pipeline_yaml(pipeline: Path) -> None:
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    targets = read_targets(read_pipeline_file(pipeline))
    prod, experiment = targets["prod"], targets["experiment"]
    assert (prod.kind, prod.alias, prod.url, prod.strategy) == (
        "rest",
        "production",
        "http://127.0.0.1:8080",
        "canary",
    )
    assert (prod.steps, prod.interval, prod.duration) == ((10, 50), 30.0, None)
    assert prod.analysis == Analysis(0.01, 100.0, 0.2, 2, 10)
    assert (experiment.alias, experiment.strategy, experiment.steps) == ("production", "ab", (20,))
    assert (experiment.duration, experiment.sticky) == (600.0, "x-client-id")
    assert (experiment.token_env, experiment.auto, prod.auto) == ("SERVE_TOKEN", True, False)
    assert experiment.analysis == Analysis(feedback_alpha=0.01)
    assert (experiment.log_dir, prod.log_dir) == (str(pipeline / "serve-log"), None)


def test_deploy_section_survives_re_extraction(pipeline: Path) -> None:
    from nbfactory import write_notebook

    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    notebook = pipeline.parent / "nb.ipynb"
    before = read_pipeline_file(pipeline).settings["deploy"]
    write_notebook(notebook, ["%%mlstep a\nx = 2"])
    write_package(scan_notebook(notebook), pipeline)
    after = read_pipeline_file(pipeline)
    assert after.settings["deploy"] == before
    assert read_target(after, "prod").analysis.failure_limit == 2


def test_unknown_target_names_the_targets_there_are(pipeline: Path) -> None:
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    with pytest.raises(
        DeployError, match=r"no deploy target 'staging' \(targets: prod, experiment\)"
    ):
        read_target(read_pipeline_file(pipeline), "staging")


URL = {"url": "http://127.0.0.1:8080"}


@pytest.mark.parametrize(
    ("settings", "where", "problem"),
    [
        ({}, "deploy.t.url", "must be the service's http(s) URL"),
        ({"url": "ftp://host"}, "deploy.t.url", "must be the service's http(s) URL"),
        ({**URL, "kind": "ftp"}, "deploy.t.kind", "not a known kind (rest, "),
        ({**URL, "strategy": "linear"}, "deploy.t.strategy", "not one of canary, blue-green"),
        ({**URL, "steps": [10, "x"]}, "deploy.t.steps[1]", "integer percentage 1..99"),
        ({**URL, "steps": [10, 100]}, "deploy.t.steps[1]", "integer percentage 1..99"),
        ({**URL, "steps": [50, 10]}, "deploy.t.steps[1]", "above the step before (50)"),
        ({**URL, "steps": []}, "deploy.t.steps", "must be a list of percentages"),
        ({**URL, "strategy": "ab", "steps": [10, 20]}, "deploy.t.steps", "one percentage"),
        ({**URL, "interval": "soon"}, "deploy.t.interval", "must be a duration"),
        ({**URL, "interval": 0}, "deploy.t.interval", "longer than 0"),
        ({**URL, "duration": True}, "deploy.t.duration", "must be a duration"),
        ({**URL, "alias": "prod uction"}, "deploy.t.alias", "must be a name"),
        ({**URL, "sticky": "x client"}, "deploy.t.sticky", "HTTP header name"),
        ({**URL, "auto": "yes"}, "deploy.t.auto", "true or false"),
        ({**URL, "color": "blue"}, "deploy.t.color", "is unknown"),
        ({**URL, "analysis": [1]}, "deploy.t.analysis", "must be a mapping"),
        (
            {**URL, "analysis": {"max_error_rate": 2}},
            "deploy.t.analysis.max_error_rate",
            "number from 0 to 1",
        ),
        ({**URL, "analysis": {"max_p99_ms": -1}}, "deploy.t.analysis.max_p99_ms", "above 0"),
        (
            {**URL, "analysis": {"failure_limit": 0}},
            "deploy.t.analysis.failure_limit",
            "integer ≥ 1",
        ),
        ({**URL, "analysis": {"p95": 3}}, "deploy.t.analysis.p95", "is unknown"),
        ("http://x", "deploy.t", "must be a mapping of settings"),
    ],
)
def test_bad_settings_name_the_key_path(settings: Any, where: str, problem: str) -> None:
    with pytest.raises(DeployError) as info:
        parse_target("t", settings)
    assert info.value.name == where
    assert str(info.value).startswith(f"{where} ") and problem in str(info.value)


def test_errors_from_pipeline_yaml_name_the_file(tmp_path: Path, pipeline: Path) -> None:
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    file = pipeline / "pipeline.yaml"
    file.write_text(file.read_text().replace("steps: [10, 50]", "steps: [10, 5]"))
    with pytest.raises(DeployError) as info:
        read_targets(read_pipeline_file(pipeline))
    assert str(info.value).startswith(f"{file}: deploy.prod.steps[1] must be above")


def target(**settings: Any) -> Any:
    return parse_target("t", {**URL, **settings})


def test_canary_plans_one_phase_per_step() -> None:
    phases = plan(target(steps=[5, 25, 60], interval="2s"))
    assert [(p.label, p.candidate_share, p.seconds) for p in phases] == [
        ("canary 5%", 5, 2.0),
        ("canary 25%", 25, 2.0),
        ("canary 60%", 60, 2.0),
    ]
    assert phases[1].split("3", "4", "r-1") == TrafficSplit({"3": 75, "4": 25}, rollout="r-1")
    assert phases[0].describe("3", "4") == "5% of requests to version 4 for 2s"


def test_blue_green_switches_at_once_keeping_the_stable_version_loaded() -> None:
    [phase] = plan(target(strategy="blue-green"))
    assert phase.split("3", "4", "r-1") == TrafficSplit({"4": 100}, standby=("3",), rollout="r-1")
    assert not phase.stable_answers
    assert phase.describe("3", "4") == "all requests to version 4, 3 on standby, for 30s"
    assert staging_split("3", "4", "r-1") == TrafficSplit({"3": 100}, standby=("4",), rollout="r-1")


def test_ab_holds_a_sticky_split_for_its_duration() -> None:
    [phase] = plan(target(strategy="ab", steps=[30], duration="1m", sticky="x-user"))
    assert (phase.seconds, phase.candidate_share, phase.feedback) == (60.0, 30, True)
    assert (
        phase.describe("3", "4") == "30% of requests to version 4, sticky on header x-user for 60s"
    )
    assert phase.split("3", "4", "r-1") == TrafficSplit(
        {"3": 70, "4": 30}, sticky="x-user", rollout="r-1"
    )


def test_shadow_copies_requests_to_the_candidate() -> None:
    [phase] = plan(target(interval="5s"), "shadow")
    assert phase.seconds == 5.0
    assert (
        phase.describe("3", "4") == "version 4 gets a copy of every request for 5s, never returned"
    )
    assert phase.split("3", "4", "r-1") == TrafficSplit({"3": 100}, shadow=("4",), rollout="r-1")


def test_an_overriding_strategy_ignores_steps_written_for_another() -> None:
    [phase] = plan(target(steps=[10, 20]), "ab")
    assert phase.candidate_share == 50
    assert [p.candidate_share for p in plan(target(strategy="ab", steps=[30]), "canary")] == [
        10,
        50,
    ]


def test_a_pipeline_with_several_models_names_the_model_of_each_target(tmp_path: Path) -> None:
    from nbfactory import write_notebook

    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import write_package
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.registry.promotion import resolve_model

    cells = ["%%mlstep a --model m\nm = 1", "%%mlstep b --model n\nn = 2"]
    notebook = write_notebook(tmp_path / "two.ipynb", cells)
    out = tmp_path / "pipe"
    write_package(scan_notebook(notebook), out)
    base = (out / "pipeline.yaml").read_text(encoding="utf-8")
    target = "deploy:\n  prod:\n    url: http://127.0.0.1:8080\n"

    def targets(extra: str) -> Any:
        (out / "pipeline.yaml").write_text(base + target + extra, encoding="utf-8")
        return read_targets(read_pipeline_file(out))

    with pytest.raises(
        DeployError, match=r"deploy.prod.model: the pipeline registers 2 models \(two-m, two-n\)"
    ):
        targets("")
    with pytest.raises(
        DeployError,
        match=r"deploy.prod.model: 'other' is not a model of this pipeline \(two-m, two-n\)",
    ):
        targets("    model: other\n")
    assert targets("    model: two-n\n")["prod"].model == "two-n"
    assert resolve_model(str(out), "sqlite:///x.db", "two-n") == ("two-n", "sqlite:///x.db")
