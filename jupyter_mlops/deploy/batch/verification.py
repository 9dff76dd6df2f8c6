"""The checks of a batch deploy, made on the full staging table before it is swapped in.

- ``rows``: the staging table holds every row scored, and at least ``min_rows`` when set;
- ``null_predictions``: the share of null (or NaN) predictions is at most
  ``max_null_fraction``;
- ``prediction_drift``: the Jensen–Shannon distance (base 2) between the staging table's
  prediction distribution and the live table's: counts per predicted label, or for numeric
  predictions with many values, counts over ``DRIFT_BINS`` bins spanning the live table's
  range. Checked against ``max_prediction_drift`` when set, else reported and passed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy.batch.database import database_errors, open_engine
from jupyter_mlops.deploy.batch.scoring import PREDICTION
from jupyter_mlops.deploy.batch.table_summary import TableSummary, table_summary
from jupyter_mlops.deploy.rollout.analysis import PREDICTION_DRIFT, Check, js_distance

if TYPE_CHECKING:
    from jupyter_mlops.deploy.batch.target import BatchTarget

ROWS = "rows"
NULL_PREDICTIONS = "null_predictions"
DRIFT_BINS = 20
NAN_TEXTS = frozenset({"nan", "NaN"})


def verify_staged(
    target: BatchTarget, url: str, staged: str, live: str, scored_rows: int
) -> list[Check]:
    """The checks of staging table ``staged`` (``scored_rows`` rows scored into it) against
    ``target``'s thresholds and the live table ``live`` (absent on a first deploy)."""
    summary = table_summary(url, staged)
    if summary is None:  # the runner created it: gone means someone dropped it
        return [Check(ROWS, 0, scored_rows, False, f"staging table '{staged}' is gone")]
    reference = table_summary(url, live)
    return [
        rows_check(summary.rows, scored_rows, target.min_rows),
        null_check(summary, target.max_null_fraction),
        drift_check(url, summary, reference, target.max_prediction_drift),
    ]


def rows_check(stored: int, scored: int, min_rows: int | None) -> Check:
    """Every scored row stored, and at least ``min_rows`` (None: every input row)."""
    if stored != scored:
        return Check(ROWS, stored, scored, False, f"{scored} rows scored, {stored} stored")
    if min_rows is None:
        return Check(ROWS, stored, scored, True, "every input row scored")
    return Check(ROWS, stored, min_rows, stored >= min_rows, "min_rows")


def null_check(summary: TableSummary, maximum: float) -> Check:
    """The share of null or NaN predictions."""
    counts = summary.prediction_counts or {}
    nulls = summary.null_predictions + sum(n for value, n in counts.items() if value in NAN_TEXTS)
    share = nulls / summary.rows if summary.rows else 0.0
    return Check(NULL_PREDICTIONS, share, maximum, share <= maximum, f"{nulls} of {summary.rows}")


def drift_check(
    url: str, staged: TableSummary, live: TableSummary | None, maximum: float | None
) -> Check:
    """The prediction drift of ``staged`` from ``live``; passed when ``maximum`` is None."""
    if live is None or not live.rows:
        return Check(PREDICTION_DRIFT, None, maximum, True, "no live table to compare with")
    ours, theirs = staged.prediction_counts, live.prediction_counts
    if ours is None or theirs is None or _numeric_spread(ours, theirs):
        ours, theirs = binned_counts(url, staged.table, live.table)
    ours, theirs = _without_nan(ours), _without_nan(theirs)
    if not ours or not theirs:
        side = "the new table" if not ours else "the live table"
        return Check(PREDICTION_DRIFT, None, maximum, True, f"no predictions in {side}")
    distance = js_distance(ours, theirs)
    versus = f"vs version {live.model_version}" if live.model_version else "vs the live table"
    passed = maximum is None or distance <= maximum
    detail = versus if maximum is not None else f"{versus}, not checked"
    return Check(PREDICTION_DRIFT, distance, maximum, passed, detail)


def _numeric_spread(ours: dict[str, int], theirs: dict[str, int]) -> bool:
    """Whether both tables predict non-integer numbers (regression values, compared by
    bins rather than by exact value)."""
    values = [*ours, *theirs]
    return all(_is_number(v) for v in values) and any(not float(v).is_integer() for v in values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in NAN_TEXTS


def _without_nan(counts: dict[str, int]) -> dict[str, int]:
    return {value: n for value, n in counts.items() if value not in NAN_TEXTS and n}


def binned_counts(url: str, staged: str, live: str) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of both tables' numeric predictions over ``DRIFT_BINS`` equal bins spanning
    the live table's range (values outside fall in the end bins), computed in SQL."""
    from sqlalchemy import column, func, select
    from sqlalchemy import table as table_clause

    prediction: Any = column(PREDICTION)
    engine = open_engine(url)
    try:
        what = "compare the prediction distributions"
        with database_errors(url, what), engine.connect() as connection:
            bounds = select(func.min(prediction), func.max(prediction))
            low, high = connection.execute(bounds.select_from(table_clause(live))).one()
            if low is None or high is None:
                return {}, {}
            return (
                _bins(connection, staged, float(low), float(high)),
                _bins(connection, live, float(low), float(high)),
            )
    finally:
        engine.dispose()


def _bins(connection: Any, table: str, low: float, high: float) -> dict[str, int]:
    from sqlalchemy import Integer, case, cast, column, func, literal, select
    from sqlalchemy import table as table_clause

    prediction: Any = column(PREDICTION)
    width = (high - low) / DRIFT_BINS or 1.0
    position = cast((prediction - literal(low)) / literal(width), Integer)
    bin_index = case(
        (prediction <= literal(low), 0),
        (prediction >= literal(high), DRIFT_BINS - 1),
        else_=position,
    )
    query = (
        select(bin_index.label("bin"), func.count())
        .select_from(table_clause(table))
        .where(prediction.is_not(None))
        .group_by("bin")
    )
    counts: dict[str, int] = {}
    for index, rows in connection.execute(query):
        key = f"bin {min(max(int(index), 0), DRIFT_BINS - 1)}"
        counts[key] = counts.get(key, 0) + int(rows)
    return counts
