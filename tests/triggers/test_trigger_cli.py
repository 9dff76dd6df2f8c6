"""``jupyter mlops trigger`` on a real pipeline: a new_data trigger fires, the re-run uses
its params, is tagged with why it fired, is gated and deployed; a worse model is rejected
and the served alias stays; ``--dry-run`` changes nothing; bad config exits 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow_fixtures import client_for
from nbfactory import write_notebook

from jupyter_mlops.api import TriggerResult

pytest_plugins = ("mlflow_fixtures",)

BIN = Path(sys.executable).parent
SETUP = "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
PARAMS = 'data_path = ""\nC = 1.0\n'
LOAD = "%%mlstep load\ndf = pd.read_csv(data_path)\n"
SPLIT = (
    "%%mlstep split\n"
    "X, y = df[['a', 'b']], df['target']\n"
    "X_train, X_test, y_train, y_test = X.iloc[:150], X.iloc[150:], y.iloc[:150], y.iloc[150:]\n"
)
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression(C=C).fit(X_train, y_train)\n"
EVALUATE = (
    "%%mlstep evaluate --metrics metrics\n"
    "metrics = {'accuracy': float(model.score(X_test, y_test))}\n"
)
SECTIONS = """
gates:
  metrics:
    accuracy: {{min: 0.75}}
deploy:
  prod:
    kind: package
    format: wheel
    alias: production
triggers:
  nightly:
    kind: schedule
    cron: "0 3 * * *"
  fresh-data:
    kind: new_data
    path: {data}
    cooldown: 0
    params: {{data_path: "{{path}}"}}
    deploy: prod
