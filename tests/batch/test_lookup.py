"""``jupyter mlops serve --lookup URL#TABLE``: ``GET /predictions/{key}`` answered from a
predictions table by a real service process (lookup-only, and beside a served model),
following a swap of the table, and the errors naming the key, the column or the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from batch_names import FEATURES, NAME
from batch_tables import read_table
from service_process import Service

from jupyter_mlops import api

TABLE = "iris_predictions"


@pytest.fixture
def scored(scoring_store: str, iris_files: dict[str, Path], tmp_path: Path) -> str:
    """A SQLite database whose ``iris_predictions`` version 1 scored; its URL."""
    url = f"sqlite:///{tmp_path / 'predictions.db'}"
    api.score(NAME, str(iris_files["parquet"]), "id", into=url, tracking_uri=scoring_store)
    return url


def lookup_service(uri: str, lookup: str, cwd: Path, model: str | None = None) -> Service:
    """A real ``jupyter mlops serve [MODEL] --lookup …`` process."""
    if model is None:  # no MODEL: the harness's model slot carries the option
        return Service(uri, f"--lookup={lookup}", "--no-log", cwd=cwd)
    return Service(uri, model, "--lookup", lookup, "--no-log", cwd=cwd)


def test_a_lookup_only_service_answers_from_the_table(
    scoring_store: str, scored: str, tmp_path: Path
) -> None:
    row = read_table(scored, TABLE).iloc[0]
    with lookup_service(scoring_store, f"{scored}#{TABLE}", tmp_path) as service:
        assert "lookups from sqlite:///" in "".join(service.output)
        found = service.get("/predictions/1000")
        assert found.status == 200, found.body
        answer = found.json()
        assert answer["key"] == 1000 and answer["prediction"] == row["prediction"]
        assert answer["probabilities"] == {
            klass: row[f"proba_{klass}"] for klass in ("0", "1", "2")
        }
        assert (answer["model_name"], answer["model_version"]) == (NAME, "1")
        assert answer["scored_at"].endswith("+00:00")
        missing = service.get("/predictions/99")
        assert missing.status == 404
        assert missing.json()["message"] == f"no prediction for key '99' in table '{TABLE}'"
        malformed = service.get("/predictions/abc")
        assert malformed.status == 400
        assert "key column 'id'" in malformed.json()["message"]
        assert service.get("/health").status == 200
        assert service.get("/version").json()["lookup"]["key"] == "id"
        assert service.post("/invocations", {"inputs": []}).status == 405


def test_lookups_beside_a_served_model_follow_a_swap(
    scoring_store: str, scored: str, iris_files: dict[str, Path], keyed_iris: Any, tmp_path: Path
) -> None:
    with lookup_service(scoring_store, f"{scored}#{TABLE}", tmp_path, NAME) as service:
        first = keyed_iris.iloc[:1][FEATURES].to_dict(orient="split")
        first.pop("index")
        predicted = service.post("/invocations", {"dataframe_split": first})
        assert predicted.status == 200, predicted.body
        looked_up = service.get("/predictions/1000").json()
        assert predicted.json()["predictions"] == [looked_up["prediction"]]
        assert looked_up["model_version"] == "1"
        api.score(
            f"{NAME}/2", str(iris_files["parquet"]), "id", into=scored, tracking_uri=scoring_store
        )
        assert service.get("/predictions/1000").json()["model_version"] == "2"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--lookup", "{url}#no_such_table"], "--lookup: no table 'no_such_table' in sqlite:///"),
        (["--lookup", "predictions.db"], "--lookup must be a SQLAlchemy URL and a table"),
        (["--lookup", "{url}#iris_predictions__previous"], "no table 'iris_predictions__previous'"),
        ([], "serve needs a MODEL to serve or a --lookup URL#TABLE"),
    ],
)
def test_a_bad_lookup_is_refused_before_serving(
    scored: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    command = [sys.executable, "-m", "jupyter_mlops.cli", "serve", "--port", "0"]
    command += [argument.format(url=scored) for argument in arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr


def test_lookups_from_postgres(
    scoring_store: str, iris_files: dict[str, Path], fresh_postgres_url: str, tmp_path: Path
) -> None:
    api.score(
        NAME, str(iris_files["csv"]), "id", into=fresh_postgres_url, tracking_uri=scoring_store
    )
    with lookup_service(scoring_store, f"{fresh_postgres_url}#{TABLE}", tmp_path) as service:
        answer = service.get("/predictions/1149").json()
        assert (answer["key"], answer["model_version"]) == (1149, "1")
        assert answer["scored_at"].endswith("+00:00")
        assert service.get("/predictions/1150").status == 404
        assert service.get("/predictions/1.5").status == 400
