"""A deploy target with ``auto: true``: a validated run rolls its new version out to the
running service (after-run link ``deploy``), recorded as a note of the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow_fixtures import client_for
from nbfactory import write_notebook
from service_process import Service

from jupyter_mlops import api
from jupyter_mlops.errors import DeployError

pytest_plugins = ("mlflow_fixtures",)

SETUP = """import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
"""
LOAD = """%%mlstep load
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
y = (X["a"] > 0).astype(int)
"""
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression(C=C).fit(X, y)\n"


def test_a_validated_run_deploys_to_an_auto_target(tracking_uri: str, tmp_path: Path) -> None:
    notebook = write_notebook(
        tmp_path / "auto.ipynb", [("C = 1.0", ["parameters"]), SETUP, LOAD, TRAIN]
    )
    folder = api.extract(notebook).folder
    options = api.RunOptions(engine="inprocess", tracking_uri=tracking_uri)
    assert api.run(folder, options).status == "succeeded"
    api.promote(str(folder), "1", alias="production", tracking_uri=tracking_uri)
    with Service(tracking_uri, "auto", "--poll-interval", "0.2s", "--no-log", cwd=tmp_path) as svc:
        with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
            file.write(
                f"\ndeploy:\n  prod:\n    url: {svc.url}\n    strategy: blue-green\n"
                "    interval: 1s\n    auto: true\n    analysis: {min_requests: 0}\n"
            )
        options.params = {"C": 0.01}
        result = api.run(folder, options)
        assert result.status == "succeeded", result.failed_links
        [note] = [note for note in result.notes if note.startswith("deploy prod: ")]
        assert note.startswith("deploy prod: auto: production 1 → 2 (blue-green, rollout r-")
        assert svc.get("/version").json()["alias_version"] == "2"
    assert client_for(tracking_uri).get_registered_model("auto").aliases["production"] == 2


def test_a_malformed_deploy_section_stops_the_run_before_any_step(
    tracking_uri: str, tmp_path: Path
) -> None:
    notebook = write_notebook(tmp_path / "bad.ipynb", [SETUP, LOAD])
    folder = api.extract(notebook).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("\ndeploy:\n  prod:\n    url: http://127.0.0.1:1\n    auto: maybe\n")
    options = api.RunOptions(engine="inprocess", tracking_uri=tracking_uri)
    with pytest.raises(DeployError, match=r"deploy\.prod\.auto must be true or false"):
        api.run(folder, options)
    assert not (folder / ".mlops" / "runs").exists() or not any(
        (folder / ".mlops" / "runs").iterdir()
    )
