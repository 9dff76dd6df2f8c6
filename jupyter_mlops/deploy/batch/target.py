"""The ``batch`` deploy target: serving as data, a key → prediction table scored by a
version and swapped in when its verification passes.

::

    deploy:
      nightly:
        kind: batch
        model: churn                    # the registered model (default: the pipeline's one)
        alias: production               # the alias the live table's version holds
        input: customers.parquet        # a Parquet/CSV file (relative: to the pipeline
                                        # folder), or a SQLAlchemy URL with `query`
        query: SELECT * FROM customers  # with a URL input: the rows to score
        key: customer_id                # the input column the table is keyed by
        into: sqlite:///predictions.db  # where the table lives (default: this, in the
                                        # pipeline folder)
        table: churn_predictions        # default: <model>_predictions
        chunk_rows: 100000              # rows scored per chunk (memory bound)
        verification: {min_rows: 1000, max_null_fraction: 0, max_prediction_drift: 0.2}
        auto: false                     # deploy after a validated run

Verification defaults: every input row scored (``min_rows`` None), no null prediction,
prediction drift against the live table reported, not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from jupyter_mlops.deploy.batch.database import masked_url
from jupyter_mlops.deploy.batch.runner import DEFAULT_CHUNK_ROWS, DEFAULT_INTO
from jupyter_mlops.deploy.target_base import TargetBase
from jupyter_mlops.deploy.target_fields import (
    common_settings,
    count,
    fail,
    fraction,
    known_keys,
    text,
)

BATCH_KEYS = (
    "kind",
    "model",
    "alias",
    "input",
    "query",
    "key",
    "into",
    "table",
    "chunk_rows",
    "verification",
    "auto",
)
VERIFICATION_KEYS = ("min_rows", "max_null_fraction", "max_prediction_drift")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class BatchTarget(TargetBase):
    """A table ``table`` at ``into`` holding a prediction per ``key`` of ``input``."""

    kind: ClassVar[str] = "batch"
    key: str
    input: str  # a file path, or a SQLAlchemy URL read with ``query``
    query: str | None = None
    into: str = DEFAULT_INTO
    table: str | None = None  # None: ``<model>_predictions``
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    min_rows: int | None = None  # None: every input row must be scored
    max_null_fraction: float = 0.0
    max_prediction_drift: float | None = None  # None: reported, not checked

    @property
    def input_is_url(self) -> bool:
        """Whether ``input`` is a database URL (read with ``query``) rather than a file."""
        return is_url(self.input)

    def in_folder(self, folder: Path) -> BatchTarget:
        """The target with its relative file and SQLite paths resolved against ``folder``."""
        folder = folder.absolute()
        source = self.input if self.input_is_url else str(folder / Path(self.input).expanduser())
        return replace(
            self,
            input=sqlite_in_folder(source, folder),
            into=sqlite_in_folder(self.into, folder),
        )

    def verification_json(self) -> dict[str, Any]:
        """The verification thresholds as JSON."""
        return {key: getattr(self, key) for key in VERIFICATION_KEYS}

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON (passwords in URLs masked)."""
        return {
            **self.common_json(),
            "input": masked_url(self.input) if self.input_is_url else self.input,
            "query": self.query,
            "key": self.key,
            "into": masked_url(self.into),
            "table": self.table,
            "chunk_rows": self.chunk_rows,
            "verification": self.verification_json(),
            "auto": self.auto,
        }


def parse_batch(name: str, settings: dict[str, Any], where: str) -> BatchTarget:
    """A ``batch`` target; errors name ``deploy.<name>.<key>``."""
    known_keys(settings, where, BATCH_KEYS)
    source = _required_text(settings, "input", where)
    query = text(settings.get("query"), f"{where}.query")
    if is_url(source):
        url(source, f"{where}.input")
        if query is None:
            raise fail(
                f"{where}.query",
                f"is required to read rows from the database {masked_url(source)!r}",
            )
    elif query is not None:
        raise fail(f"{where}.query", "applies to a database URL input, not to a file")
    elif Path(source).suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise fail(f"{where}.input", f"must be a .parquet or .csv file or a URL, not {source!r}")
    checks = _verification(settings.get("verification"), f"{where}.verification")
    return BatchTarget(
        name=name,
        key=_required_text(settings, "key", where),
        input=source,
        query=query,
        into=url(settings.get("into", DEFAULT_INTO), f"{where}.into"),
        table=table_name(settings.get("table"), f"{where}.table"),
        chunk_rows=count(settings, "chunk_rows", where, DEFAULT_CHUNK_ROWS, 1),
        **common_settings(settings, where),
        **checks,
    )


def _verification(value: Any, where: str) -> dict[str, Any]:
    """The ``verification`` mapping's thresholds (absent: the defaults)."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise fail(where, f"must be a mapping, not {value!r}")
    known_keys(value, where, VERIFICATION_KEYS)
    given = value.get("min_rows")
    return {
        "min_rows": None if given is None else count(value, "min_rows", where, 0, 0),
        "max_null_fraction": fraction(value, "max_null_fraction", where, 0.0),
        "max_prediction_drift": fraction(value, "max_prediction_drift", where, None),
    }


def _required_text(settings: dict[str, Any], key: str, where: str) -> str:
    value = text(settings.get(key), f"{where}.{key}")
    if value is None:
        raise fail(f"{where}.{key}", "is required for a batch target")
    return value


def table_name(value: Any, where: str) -> str | None:
    """A predictions table name (``table_swap.check_table_name``), or None."""
    from jupyter_mlops.deploy.batch.table_swap import check_table_name
    from jupyter_mlops.errors import DeployError

    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(where, f"must be a table name, not {value!r}")
    try:
        return check_table_name(value)
    except DeployError as error:
        raise fail(where, error.message.removeprefix(f"table name '{value}' ")) from None


def url(value: Any, where: str) -> str:
    """A SQLAlchemy database URL, e.g. ``sqlite:///predictions.db``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(value, str) or not is_url(value):
        raise fail(
            where, f"must be a SQLAlchemy URL (e.g. sqlite:///predictions.db), not {value!r}"
        )
    try:
        make_url(value)
    except (ArgumentError, ValueError):
        raise fail(where, f"is not a valid SQLAlchemy URL: {masked_url(value)!r}") from None
    return value


def is_url(value: str) -> bool:
    """Whether ``value`` starts with a URL scheme (``sqlite://``, ``postgresql+psycopg://``)."""
    return bool(_URL.match(value))


def sqlite_in_folder(value: str, folder: Path) -> str:
    """A ``sqlite:///relative.db`` URL made absolute against ``folder``; others unchanged."""
    from sqlalchemy.engine import make_url

    if not value.startswith("sqlite"):
        return value
    parsed = make_url(value)
    database = parsed.database
    if not database or database == ":memory:" or Path(database).is_absolute():
        return value
    return parsed.set(database=str(folder / database)).render_as_string(hide_password=False)
