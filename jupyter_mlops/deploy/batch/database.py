"""The database a scoring run writes into: a SQLAlchemy engine whose transactions cover
DDL too (so a table swap is atomic), the URL shown with its password masked, and
database errors turned into ``DeployError`` naming that URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_mlops.errors import DeployError

DRIVER_HINT = (
    "install the database's Python driver into this environment (PostgreSQL: "
    "pip install 'psycopg[binary]')"
)


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``; the text itself when it is no URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_engine(url: str, writing: bool = True) -> Any:
    """A SQLAlchemy engine on ``url``; ``DeployError`` naming the URL when it is malformed
    or its driver is not installed. SQLite files get WAL journaling (readers go on reading
    while a run writes) and explicit ``BEGIN`` so that DDL is transactional: ``BEGIN
    IMMEDIATE`` (the write lock up front) when ``writing``, a plain ``BEGIN`` for readers."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = masked_url(url)
    try:
        engine = create_engine(url)
    except NoSuchModuleError as error:
        raise DeployError(f"no SQLAlchemy dialect for {shown}: {error}", path=shown) from None
    except ArgumentError as error:
        raise DeployError(f"'{shown}' is not a database URL: {error}", path=shown) from None
    except ModuleNotFoundError as error:
        raise DeployError(
            f"cannot open {shown}: no module '{error.name}'; {DRIVER_HINT}", path=shown
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connected)
        event.listen(engine, "begin", _sqlite_begin_writing if writing else _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, record: Any) -> None:
    """pysqlite would run DDL outside any transaction; take the transactions over."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin_writing(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


@contextmanager
def database_errors(url: str, what: str) -> Iterator[None]:
    """SQLAlchemy and driver errors while doing ``what`` become ``DeployError`` naming
    the (masked) URL and the database's own message."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    try:
        yield
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        shown = masked_url(url)
        raise DeployError(f"cannot {what} in {shown}: {reason}", path=shown) from None
    except SQLAlchemyError as error:
        shown = masked_url(url)
        raise DeployError(f"cannot {what} in {shown}: {error}", path=shown) from None
