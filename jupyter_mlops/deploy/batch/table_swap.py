"""Predictions tables swapped in atomically (SQLAlchemy Core).

A run writes ``<table>__staging_<id>`` (a unique index on the key), then ONE transaction
drops ``<table>__previous``, renames the live table to ``<table>__previous`` and the
staging table to ``<table>``: SQLite and PostgreSQL both run DDL in transactions, so a
reader sees the old table or the new one, never a partial or missing one. Index names
carry the run id (PostgreSQL index names are per schema, not per table).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from jupyter_mlops.deploy.batch.database import database_errors, open_engine
from jupyter_mlops.deploy.batch.scoring import META_COLUMNS, OutputColumn
from jupyter_mlops.errors import DeployError

PREVIOUS = "__previous"
STAGING = "__staging_"
MAX_TABLE_NAME = 40  # + "__staging_<12 hex>" stays within PostgreSQL's 63 characters
TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def new_run_id() -> str:
    """A fresh id naming a run's staging table and its index."""
    return uuid.uuid4().hex[:12]


def staging_name(table: str, run_id: str) -> str:
    """``<table>__staging_<run_id>``."""
    return f"{table}{STAGING}{run_id}"


def previous_name(table: str) -> str:
    """``<table>__previous``: the table the last swap replaced."""
    return table + PREVIOUS


def default_table_name(model: str) -> str:
    """``<model>_predictions``, made a lower-case identifier short enough for staging."""
    base = re.sub(r"\W+", "_", model).strip("_").lower() or "model"
    base = base if base[0].isalpha() else "m_" + base
    return base[: MAX_TABLE_NAME - len("_predictions")] + "_predictions"


def check_table_name(table: str) -> str:
    """``table`` when it is a usable predictions table name, else ``DeployError``."""
    if not TABLE_NAME.fullmatch(table) or len(table) > MAX_TABLE_NAME:
        raise DeployError(
            f"table name '{table}' must be an identifier (letters, digits, _) of at most "
            f"{MAX_TABLE_NAME} characters",
            name=table,
        )
    if table.endswith(PREVIOUS) or STAGING in table:
        raise DeployError(f"table name '{table}' is reserved for swaps", name=table)
    return table


def create_staging(engine: Any, table: str, run_id: str, columns: Sequence[OutputColumn]) -> Any:
    """Create the empty staging table of run ``run_id`` (the first column is the key,
    with a unique index); its SQLAlchemy ``Table``."""
    from sqlalchemy import Column, Index, MetaData, Table

    metadata = MetaData()
    staging = Table(
        staging_name(table, run_id),
        metadata,
        *(Column(column.name, _sql_type(column.kind)) for column in columns),
    )
    Index(f"uq_key_{run_id}", staging.c[columns[0].name], unique=True)
    with engine.begin() as connection:
        metadata.create_all(connection)
    return staging


