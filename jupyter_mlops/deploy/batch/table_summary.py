"""What a predictions table holds, read back for verification and the panel: row count,
model version(s), scoring time, null predictions and the prediction counts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from jupyter_mlops.deploy.batch.database import database_errors, open_engine
from jupyter_mlops.deploy.batch.scoring import PREDICTION

MAX_COUNTED_VALUES = 100  # more distinct predictions (a regression): no counts


@dataclass(frozen=True)
class TableSummary:
    """A predictions table: ``versions`` maps model version → rows (one entry after a
    scoring run); ``prediction_counts`` maps each prediction (as text) → rows, None when
    there are more than ``MAX_COUNTED_VALUES`` distinct predictions."""

    table: str
    rows: int
    model_name: str | None
    model_version: str | None
    versions: dict[str, int]
    scored_at: str | None
    null_predictions: int
    prediction_counts: dict[str, int] | None

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return asdict(self)


def table_summary(url: str, table: str) -> TableSummary | None:
    """The summary of ``table`` in the database at ``url``; None when there is no such
    table. ``DeployError`` naming the URL when the database cannot be read."""
    from sqlalchemy import inspect

    engine = open_engine(url, writing=False)
    try:
        with database_errors(url, f"read table '{table}'"), engine.connect() as connection:
            if not inspect(connection).has_table(table):
                return None
            return _summary(connection, table)
    finally:
        engine.dispose()


def _summary(connection: Any, table: str) -> TableSummary:
    from sqlalchemy import column, func, select
    from sqlalchemy import table as table_clause

    source = table_clause(table)
    name: Any = column("model_name")
    version: Any = column("model_version")
    scored_at: Any = column("scored_at")
    prediction: Any = column(PREDICTION)
    by_version = select(name, version, func.count()).select_from(source).group_by(name, version)
    versions = connection.execute(by_version).all()
    latest = connection.execute(select(func.max(scored_at)).select_from(source)).scalar()
    nulls = select(func.count()).select_from(source).where(prediction.is_(None))
    counts_query = (
        select(prediction, func.count())
        .select_from(source)
        .where(prediction.is_not(None))
        .group_by(prediction)
        .limit(MAX_COUNTED_VALUES + 1)
    )
    counts = {str(value): int(rows) for value, rows in connection.execute(counts_query)}
    return TableSummary(
        table=table,
        rows=sum(int(rows) for _, _, rows in versions),
        model_name=str(versions[0][0]) if len(versions) == 1 else None,
        model_version=str(versions[0][1]) if len(versions) == 1 else None,
        versions={str(v): int(rows) for _, v, rows in versions},
        scored_at=None if latest is None else _iso(latest),
        null_predictions=int(connection.execute(nulls).scalar() or 0),
        prediction_counts=counts if len(counts) <= MAX_COUNTED_VALUES else None,
    )


def _iso(value: Any) -> str:
    """A stored time as ISO 8601 text (SQLite returns the stored text)."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.isoformat())
