"""Readers polling a predictions table while it is swapped again and again (SQLite and a
real PostgreSQL) see the old table or the new one: always every row, one model version,
never a partial, empty or missing table."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.deploy.batch import table_swap
from jupyter_mlops.deploy.batch.database import open_engine
from jupyter_mlops.deploy.batch.scoring import OutputColumn, scoring_time

TABLE = "swapped"
ROWS = 3000
SWAPS = 25
COUNT = f"SELECT count(*), min(model_version), max(model_version) FROM {TABLE}"
COLUMNS = [
    OutputColumn("id", "integer"),
    OutputColumn("prediction", "integer"),
    OutputColumn("proba_1", "float"),
    OutputColumn("model_name", "text"),
    OutputColumn("model_version", "text"),
    OutputColumn("scored_at", "datetime"),
]


def build_and_swap(engine: Any, version: str) -> None:
    """A staging table of ``ROWS`` rows of ``version``, swapped in."""
    run_id = table_swap.new_run_id()
    staging = table_swap.create_staging(engine, TABLE, run_id, COLUMNS)
    when = table_swap.stored_time(engine, scoring_time())
    for start in range(0, ROWS, 1000):  # several transactions, as chunks are written
        rows = [(i, i % 3, 0.5, "m", version, when) for i in range(start, start + 1000)]
        table_swap.insert_rows(engine, staging, rows)
    table_swap.swap_in(engine, TABLE, staging.name)


def sqlite_reader(url: str) -> Callable[[], tuple[Any, ...]]:
    import sqlite3

    connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
    return lambda: tuple(connection.execute(COUNT).fetchone())


def postgres_reader(url: str) -> Callable[[], tuple[Any, ...]]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    connection = psycopg.connect(dsn, autocommit=True)
    return lambda: tuple(connection.execute(COUNT).fetchone() or ())


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_readers_see_a_whole_table_during_swaps(
    database: str, tmp_path: Path, fresh_postgres_url: str
) -> None:
    url = fresh_postgres_url if database == "postgresql" else f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_engine(url)
    build_and_swap(engine, "0")
    connect = postgres_reader if database == "postgresql" else sqlite_reader
    seen: list[tuple[Any, ...]] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def poll() -> None:
        read = connect(url)  # its own connection, made in the reading thread
        while not done.is_set():
            try:
                seen.append(read())
            except Exception as error:  # a missing table, a lock error: recorded, stop
                failures.append(error)
                return

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for swap in range(1, SWAPS + 1):
            build_and_swap(engine, str(swap))
    finally:
        done.set()
        reader.join(60)
        engine.dispose()
    assert not reader.is_alive()
    assert failures == []
    assert seen, "the reader made no observation"
    partial = [row for row in seen if row[0] != ROWS or row[1] != row[2]]
    assert partial == []
    versions = [int(row[1]) for row in seen]
    assert versions == sorted(versions)  # never an older table after a newer one
    assert table_swap.previous_name(TABLE) in _tables(url)


def _tables(url: str) -> list[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        return sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()
