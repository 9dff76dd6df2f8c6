"""Serving as data: ``GET /predictions/{key}`` answered from a predictions table (``jupyter
mlops score`` or a batch deploy wrote it; its first column is the key).

``--lookup URL#TABLE`` names the table. A small SQLAlchemy connection pool reads one row
per request in a worker thread (the event loop never waits on the database). The key in
the path is typed by the key column's SQL type: an integer column refuses ``abc`` with a
400 naming the column. A key with no row is a 404 naming the key. The table may be swapped
under the service at any time (an atomic rename): each lookup reads the table by name,
so it answers from the old table or the new one, never a partial one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jupyter_mlops.deploy.serving.request_error import RESOURCE_DOES_NOT_EXIST, RequestError
from jupyter_mlops.deploy.serving.service import Reply, error_reply, json_reply
from jupyter_mlops.errors import DeployError

LOOKUP_PATH = "/predictions/"
PREDICTION = "prediction"
PROBA_PREFIX = "proba_"
META_COLUMNS = ("model_name", "model_version", "scored_at")
POOL_SIZE = 4
MAX_KEY_LENGTH = 1000


@dataclass(frozen=True)
class LookupSource:
    """The table ``table`` of the database at SQLAlchemy URL ``url``."""

    url: str
    table: str

    @classmethod
    def parse(cls, text: str) -> LookupSource:
        """``URL#TABLE``; ``DeployError`` naming ``--lookup`` when it is not one."""
        url, _, table = text.rpartition("#")
        if not url or "://" not in url or not table.replace("_", "a").isalnum():
            raise DeployError(
                f"--lookup must be a SQLAlchemy URL and a table, URL#TABLE (e.g. "
                f"sqlite:///predictions.db#churn_predictions), not '{_masked(text)}'",
                name="lookup",
            )
        return cls(url, table)

    @property
    def shown(self) -> str:
        """``URL#TABLE`` with the URL's password masked."""
        return f"{_masked(self.url)}#{self.table}"


@dataclass(frozen=True)
class KeyColumn:
    """The table's key column and the Python type its values have (int, float or str)."""

    name: str
    kind: type


class PredictionLookup:
    """Reads predictions by key from one table through a small connection pool."""

    def __init__(self, source: LookupSource) -> None:
        self.source = source
        self.engine: Any = None
        self.key: KeyColumn | None = None

    def open(self) -> PredictionLookup:
        """Connect and read the key column; ``DeployError`` naming the table when it is
        missing or is no predictions table."""
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            self.engine = create_engine(
                self.source.url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE
            )
        except (ArgumentError, NoSuchModuleError, ModuleNotFoundError, TypeError) as error:
            raise DeployError(
                f"--lookup: cannot open {self.source.shown}: {error}", name="lookup"
            ) from None
        try:
            self.key = self._key_column()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the pool's connections."""
        if self.engine is not None:
            self.engine.dispose()

    def _key_column(self) -> KeyColumn:
        from sqlalchemy import Boolean, Float, Integer, Numeric, inspect
        from sqlalchemy.exc import SQLAlchemyError

        table, shown = self.source.table, self.source.shown
        try:
            with self.engine.connect() as connection:
                inspector = inspect(connection)
                if not inspector.has_table(table):
                    raise DeployError(f"--lookup: no table '{table}' in {shown}", name=table)
                columns = inspector.get_columns(table)
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise DeployError(f"--lookup: cannot read {shown}: {reason}", name=table) from None
        names = [column["name"] for column in columns]
        if PREDICTION not in names or not set(META_COLUMNS) <= set(names):
            raise DeployError(
                f"--lookup: table '{table}' of {shown} is no predictions table (no "
                f"{PREDICTION}, {', '.join(META_COLUMNS)} columns)",
                name=table,
            )
        sql_type = columns[0]["type"]
        kind: type = str
        if isinstance(sql_type, Integer) and not isinstance(sql_type, Boolean):
            kind = int
        elif isinstance(sql_type, Float | Numeric):
            kind = float
        return KeyColumn(names[0], kind)

    def typed_key(self, text: str) -> Any:
        """The path's key as the key column's type; a 400 naming the column when it is not."""
        key = self.key
        assert key is not None, "open() first"
        if not text or len(text) > MAX_KEY_LENGTH:
            raise RequestError(400, "BAD_REQUEST", "the key is empty or too long")
        try:
            return key.kind(text)
        except ValueError:
            raise RequestError(
                400,
                "BAD_REQUEST",
                f"key '{text}' is not a valid {_type_name(key.kind)} (key column "
                f"'{key.name}' of table '{self.source.table}')",
            ) from None

    def find(self, key: Any) -> dict[str, Any] | None:
        """The row of ``key`` as the answer's JSON object; None when there is none."""
        from sqlalchemy import text

        assert self.key is not None, "open() first"
        quote = self.engine.dialect.identifier_preparer.quote
        query = text(
            f"SELECT * FROM {quote(self.source.table)} WHERE {quote(self.key.name)} = :key"
        )
        with self.engine.connect() as connection:
            row = connection.execute(query, {"key": key}).mappings().first()
        return None if row is None else answer_json(self.key.name, dict(row))

    async def answer(self, raw_key: str) -> Reply:
        """``GET /predictions/{key}``: 200 with the row, 404 naming the key, 400 for a
        key the key column cannot hold."""
        try:
            key = self.typed_key(raw_key)
        except RequestError as error:
            return error_reply(error)
        found = await asyncio.to_thread(self.find, key)
        if found is None:
            message = f"no prediction for key '{raw_key}' in table '{self.source.table}'"
            return error_reply(RequestError(404, RESOURCE_DOES_NOT_EXIST, message))
        return json_reply(200, found)

    def describe(self) -> dict[str, Any]:
        """The lookup table, for ``/version``."""
        return {
            "table": self.source.table,
            "url": _masked(self.source.url),
            "key": self.key.name if self.key else None,
        }


def answer_json(key_column: str, row: dict[str, Any]) -> dict[str, Any]:
    """``{"key", "prediction", "probabilities" (when the table has them), "model_name",
    "model_version", "scored_at"}`` of a table row."""
    probabilities = {
        name.removeprefix(PROBA_PREFIX): value
        for name, value in row.items()
        if name.startswith(PROBA_PREFIX)
    }
    answer: dict[str, Any] = {"key": row[key_column], "prediction": _plain(row[PREDICTION])}
    if probabilities:
        answer["probabilities"] = probabilities
    answer["model_name"] = row["model_name"]
    answer["model_version"] = None if row["model_version"] is None else str(row["model_version"])
    answer["scored_at"] = _iso(row["scored_at"])
    return answer


def _plain(value: Any) -> Any:
    """A JSON-encodable value: a float NaN (PostgreSQL keeps it) becomes null."""
    if isinstance(value, float) and value != value:
        return None
    return value


def _iso(value: Any) -> str | None:
    """A stored time as ISO 8601 UTC text (SQLite gives back the stored text)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(moment.isoformat())


def _type_name(kind: type) -> str:
    return {int: "integer", float: "number"}.get(kind, "text")


def _masked(text: str) -> str:
    from jupyter_mlops.deploy.batch.database import masked_url

    url, hash_sign, table = text.rpartition("#")
    return f"{masked_url(url)}#{table}" if hash_sign else masked_url(text)


def check_lookup(text: str) -> LookupSource:
    """``--lookup URL#TABLE`` checked before the service starts: the table is there and
    is a predictions table; ``DeployError`` naming what is wrong."""
    source = LookupSource.parse(text)
    PredictionLookup(source).open().close()
    return source
