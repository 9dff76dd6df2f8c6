"""One scoring run: resolve the version, read the source chunk by chunk, validate and
score each chunk, append it to a staging table, and swap the staging table in. On any
failure midway (bad chunk, model raising, database error, Ctrl-C) the staging table is
dropped and the live table is left as it was."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.batch import table_swap
from jupyter_mlops.deploy.batch.database import database_errors, masked_url, open_engine
from jupyter_mlops.deploy.batch.scoring import ScoringModel, load_scoring_model, scoring_time
from jupyter_mlops.deploy.batch.source import ChunkSource
from jupyter_mlops.errors import DeployError

DEFAULT_INTO = "sqlite:///predictions.db"
DEFAULT_CHUNK_ROWS = 100_000

# rows scored so far, total rows when known
Progress = Callable[[int, int | None], None]
# the filled staging table's name and the rows scored into it; raising keeps the live table
BeforeSwap = Callable[[str, int], None]


@dataclass(frozen=True)
class ScoreRequest:
    """What to score: version ``version`` of model ``model`` (resolved by the caller) on
    ``source`` (a file, or a database URL with ``query``), keyed by column ``key``, into
    table ``table`` (default ``<model>_predictions``) of database ``into``."""

    tracking_uri: str
    model: str
    version: str
    source: str
    key: str
    query: str | None = None
    into: str = DEFAULT_INTO
    table: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS

    @property
    def table_name(self) -> str:
        """The predictions table, checked."""
        return table_swap.check_table_name(self.table or table_swap.default_table_name(self.model))


@dataclass(frozen=True)
class ScoreResult:
    """A finished scoring run: ``into`` has its password masked; ``previous_version`` is
    the version the replaced table held (None when there was no table)."""

    model: str
    version: str
    source: str
    into: str
    table: str
    rows: int
    seconds: float
    previous_version: str | None
    scored_at: str

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return asdict(self)


def score_into_table(
    request: ScoreRequest,
    progress: Progress | None = None,
    before_swap: BeforeSwap | None = None,
) -> ScoreResult:
    """Run ``request``; ``progress`` is called after each chunk, ``before_swap`` (a
    deploy's verification) once the staging table is full. Raises ``DeployError`` (bad
    input, database), ``ScoringFailed`` (the model raised), ``KeyboardInterrupt`` or what
    ``before_swap`` raised, with nothing changed but a dropped staging table."""
    started = time.monotonic()
    table = request.table_name
    source = ChunkSource(request.source, request.query, request.chunk_rows)
    total = source.total_rows()
    with tempfile.TemporaryDirectory(prefix="score-") as workdir:
        model = load_scoring_model(
            request.tracking_uri, request.model, request.version, request.key, Path(workdir)
        )
        engine = open_engine(request.into)
        try:
            run = _StagedRun(engine, request.into, table, model, source.shown)
            rows, previous = run.write(source, total, progress, before_swap)
        finally:
            engine.dispose()
    return ScoreResult(
        model=request.model,
        version=request.version,
        source=source.shown,
        into=masked_url(request.into),
        table=table,
        rows=rows,
        seconds=round(time.monotonic() - started, 3),
        previous_version=previous,
        scored_at=run.scored_at.isoformat(),
    )


class _StagedRun:
    """The staging table of one run: filled chunk by chunk, then swapped in, or dropped."""

    def __init__(self, engine: Any, url: str, table: str, model: ScoringModel, shown: str):
        self.engine, self.url, self.table, self.model, self.shown = engine, url, table, model, shown
        self.run_id = table_swap.new_run_id()
        self.scored_at = scoring_time()
        self.stored_at = table_swap.stored_time(engine, self.scored_at)
        self.staging: Any = None

    def write(
        self,
        source: ChunkSource,
        total: int | None,
        progress: Progress | None,
        before_swap: BeforeSwap | None = None,
    ) -> tuple[int, str | None]:
        """Score every chunk into the staging table and swap it in: (rows, previous version)."""
        rows = 0
        try:
            for chunk in source.chunks():
                rows += self._append(chunk)
                if progress is not None:
                    progress(rows, total)
            if self.staging is None:
                raise DeployError(f"{self.shown} has no rows to score", path=self.shown)
            if before_swap is not None:
                before_swap(self.staging.name, rows)
            with database_errors(self.url, f"swap in table '{self.table}'"):
                previous = table_swap.swap_in(self.engine, self.table, self.staging.name)
        except BaseException:
            self._drop_staging()
            raise
        return rows, previous

    def _append(self, chunk: Any) -> int:
        if not len(chunk):
            return 0
        scored = self.model.score(chunk, self.shown)
        with database_errors(self.url, f"write the scores of {self.shown}"):
            if self.staging is None:
                self.staging = table_swap.create_staging(
                    self.engine, self.table, self.run_id, scored.columns()
                )
            self._insert(scored.rows(self.stored_at))
        return len(scored)

    def _insert(self, rows: Iterable[tuple[Any, ...]]) -> None:
        from sqlalchemy.exc import IntegrityError

        try:
            table_swap.insert_rows(self.engine, self.staging, rows)
        except IntegrityError:
            key = self.model.input.key
            raise DeployError(
                f"key column '{key}' repeats values across chunks of {self.shown}",
                name=key,
                path=self.shown,
            ) from None

    def _drop_staging(self) -> None:
        """Best effort: a database gone away keeps the table (``drop_staged`` removes it)."""
        from sqlalchemy.exc import SQLAlchemyError

        if self.staging is not None:
            with suppress(SQLAlchemyError):
                table_swap.drop_table(self.engine, self.staging.name)