"""


def write_data(path: Path, seed: int, learnable: bool = True) -> None:
    """200 rows of uniform features; ``target`` is ``a > 0.5`` (or coin flips)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.uniform(size=200), "b": rng.uniform(size=200)})
    noise = rng.integers(0, 2, size=200)
    frame["target"] = (frame["a"] > 0.5).astype(int) if learnable else noise
    frame.to_csv(path, index=False)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "jupyter-mlops"), *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_a_new_data_trigger_re_runs_gates_and_deploys(tracking_uri: str, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    write_data(data, seed=1)
    notebook = write_notebook(
        tmp_path / "fresh.ipynb", [SETUP, (PARAMS, ["parameters"]), LOAD, SPLIT, TRAIN, EVALUATE]
    )
    uri = ("--tracking-uri", tracking_uri)
    first = cli(
        "run",
        str(notebook),
        "-p",
        f"data_path={str(data)!r}",
        "--engine",
        "inprocess",
        *uri,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    folder = tmp_path / "pipelines" / "fresh"
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write(SECTIONS.format(data=data))
    trigger = ("trigger", str(folder), "--engine", "inprocess", *uri)
    state_file = folder / ".mlops" / "triggers.json"
    client = client_for(tracking_uri)

    baseline = cli(*trigger, cwd=tmp_path)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    assert "fresh-data (new_data): baseline: first evaluation" in baseline.stdout
    assert "nightly (schedule): baseline: first evaluation: the clock starts now" in baseline.stdout
    assert "nothing fired" in baseline.stdout
    recorded = state_file.read_bytes()

    write_data(data, seed=2)
    dry = cli(*trigger, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"fresh-data (new_data): fires: {data} changed: now" in dry.stdout
    assert "would fire: fresh-data" in dry.stdout
    assert (
        f"would re-run pipeline 'fresh' (every step) with params data_path='{data}'" in dry.stdout
    )
    assert "would deploy a validated version to target 'prod' (package" in dry.stdout
    assert "dry run: nothing changed" in dry.stdout
    assert state_file.read_bytes() == recorded
    assert len(client.search_model_versions("name='fresh'")) == 1

    fired = cli(*trigger, "--json", cwd=tmp_path)
    assert fired.returncode == 0, fired.stdout + fired.stderr
    summary = json.loads(fired.stdout)
    assert summary["fired"] == "fresh-data"
    assert summary["run"]["model_version"] == "2"
    assert summary["run"]["gates"]["outcome"] == "validated"
    assert summary["deploys"][0].startswith("deploy prod: ")
    assert summary["deploy_failed"] is False
    assert client.get_registered_model("fresh").aliases["production"] == 2
    tags = client.get_run(summary["run"]["run_id"]).data.tags
    assert tags["mlops.trigger"] == "fresh-data"
    assert tags["mlops.trigger.kind"] == "new_data"
    assert re.match(rf"{re.escape(str(data))} changed: now \d+ bytes", tags["mlops.trigger.reason"])
    params = client.get_run(summary["run"]["run_id"]).data.params
    assert params["data_path"] == str(data)
    state = json.loads(state_file.read_text())["triggers"]["fresh-data"]
    assert state["last_fired"] and state["last_run"]["gates"] == {"fresh": "validated"}

    write_data(data, seed=3, learnable=False)
    rejected = cli(*trigger, cwd=tmp_path)
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert (
        "deploy prod: not deployed, the gates rejected version 3 of 'fresh'; alias "
        "'production' stays on version 2" in rejected.stdout
    )
    assert "the served version does not change" in rejected.stdout
    assert client.get_registered_model("fresh").aliases["production"] == 2
    state = json.loads(state_file.read_text())["triggers"]["fresh-data"]
    assert state["last_run"]["gates"] == {"fresh": "rejected"}

    quiet = cli(*trigger, cwd=tmp_path)
    assert quiet.returncode == 0 and "nothing fired" in quiet.stdout
    assert "unchanged since the last run it started" in quiet.stdout


def test_bad_config_exits_2_naming_the_trigger(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "bad.ipynb", [SETUP, (PARAMS, ["parameters"]), LOAD])
    folder = tmp_path / "pipelines" / "bad"
    assert cli("extract", str(notebook), cwd=tmp_path).returncode == 0
    none = cli("trigger", str(folder), cwd=tmp_path)
    assert none.returncode == 2 and "has no triggers: section" in none.stderr
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("triggers:\n  nightly:\n    kind: schedule\n    cron: '0 25 * * *'\n")
    bad = cli("trigger", str(folder), "--dry-run", cwd=tmp_path)
    assert bad.returncode == 2
    assert "triggers.nightly.cron: '0 25 * * *': hour 25 is out of range 0-23" in bad.stderr
    text = (folder / "pipeline.yaml").read_text().replace("0 25 * * *", "0 3 * * *")
    (folder / "pipeline.yaml").write_text(text + "    deploy: prod\n")
    target = cli("trigger", str(folder), cwd=tmp_path)
    assert target.returncode == 2
    assert "triggers.nightly.deploy names no target of the deploy: section" in target.stderr
    assert not (folder / ".mlops" / "triggers.json").exists()


def test_exit_codes() -> None:
    result = TriggerResult("p", Path("."), False, [])
    assert result.exit_code() == 0
    result.deploy_failed = True
    assert result.exit_code() == 1


def test_one_re_run_per_evaluation_the_others_wait(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from jupyter_mlops import api

    notebook = write_notebook(tmp_path / "two.ipynb", [SETUP, (PARAMS, ["parameters"]), LOAD])
    folder = api.extract(notebook).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write(
            "triggers:\n"
            "  hourly: {kind: schedule, cron: '0 * * * *', params: {C: 0.5}}\n"
            "  daily: {kind: schedule, cron: '0 3 * * *'}\n"
        )
    state_file = folder / ".mlops" / "triggers.json"
    state_file.parent.mkdir(exist_ok=True)
    yesterday = "2026-12-01T12:00:00+00:00"
    entries = {name: {"last_evaluated": yesterday} for name in ("hourly", "daily")}
    state_file.write_text(json.dumps({"version": 1, "triggers": entries}))
    options = api.TriggerOptions(dry_run=True, now=datetime(2026, 12, 2, 12, 5, tzinfo=UTC))
    result = api.trigger(folder, options)
    hourly, daily = result.evaluations
    assert result.fired is hourly and result.params == {"C": 0.5}
    assert daily.status == "deferred"
    assert daily.reason.endswith(
        "waits for the next evaluation (one re-run at a time: 'hourly' fired)"
    )
    assert result.plan[-1] == "give a validated version alias 'challenger' (no deploy target)"
    assert json.loads(state_file.read_text())["triggers"] == entries  # a dry run writes nothing
