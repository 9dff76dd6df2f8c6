"""``api.score`` end to end: a real MLflow store, sealed registered versions, Parquet, CSV
and SQL sources, SQLite and a real PostgreSQL. Predictions are compared with MLflow's
pyfunc (class labels) and the version's own ``predict_proba`` on the same rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from batch_names import FEATURES, NAME
from batch_tables import read_table, table_names

from jupyter_mlops import api
from jupyter_mlops.deploy.batch.table_summary import table_summary

TABLE = "iris_predictions"


def expected(uri: str, version: str, frame: Any) -> tuple[Any, Any]:
    """pyfunc's predictions and the sklearn model's probabilities on ``frame``."""
    import mlflow.pyfunc
    import mlflow.sklearn

    model_uri = f"models:/{NAME}/{version}"
    labels = mlflow.pyfunc.load_model(model_uri).predict(frame[FEATURES])
    probabilities = mlflow.sklearn.load_model(model_uri).predict_proba(frame[FEATURES])
    return labels, probabilities


def check_scores(url: str, uri: str, version: str, keyed: Any, monkeypatch: Any) -> Any:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    table = read_table(url, TABLE)
    labels, probabilities = expected(uri, version, keyed)
    assert table["id"].tolist() == keyed["id"].tolist()
    assert table["prediction"].tolist() == labels.tolist()
    for column, klass in enumerate(["proba_0", "proba_1", "proba_2"]):
        assert table[klass].tolist() == probabilities[:, column].tolist()
    assert set(table["model_name"]) == {NAME} and set(table["model_version"]) == {version}
    assert table["scored_at"].nunique() == 1
    return table


def test_parquet_into_sqlite(
    scoring_store: str, iris_files: dict[str, Path], keyed_iris: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = f"sqlite:///{tmp_path / 'predictions.db'}"
    progress: list[tuple[int, int | None]] = []
    result = api.score(
        NAME, str(iris_files["parquet"]), "id", into=url, chunk_rows=40,
        tracking_uri=scoring_store, progress=lambda rows, total: progress.append((rows, total)),
    )  # fmt: skip
    assert (result.model, result.version, result.table, result.rows) == (NAME, "1", TABLE, 150)
    assert result.previous_version is None
    assert progress == [(40, 150), (80, 150), (120, 150), (150, 150)]
    check_scores(url, scoring_store, "1", keyed_iris, monkeypatch)
    assert table_names(url) == [TABLE]
    summary = table_summary(url, TABLE)
    assert summary is not None
    assert (summary.rows, summary.model_version, summary.null_predictions) == (150, "1", 0)
    assert sum(summary.prediction_counts.values()) == 150  # type: ignore[union-attr]
    assert summary.scored_at == result.scored_at


def test_csv_into_postgres(
    scoring_store: str, iris_files: dict[str, Path], keyed_iris: Any, fresh_postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    result = api.score(
        f"{NAME}/2", str(iris_files["csv"]), "id", into=fresh_postgres_url, chunk_rows=64,
        tracking_uri=scoring_store,
    )  # fmt: skip
    assert (result.version, result.rows) == ("2", 150)
    check_scores(fresh_postgres_url, scoring_store, "2", keyed_iris, monkeypatch)
    summary = table_summary(fresh_postgres_url, TABLE)
    assert summary is not None and summary.model_version == "2"
    assert summary.scored_at == result.scored_at


def test_sql_query_source(
    scoring_store: str, keyed_iris: Any, fresh_postgres_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A query on a SQLite database scored into PostgreSQL, one on PostgreSQL (server-side
    cursor) into SQLite, and one on a SQLite file into the same file."""
    import sqlalchemy

    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    for url in (source_url, fresh_postgres_url):
        engine = sqlalchemy.create_engine(url)
        keyed_iris.to_sql("flowers", engine, index=False)
        engine.dispose()
    query = "SELECT * FROM flowers WHERE id >= 1000 ORDER BY id"
    into_sqlite = f"sqlite:///{tmp_path / 'predictions.db'}"
    pairs = [(source_url, fresh_postgres_url), (fresh_postgres_url, into_sqlite)]
    for source, into in [*pairs, (source_url, source_url)]:  # last: read and write one file
        result = api.score(
            NAME, source, "id", query=query, into=into, chunk_rows=50, tracking_uri=scoring_store
        )
        assert result.rows == 150
        check_scores(into, scoring_store, "1", keyed_iris, monkeypatch)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_swap_keeps_previous_and_restore_brings_it_back(
    database: str, scoring_store: str, iris_files: dict[str, Path], tmp_path: Path,
    fresh_postgres_url: str,
) -> None:  # fmt: skip
    from jupyter_mlops.deploy.batch.table_swap import restore_previous

    url = fresh_postgres_url if database == "postgresql" else f"sqlite:///{tmp_path / 'p.db'}"
    source = str(iris_files["parquet"])
    for version, replaced in (("1", None), ("2", "1"), ("1", "2")):
        result = api.score(f"{NAME}/{version}", source, "id", into=url, tracking_uri=scoring_store)
        assert result.previous_version == replaced
    assert table_names(url) == [TABLE, TABLE + "__previous"]
    assert restore_previous(url, TABLE) == "2"
    live, previous = table_summary(url, TABLE), table_summary(url, TABLE + "__previous")
    assert live is not None and previous is not None
    assert (live.model_version, live.rows, previous.model_version) == ("2", 150, "1")
    assert restore_previous(url, TABLE) == "1"
    assert table_summary(url, TABLE).model_version == "1"  # type: ignore[union-attr]


def test_sqlite_default_table_name_and_reader_file(
    scoring_store: str, iris_files: dict[str, Path], tmp_path: Path
) -> None:
    """The default table name comes from the model; plain sqlite3 reads what was written."""
    db = tmp_path / "out.db"
    result = api.score(
        f"{NAME}@production", str(iris_files["csv"]), "id", into=f"sqlite:///{db}",
        tracking_uri=scoring_store,
    )  # fmt: skip
    assert result.table == TABLE
    with sqlite3.connect(db) as connection:
        rows = connection.execute(f"SELECT count(*), min(model_version) FROM {TABLE}").fetchone()
    assert rows == (150, "1")


def test_drop_staged_and_restore_without_previous(tmp_path: Path) -> None:
    from jupyter_mlops.deploy.batch import table_swap
    from jupyter_mlops.deploy.batch.database import open_engine
    from jupyter_mlops.deploy.batch.scoring import OutputColumn
    from jupyter_mlops.errors import DeployError

    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_engine(url)
    staging = table_swap.create_staging(engine, TABLE, "abc123", [OutputColumn("id", "integer")])
    engine.dispose()
    assert table_swap.drop_staged(url, TABLE) == [staging.name] == [TABLE + "__staging_abc123"]
    assert table_names(url) == []
    with pytest.raises(DeployError, match="has no previous table to restore"):
        table_swap.restore_previous(url, TABLE)
