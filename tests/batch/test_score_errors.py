"""Every way a scoring run can fail leaves the live table as it was and no staging table:
bad input (a missing or wrong-typed column, a bad key, a bad table name, an unreadable
source or database), a model raising midway, Ctrl-C. Through the CLI's ``main`` (one
line on stderr, exit 2 for bad input, 1 for a failed run) or ``api.score``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from batch_names import BROKEN, NAME
from batch_tables import read_table, table_names

from jupyter_mlops import api
from jupyter_mlops.cli.main import main
from jupyter_mlops.errors import DeployError

TABLE = "iris_predictions"


@pytest.fixture
def live(scoring_store: str, iris_files: dict[str, Path], tmp_path: Path) -> tuple[str, Any]:
    """A database holding a live ``iris_predictions`` table (version 1): (URL, its rows)."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    api.score(NAME, str(iris_files["parquet"]), "id", into=url, tracking_uri=scoring_store)
    return url, read_table(url, TABLE)


def score_cli(store: str, url: str, source: Path | str, *args: str) -> int:
    return main(["score", *args, "--input", str(source), "--into", url,
                 "--tracking-uri", store, "--table", TABLE, "--chunk-rows", "40"])  # fmt: skip


def assert_unchanged(url: str, rows: Any, tables: tuple[str, ...] = (TABLE,)) -> None:
    assert table_names(url) == sorted(tables)  # no staging table, no new previous
    assert read_table(url, TABLE).equals(rows)


def test_missing_column(
    live: tuple[str, Any], scoring_store: str, keyed_iris: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    url, rows = live
    source = tmp_path / "short.parquet"
    keyed_iris.drop(columns="petal width (cm)").to_parquet(source, index=False)
    assert score_cli(scoring_store, url, source, NAME, "--key", "id") == 2
    error = capsys.readouterr().err
    assert "column 'petal width (cm)' is missing from" in error and str(source) in error
    assert_unchanged(url, rows)


def test_wrong_type_in_a_later_chunk(
    live: tuple[str, Any], scoring_store: str, keyed_iris: Any, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Chunks 1-3 are fine; chunk 4 holds text in a number column (as CSV reads it)."""
    url, rows = live
    frame = keyed_iris.astype({"sepal width (cm)": object})
    frame.loc[140, "sepal width (cm)"] = "n/a?"
    source = tmp_path / "typed.csv"
    frame.to_csv(source, index=False)
    assert score_cli(scoring_store, url, source, NAME, "--key", "id") == 2
    error = capsys.readouterr().err
    assert "column 'sepal width (cm)' of " in error and "the model takes double" in error
    assert_unchanged(url, rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="id"), "key column 'id' is missing from"),
        (lambda f: f.assign(id=f["id"].where(f.index != 3)), "key column 'id' has 1 null"),
        (lambda f: f.assign(id=f["id"].where(f.index != 7, 1000)), "repeats the value 1000"),
        (lambda f: f.assign(id=f["id"].where(f.index != 100, 1000)), "repeats values across"),
    ],
    ids=["missing", "null", "repeated-in-chunk", "repeated-across-chunks"],
)
def test_bad_key(
    change: Any, message: str, live: tuple[str, Any], scoring_store: str, keyed_iris: Any,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    url, rows = live
    source = tmp_path / "keys.parquet"
    change(keyed_iris).to_parquet(source, index=False)
    assert score_cli(scoring_store, url, source, NAME, "--key", "id") == 2
    assert message in capsys.readouterr().err
    assert_unchanged(url, rows)


def test_model_raising_midway(
    live: tuple[str, Any], scoring_store: str, iris_files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    url, rows = live
    assert score_cli(scoring_store, url, iris_files["parquet"], BROKEN, "--key", "id") == 1
    error = capsys.readouterr().err
    assert f"version 1 of model '{BROKEN}' failed" in error and "broken on purpose" in error
    assert_unchanged(url, rows)


def test_interrupted_midway(
    live: tuple[str, Any], scoring_store: str, iris_files: dict[str, Path]
) -> None:
    """Ctrl-C after the first chunk (raised from the progress callback)."""
    url, rows = live

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.score(
            f"{NAME}/2", str(iris_files["parquet"]), "id", into=url, chunk_rows=40,
            tracking_uri=scoring_store, progress=interrupt,
        )  # fmt: skip
    assert_unchanged(url, rows)


def test_foreign_table_is_not_replaced(
    scoring_store: str, iris_files: dict[str, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import sqlite3

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as connection:
        connection.execute(f"CREATE TABLE {TABLE} (id INTEGER, label TEXT)")
    url = f"sqlite:///{db}"
    assert score_cli(scoring_store, url, iris_files["parquet"], NAME, "--key", "id") == 2
    assert "exists and is no predictions table" in capsys.readouterr().err
    assert table_names(url) == [TABLE]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "drop table;"], "table name 'drop table;' must be an identifier"),
        (["--table", "x__previous"], "table name 'x__previous' is reserved"),
        (["--input", "rows.json"], "expected a .parquet or .csv file"),
        (["--input", "missing.csv"], "cannot read missing.csv"),
        (["--into", "mysql://u:secret@127.0.0.1/db"], "mysql://u:***@127.0.0.1/db"),
        (["--into", "not a url"], "'not a url' is not a database URL"),
        (["--chunk-rows", "0"], "chunk size must be at least 1 row"),
    ],
)
def test_bad_arguments(
    args: list[str], message: str, scoring_store: str, iris_files: dict[str, Path],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    base = {"--input": str(iris_files["parquet"]), "--into": f"sqlite:///{tmp_path / 'p.db'}"}
    base |= {"--table": TABLE, "--chunk-rows": "40"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["score", NAME, "--key", "id", "--tracking-uri", scoring_store]
    assert main([*argv, *(item for pair in base.items() for item in pair)]) == 2
    error = capsys.readouterr().err
    assert message in error and "secret" not in error
    assert not (tmp_path / "p.db").exists() or table_names(f"sqlite:///{tmp_path / 'p.db'}") == []


def test_unknown_version(scoring_store: str, iris_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(Exception, match="has no version 9"):
        api.score(f"{NAME}/9", str(iris_files["parquet"]), "id",
                  into=f"sqlite:///{tmp_path / 'p.db'}", tracking_uri=scoring_store)  # fmt: skip


def test_no_rows(scoring_store: str, keyed_iris: Any, tmp_path: Path) -> None:
    source = tmp_path / "empty.parquet"
    keyed_iris.iloc[:0].to_parquet(source, index=False)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(DeployError, match="has no rows to score"):
        api.score(NAME, str(source), "id", into=url, tracking_uri=scoring_store)
    assert table_names(url) == []


def test_a_key_repeated_across_chunks_into_postgres(
    scoring_store: str, keyed_iris: Any, fresh_postgres_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The unique index catches it through COPY too: exit 2 naming the key, nothing left."""
    source = tmp_path / "keys.parquet"
    keyed_iris.assign(id=keyed_iris["id"].where(keyed_iris.index != 100, 1000)).to_parquet(
        source, index=False
    )
    assert score_cli(scoring_store, fresh_postgres_url, source, NAME, "--key", "id") == 2
    assert "key column 'id' repeats values across" in capsys.readouterr().err
    assert table_names(fresh_postgres_url) == []