def insert_rows(engine: Any, staging: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    """Append ``rows`` (plain tuples in column order) to ``staging`` in one transaction:
    PostgreSQL through psycopg's ``COPY`` and SQLite through its driver's ``executemany``,
    both taking the rows as they come; any other database by SQLAlchemy's
    ``executemany`` of the rows as a list."""
    names = [column.name for column in staging.columns]
    with engine.begin() as connection:
        quote = engine.dialect.identifier_preparer.quote
        marks = ", ".join(_placeholders(engine.dialect.paramstyle, len(names)))
        insert = (
            f"INSERT INTO {quote(staging.name)} ({', '.join(map(quote, names))}) VALUES ({marks})"
        )
        if engine.dialect.driver == "psycopg":
            with _as_sqlalchemy_errors(engine, insert):
                _copy_rows(connection, staging.name, names, rows)
        elif engine.dialect.driver == "pysqlite":
            with _as_sqlalchemy_errors(engine, insert):
                cursor = connection.connection.driver_connection.cursor()
                cursor.executemany(insert, rows)
                cursor.close()
        elif engine.dialect.paramstyle == "named":
            named = [{f"p{i}": value for i, value in enumerate(row)} for row in rows]
            if named:
                connection.exec_driver_sql(insert, named)
        elif listed := list(rows):
            connection.exec_driver_sql(insert, listed)


@contextmanager
def _as_sqlalchemy_errors(engine: Any, statement: str) -> Iterator[None]:
    """A driver's own error, from a cursor used directly, as the SQLAlchemy error it would
    be through SQLAlchemy (``IntegrityError`` for a repeated key, …)."""
    from sqlalchemy.exc import DBAPIError

    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        raise DBAPIError.instance(statement, None, error, dbapi_error) from error


def stored_time(engine: Any, when: Any) -> Any:
    """``when`` (an aware UTC datetime) as the database's driver takes it: SQLite gets
    the text SQLAlchemy's ``DateTime`` reads back."""
    if engine.dialect.name == "sqlite":
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    return when


def swap_in(engine: Any, table: str, staging: str) -> str | None:
    """In one transaction: drop ``<table>__previous``, rename ``table`` to it and
    ``staging`` to ``table``; the model version the replaced table held (None when there
    was none). ``DeployError`` when ``table`` exists but was not written by a scoring run."""
    from sqlalchemy import inspect

    with engine.begin() as connection:
        inspector = inspect(connection)
        replaced = None
        if inspector.has_table(table):
            replaced = _table_version(connection, inspector, table)
            _drop(connection, previous_name(table))
            _rename(connection, table, previous_name(table))
        _rename(connection, staging, table)
    return replaced


def drop_table(engine: Any, name: str) -> None:
    """Drop table ``name`` if it exists (a failed run's staging table)."""
    with engine.begin() as connection:
        _drop(connection, name)


def restore_previous(url: str, table: str) -> str | None:
    """Swap ``<table>__previous`` and ``table`` atomically (rollback of a batch deploy);
    the model version now live. ``DeployError`` when there is no previous table."""
    from sqlalchemy import inspect

    check_table_name(table)
    engine = open_engine(url)
    try:
        with database_errors(url, f"restore the previous '{table}'"), engine.begin() as connection:
            inspector = inspect(connection)
            if not inspector.has_table(previous_name(table)):
                raise DeployError(
                    f"table '{table}' has no previous table to restore ({previous_name(table)})",
                    name=table,
                )
            restored = _table_version(connection, inspector, previous_name(table))
            aside = f"{table}__swap_{new_run_id()}"
            live = inspector.has_table(table)
            if live:
                _rename(connection, table, aside)
            _rename(connection, previous_name(table), table)
            if live:
                _rename(connection, aside, previous_name(table))
        return restored
    finally:
        engine.dispose()


def drop_staged(url: str, table: str) -> list[str]:
    """Drop every ``<table>__staging_*`` a killed run left behind; their names."""
    from sqlalchemy import inspect

    check_table_name(table)
    engine = open_engine(url)
    try:
        what = f"drop the staging tables of '{table}'"
        with database_errors(url, what), engine.begin() as connection:
            names = inspect(connection).get_table_names()
            left = [name for name in names if name.startswith(table + STAGING)]
            for name in left:
                _drop(connection, name)
        return left
    finally:
        engine.dispose()


def _table_version(connection: Any, inspector: Any, table: str) -> str | None:
    """The model version ``table`` holds; ``DeployError`` when it is no predictions table."""
    from sqlalchemy import column, select
    from sqlalchemy import table as table_clause

    names = {info["name"] for info in inspector.get_columns(table)}
    if not set(META_COLUMNS) <= names:
        raise DeployError(
            f"table '{table}' exists and is no predictions table (no "
            f"{', '.join(META_COLUMNS)} columns): choose another --table",
            name=table,
        )
    query: Any = select(column("model_version")).select_from(table_clause(table)).limit(1)
    value = connection.execute(query).scalar()
    return None if value is None else str(value)


def _rename(connection: Any, old: str, new: str) -> None:
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"ALTER TABLE {quote(old)} RENAME TO {quote(new)}")


def _drop(connection: Any, name: str) -> None:
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")


def _sql_type(kind: str) -> Any:
    from sqlalchemy import BigInteger, Boolean, DateTime, Float, Text

    types = {"integer": BigInteger, "float": Float(53), "boolean": Boolean, "text": Text}
    return DateTime(timezone=True) if kind == "datetime" else types[kind]


def _placeholders(paramstyle: str, count: int) -> list[str]:
    if paramstyle == "qmark":
        return ["?"] * count
    if paramstyle in ("format", "pyformat"):
        return ["%s"] * count
    if paramstyle == "numeric":
        return [f":{i + 1}" for i in range(count)]
    return [f":p{i}" for i in range(count)]


def _copy_rows(
    connection: Any, table: str, names: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """psycopg's ``COPY … FROM STDIN`` on the connection's own transaction."""
    quote = connection.dialect.identifier_preparer.quote
    copy_sql = f"COPY {quote(table)} ({', '.join(map(quote, names))}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)
