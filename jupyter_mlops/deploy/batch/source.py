"""The rows a scoring run reads, in chunks of at most ``chunk_rows`` rows: a Parquet file
(row-group batches), a CSV file (pandas' chunked reader), or a SQL query on a SQLAlchemy
URL (a server-side cursor where the driver has one, ``fetchmany`` otherwise). Only one
chunk is in memory at a time, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.batch.database import database_errors, masked_url, open_engine
from jupyter_mlops.errors import DeployError

FILE_KINDS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class ChunkSource:
    """Where rows come from: ``location`` is a file path or a database URL, ``query`` the
    SQL query (None for a file)."""

    location: str
    query: str | None = None
    chunk_rows: int = 100_000

    @property
    def shown(self) -> str:
        """How messages and results name the source (a URL's password masked)."""
        return masked_url(self.location) if self.query is not None else self.location

    @property
    def kind(self) -> str:
        """``parquet``, ``csv`` or ``sql``."""
        if self.query is not None:
            return "sql"
        kind = FILE_KINDS.get(Path(self.location).suffix.lower())
        if kind is None:
            raise DeployError(
                f"cannot read {self.location}: expected a .parquet or .csv file, or a "
                "database URL with --query",
                path=self.location,
            )
        return kind

    def total_rows(self) -> int | None:
        """The number of rows when known without reading them (Parquet metadata)."""
        if self.kind != "parquet":
            return None
        import pyarrow.parquet as pq

        with _file_errors(self.location):
            return int(pq.ParquetFile(self.location).metadata.num_rows)

    def chunks(self) -> Iterator[Any]:
        """The rows as pandas DataFrames of at most ``chunk_rows`` rows each."""
        if self.chunk_rows < 1:
            raise DeployError(f"chunk size must be at least 1 row, not {self.chunk_rows}")
        readers = {"parquet": _parquet_chunks, "csv": _csv_chunks, "sql": _sql_chunks}
        return readers[self.kind](self)


def _parquet_chunks(source: ChunkSource) -> Iterator[Any]:
    import pyarrow.parquet as pq

    with _file_errors(source.location):
        # buffered page reads: a huge row group is not read into memory whole
        parquet = pq.ParquetFile(source.location, buffer_size=1 << 20, pre_buffer=False)
        for batch in parquet.iter_batches(batch_size=source.chunk_rows):
            yield batch.to_pandas()


def _csv_chunks(source: ChunkSource) -> Iterator[Any]:
    import pandas

    with (
        _file_errors(source.location),
        pandas.read_csv(source.location, chunksize=source.chunk_rows) as reader,
    ):
        yield from reader


def _sql_chunks(source: ChunkSource) -> Iterator[Any]:
    import pandas
    from sqlalchemy import text

    assert source.query is not None
    engine = open_engine(source.location, writing=False)
    try:
        with database_errors(source.location, "run the --query"), engine.connect() as connection:
            streaming = connection.execution_options(
                stream_results=True, max_row_buffer=source.chunk_rows
            )
            result = streaming.execute(text(source.query))
            columns = list(result.keys())
            for rows in result.partitions(source.chunk_rows):
                yield pandas.DataFrame.from_records(rows, columns=columns)
    finally:
        engine.dispose()


@contextmanager
def _file_errors(path: str) -> Iterator[None]:
    """OS and parser errors reading ``path`` become ``DeployError`` naming it."""
    try:
        yield
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise DeployError(f"cannot read {path}: {reason}", path=path) from None
