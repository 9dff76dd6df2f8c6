"""Use case ``score``: serving as data — a registered version pre-scores a key set into a
predictions table, swapped in atomically (``deploy/batch``)."""

from __future__ import annotations

from jupyter_mlops.deploy.batch.runner import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_INTO,
    Progress,
    ScoreRequest,
    ScoreResult,
    score_into_table,
)

__all__ = ["ScoreResult", "score"]


def score(
    model: str,
    source: str,
    key: str,
    *,
    query: str | None = None,
    into: str = DEFAULT_INTO,
    table: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    tracking_uri: str | None = None,
    progress: Progress | None = None,
) -> ScoreResult:
    """Score ``source`` (a .parquet/.csv file, or a database URL with ``query``) with the
    version ``model`` names (``M``: its production alias, ``M@ALIAS``, ``M/VERSION``)
    into ``table`` (default ``<model>_predictions``) of ``into``, keyed by column ``key``;
    the live table is replaced only when every row was scored."""
    from jupyter_mlops.registry.model_ref import parse_model_ref, resolve_version
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    ref = parse_model_ref(model)
    name, uri = resolve_model(ref.name, tracking_uri)
    with mlflow_errors(uri, f"find {ref}"):
        version = resolve_version(make_client(uri), ref)
    request = ScoreRequest(
        tracking_uri=uri,
        model=name,
        version=version,
        source=source,
        key=key,
        query=query,
        into=into,
        table=table,
        chunk_rows=chunk_rows,
    )
    return score_into_table(request, progress)
