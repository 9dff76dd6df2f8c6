"""The alias history (every move recorded, concurrent moves included) and rollback, on a
real MLflow SQLite store; one real gated run records its alias with reason ``gate``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow_fixtures import assert_no_global_store, client_for
from nbfactory import write_notebook

from jupyter_mlops import cli
from jupyter_mlops.errors import PromotionError
from jupyter_mlops.registry.alias_history import (
    AliasMove,
    alias_history,
    move_alias,
    previous_holder,
    record_unmoved,
    rollback,
)
from jupyter_mlops.registry.models import set_alias
from jupyter_mlops.registry.promotion import promote
from jupyter_mlops.registry.traffic import TrafficSplit, read_served, write_traffic

NAME = "churn"
BIN = Path(sys.executable).parent
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(autouse=True)
def user(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JUPYTER_MLOPS_USER", "alice")
    return "alice"


def add_versions(uri: str, tmp_path: Path, *gates: str | None) -> None:
    """One version per entry of ``gates`` (its ``mlops.gate`` tag; None: untagged)."""
    client = client_for(uri)
    client.create_registered_model(NAME)
    for number, gate in enumerate(gates, start=1):
        tags = {"mlops.gate": gate} if gate else {}
        client.create_model_version(NAME, (tmp_path / f"model-{number}").as_uri(), tags=tags)


def moves(uri: str, alias: str | None = None) -> list[dict[str, object]]:
    return [move.to_json() for move in alias_history(client_for(uri), NAME, alias)]


def brief(uri: str, alias: str | None = None) -> list[tuple[object, ...]]:
    """``(alias, from, to, reason)`` of each recorded move, oldest first."""
    return [(m["alias"], m["from"], m["to"], m["reason"]) for m in moves(uri, alias)]


def test_promote_records_who_moved_what_when_and_why(tracking_uri: str, tmp_path: Path) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "rejected")
    promote(tracking_uri, NAME, version=1)
    promote(tracking_uri, NAME, version=1)  # already there: nothing to record
    promote(tracking_uri, NAME, version=2, force=True)
    first, second = moves(tracking_uri)
    assert TIME.fullmatch(str(first.pop("time"))) and TIME.fullmatch(str(second.pop("time")))
    assert first == {
        "user": "alice",
        "alias": "champion",
        "from": None,
        "to": "1",
        "reason": "promote",
        "gate": "validated",
        "rollout": None,
        "note": None,
    }
    assert (second["from"], second["to"], second["gate"], second["note"]) == (
        "1",
        "2",
        "rejected",
        "forced",
    )
    assert_no_global_store(tmp_path)


def test_moves_through_the_registry_helpers_are_recorded(tracking_uri: str, tmp_path: Path) -> None:
    add_versions(tracking_uri, tmp_path, None, None)
    set_alias(tracking_uri, NAME, "challenger", 1)
    set_alias(tracking_uri, NAME, "challenger", 2, reason="gate", gate="validated")
    client = client_for(tracking_uri)
    move_alias(client, NAME, "staging", 2, "deploy", rollout="r-7", note="canary done")
    move_alias(client, NAME, "staging", None, "deploy")  # deleted
    assert brief(tracking_uri) == [
        ("challenger", None, "1", "register"),
        ("challenger", "1", "2", "gate"),
        ("staging", None, "2", "deploy"),
        ("staging", "2", None, "deploy"),
    ]
    assert dict(client.get_registered_model(NAME).aliases) == {"challenger": 2}
    assert brief(tracking_uri, "staging")[-1] == ("staging", "2", None, "deploy")
    described = [move.describe() for move in alias_history(client, NAME)]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  challenger 1 → 2  gate by alice \(gate: validated\)",
        described[1],
    )
    assert described[2].endswith("staging (unset) → 2  deploy by alice (rollout: r-7, canary done)")
    assert described[3].endswith("staging 2 → (unset)  deploy by alice")


def test_rollback_restores_the_previous_holder_and_clears_the_split(
    tracking_uri: str, tmp_path: Path
) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "validated", "validated")
    for version in (1, 2, 3):
        promote(tracking_uri, NAME, version=version, alias="production")
    client = client_for(tracking_uri)
    write_traffic(client, NAME, "production", TrafficSplit({"3": 90, "2": 10}))
    unmoved = record_unmoved(client, NAME, "production", "deploy", rollout="r-9", note="aborted")
    assert (unmoved.from_version, unmoved.to_version, unmoved.rollout) == ("3", "3", "r-9")
    move = rollback(client, NAME, "production")
    assert (move.from_version, move.to_version) == ("3", "2")
    assert (move.reason, move.gate) == ("rollback", "validated")
    assert read_served(client, NAME, "production") == ("2", TrafficSplit({"2": 100}))
    assert brief(tracking_uri)[-1] == ("production", "3", "2", "rollback")
    # The previous holder of 2 is now 3 (the rollback moved it from there): a second
    # rollback undoes the first.
    assert rollback(client, NAME, "production").to_version == "3"
    client.delete_model_version(NAME, "2")
    with pytest.raises(PromotionError, match="version 2, the previous holder of alias 'produc"):
        rollback(client, NAME, "production")


def test_previous_holder_is_the_from_of_the_latest_move_to_the_current_version() -> None:
    def move(alias: str, before: str | None, after: str) -> AliasMove:
        return AliasMove("2026-01-01T00:00:00.000Z", "u", alias, before, after, "promote")

    history = [move("a", None, "1"), move("a", "1", "2"), move("b", "4", "2"), move("a", "5", "2")]
    assert previous_holder(history, "a", "2") == "5"
    assert previous_holder([*history, move("a", "2", "2")], "a", "2") == "5"  # unmoved
    assert previous_holder(history, "b", "2") == "4"
    assert previous_holder(history, "a", "1") is None
    assert previous_holder(history, "a", "9") is None


def test_rollback_with_nothing_earlier_is_refused(
    tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "validated")
    uri = ["--tracking-uri", tracking_uri]
    assert cli.main(["rollback", NAME, *uri]) == 2  # default alias production: unset
    assert capsys.readouterr().err == (
        "error: model 'churn' has no alias 'production': nothing to roll back\n"
    )
    promote(tracking_uri, NAME, version=1)
    assert cli.main(["rollback", NAME, "--alias", "champion", *uri]) == 2
    assert capsys.readouterr().err == (
        "error: model 'churn': alias 'champion' has no earlier version recorded before 1: "
        "nothing to roll back to\n"
    )
    assert cli.main(["rollback", "unknown", *uri]) == 2
    assert capsys.readouterr().err.startswith("error: no registered model 'unknown' in sqlite:")
    promote(tracking_uri, NAME, version=2)
    assert cli.main(["rollback", NAME, "--alias", "champion", *uri]) == 0
    assert capsys.readouterr().out == "churn: champion 2 → 1 (rollback)\n"
    assert dict(client_for(tracking_uri).get_registered_model(NAME).aliases) == {"champion": 1}


def test_cli_history_text_and_json(
    tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "validated")
    uri = ["--tracking-uri", tracking_uri]
    assert cli.main(["history", NAME, *uri]) == 0
    assert capsys.readouterr().out == "no alias move recorded for model 'churn'\n"
    promote(tracking_uri, NAME, version=1)
    promote(tracking_uri, NAME, version=2)
    promote(tracking_uri, NAME, version=2, alias="staging")
    assert cli.main(["history", NAME, *uri]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "champion (unset) → 1  promote by alice (gate: validated)",
        "champion 1 → 2  promote by alice (gate: validated)",
        "staging (unset) → 2  promote by alice (gate: validated)",
    ]
    assert cli.main(["history", NAME, "--alias", "champion", "--json", *uri]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["model"] == NAME and len(shown["moves"]) == 2
    assert shown["moves"][1] == {**shown["moves"][1], "from": "1", "to": "2", "user": "alice"}
    assert set(shown["moves"][0]) == {
        *("time", "user", "alias", "from", "to", "reason", "gate", "rollout", "note"),
    }
    assert cli.main(["history", NAME, "--limit", "1", "--json", *uri]) == 0
    assert [m["alias"] for m in json.loads(capsys.readouterr().out)["moves"]] == ["staging"]
    assert cli.main(["history", NAME, "--limit", "0", *uri]) == 2
    assert capsys.readouterr().err == "error: the history limit must be at least 1, not 0\n"
    assert cli.main(["history", "unknown", *uri]) == 2
    assert capsys.readouterr().err.startswith("error: no registered model 'unknown' in ")


def test_concurrent_promotions_from_two_processes_are_both_recorded(
    tracking_uri: str, tmp_path: Path
) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "validated")
    env = {**os.environ, "JUPYTER_MLOPS_USER": "bob"}
    promotions = [
        subprocess.Popen(
            [str(BIN / "jupyter-mlops"), "promote", NAME, "--version", version]
            + ["--alias", "champion", "--tracking-uri", tracking_uri],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("1", "2")
    ]
    for process in promotions:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert "champion" in out
    recorded = moves(tracking_uri)
    assert sorted(str(move["to"]) for move in recorded) == ["1", "2"]
    assert {move["user"] for move in recorded} == {"bob"}
    final = client_for(tracking_uri).get_registered_model(NAME).aliases["champion"]
    assert str(final) in {"1", "2"}


MOVER = """
import sys
from mlflow import MlflowClient
from jupyter_mlops.registry.alias_history import move_alias

