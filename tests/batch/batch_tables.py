"""Reading predictions tables back in the scoring tests."""

from __future__ import annotations

from typing import Any


def read_table(url: str, table: str) -> Any:
    """The whole table as a DataFrame ordered by key (``id``)."""
    import pandas
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return pandas.read_sql_query(f'SELECT * FROM "{table}" ORDER BY id', connection)
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        return sorted(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()