uri, alias = sys.argv[1], sys.argv[2]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
for step in range(10):
    move_alias(client, "churn", alias, 1 + step % 2, "deploy", note=str(step))
"""


def test_many_moves_from_two_processes_lose_no_entry(tracking_uri: str, tmp_path: Path) -> None:
    add_versions(tracking_uri, tmp_path, None, None)
    movers = [
        subprocess.Popen([sys.executable, "-c", MOVER, tracking_uri, alias], stderr=subprocess.PIPE)
        for alias in ("blue", "green")
    ]
    for process in movers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    for alias in ("blue", "green"):
        recorded = moves(tracking_uri, alias)
        assert [move["note"] for move in recorded] == [str(step) for step in range(10)]
        assert [move["to"] for move in recorded] == ["1", "2"] * 5


# --- a real gated run -------------------------------------------------------------------------

SETUP = """import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
"""
LOAD = """%%mlstep load
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
y = (X["a"] > 0).astype(int)
"""
TRAIN = "%%mlstep train --model model\nmodel = LogisticRegression().fit(X, y)\n"
EVALUATE = '%%mlstep evaluate --metrics metrics\nmetrics = {"accuracy": model.score(X, y)}\n'


def test_a_gated_run_records_its_aliases_with_reason_gate(
    tracking_uri: str, tmp_path: Path
) -> None:
    from jupyter_mlops import api

    notebook = write_notebook(tmp_path / "gated.ipynb", [SETUP, LOAD, TRAIN, EVALUATE])
    folder = api.extract(notebook).folder
    with (folder / "pipeline.yaml").open("a", encoding="utf-8") as file:
        file.write("\ngates:\n  metrics:\n    accuracy: {min: 0.5}\n  promote: champion\n")
    options = api.RunOptions(engine="inprocess", tracking_uri=tracking_uri)
    assert api.run(folder, options).status == "succeeded"
    history = api.history("gated", tracking_uri=tracking_uri).moves
    assert [(m.alias, m.from_version, m.to_version, m.reason, m.gate) for m in history] == [
        ("challenger", None, "1", "gate", "validated"),
        ("champion", None, "1", "gate", "validated"),
    ]
