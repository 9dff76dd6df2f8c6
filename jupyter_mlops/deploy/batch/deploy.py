"""Deploy to a ``batch`` target: score the candidate version into a staging table beside
the live one, verify it (``verification.py``), then swap it in and move the target's alias
to the candidate. A failed check, or a failure while scoring, drops the staging table:
the live table and the alias stay as they were and the history records the rollback.
Every deploy is recorded in MLflow like a rollout (``rollout/record.py``), strategy
``swap``. Rolling a batch target back restores ``<table>__previous`` and moves the alias
to the version that table holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jupyter_mlops.deploy import one_step
from jupyter_mlops.deploy.batch.target import BatchTarget
from jupyter_mlops.deploy.candidate import check_candidate
from jupyter_mlops.deploy.rollout.analysis import Check
from jupyter_mlops.deploy.rollout.result import RolloutEvent, RolloutResult
from jupyter_mlops.errors import DeployError, MlopsError

if TYPE_CHECKING:
    from jupyter_mlops.deploy.rollout.runner import RolloutRequest
    from jupyter_mlops.registry.alias_history import AliasMove

Progress = Callable[[RolloutEvent], None]
STRATEGY = "swap"


class _Failed(Exception):
    """A check failed: drop the staging table, keep the live one."""

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks
        super().__init__("; ".join(check.describe() for check in checks))


def table_url(target: BatchTarget, table: str) -> str:
    """Where table ``table`` of the target lives: ``into``, password masked, ``#table``."""
    from jupyter_mlops.deploy.batch.database import masked_url

    return f"{masked_url(target.into)}#{table}"


def live_table(target: BatchTarget, model: str) -> str:
    """The target's table name: its ``table``, else ``<model>_predictions``."""
    from jupyter_mlops.deploy.batch.table_swap import default_table_name

    return target.table or default_table_name(model)


def deploy_batch(
    request: RolloutRequest[BatchTarget], progress: Progress | None = None
) -> RolloutResult:
    """Score, verify, swap in and promote ``request.candidate``, or roll it back."""
    from jupyter_mlops.deploy.rollout.record import record_rollout
    from jupyter_mlops.deploy.rollout.runner import new_rollout_id
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    target = request.target
    if not isinstance(target, BatchTarget):
        raise DeployError(
            f"deploy target '{getattr(target, 'name', target)}' is not a batch target"
        )
    with mlflow_errors(request.tracking_uri, f"read registered model '{request.model}'"):
        client = make_client(request.tracking_uri)
        candidate = check_candidate(client, request.model, target.alias, request.candidate)
    result = RolloutResult(
        rollout=new_rollout_id(),
        model=request.model,
        target=target.name,
        alias=target.alias,
        url=table_url(target, live_table(target, request.model)),
        strategy=STRATEGY,
        stable=candidate.stable,
        candidate=request.candidate,
    )
    deploy = _BatchDeploy(request, client, result, candidate.gate, progress or (lambda event: None))
    status = "FINISHED"
    try:
        deploy.run()
    except BaseException:
        status = "KILLED"
        raise
    finally:
        result.mlflow_run = record_rollout(
            request.tracking_uri, result, target.verification_json(), status
        )
    return result


class _BatchDeploy:
    """One batch deploy while it runs."""

    def __init__(
        self,
        request: RolloutRequest[BatchTarget],
        client: Any,
        result: RolloutResult,
        gate: str | None,
        progress: Progress,
    ) -> None:
        self.request = request
        self.target = request.target
        self.client = client
        self.result = result
        self.gate = gate
        self.progress = progress
        self.table = live_table(self.target, request.model)

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.progress(RolloutEvent(kind, message, data))

    def run(self) -> None:
        result = self.result
        before = result.stable if result.stable is not None else "(unset)"
        self.emit(
            "start",
            f"rollout {result.rollout}: {result.model} version {result.candidate} → "
            f"{result.alias} (now {before}), {STRATEGY} into {result.url}",
        )
        try:
            scored = self._score()
        except _Failed as failure:
            self._roll_back(f"verification: {failure}", failure.checks)
        except MlopsError as error:  # bad input, the model raising, the database
            self._roll_back(str(error), [])
        except BaseException:
            self._roll_back("interrupted", [])
            raise
        else:
            self._promote(scored.rows, scored.previous_version)

    def _score(self) -> Any:
        from jupyter_mlops.deploy.batch.runner import ScoreRequest, score_into_table

        target, request = self.target, self.request
        score = ScoreRequest(
            tracking_uri=request.tracking_uri,
            model=request.model,
            version=request.candidate,
            source=target.input,
            key=target.key,
            query=target.query,
            into=target.into,
            table=self.table,
            chunk_rows=target.chunk_rows,
        )
        return score_into_table(score, self._scored, self._verify)

    def _scored(self, rows: int, total: int | None) -> None:
        of = f" of {total}" if total is not None else ""
        self.emit("scoring", f"{rows}{of} rows scored", rows=rows, total=total)

    def _verify(self, staged: str, rows: int) -> None:
        """The checks of the full staging table; ``_Failed`` with the failed ones."""
        from jupyter_mlops.deploy.batch.verification import verify_staged

        checks = verify_staged(self.target, self.target.into, staged, self.table, rows)
        self.result.checks = checks
        passed = all(check.passed for check in checks)
        verdict = "passed" if passed else "FAILED"
        line = ", ".join(check.describe() for check in checks)
        self.emit("verified", f"verification {verdict}: {line}", passed=passed)
        if not passed:
            raise _Failed([check for check in checks if not check.passed])

    def _promote(self, rows: int, replaced: str | None) -> None:
        replaced_text = f"version {replaced}" if replaced is not None else "no table"
        one_step.promote(
            self.client,
            self.result,
            self.gate,
            f"swap into {self.result.url}: {rows} rows, replaced {replaced_text}",
            self.emit,
            reason=f"every check passed; {rows} rows swapped in",
        )

    def _roll_back(self, reason: str, checks: list[Check]) -> None:
        result = self.result
        kept = f"version {result.candidate} rolled back, table {result.url} kept: {reason}"
        one_step.roll_back(self.client, result, reason, checks, self.emit, note=kept)


def rollback_batch(tracking_uri: str, model: str, target: BatchTarget) -> AliasMove:
    """Swap ``<table>__previous`` back in and move the target's alias to the version it
    holds (reason ``rollback``; recorded as an unmoved rollback when the alias is already
    there). ``DeployError`` when there is no previous table."""
    from jupyter_mlops.deploy.batch.table_swap import restore_previous
    from jupyter_mlops.registry.alias_history import move_alias, record_unmoved
    from jupyter_mlops.tracking.store import make_client, mlflow_errors
    from jupyter_mlops.tracking.tags import GATE

    table = live_table(target, model)
    url = table_url(target, table)
    restored = restore_previous(target.into, table)
    note = f"restored the previous table of {url}"
    with mlflow_errors(tracking_uri, f"move alias '{target.alias}' of model '{model}'"):
        client = make_client(tracking_uri)
        if restored is None:
            return record_unmoved(client, model, target.alias, "rollback", note=note)
        gate = client.get_model_version(model, restored).tags.get(GATE)
        move = move_alias(client, model, target.alias, restored, "rollback", gate=gate, note=note)
        if move.from_version == move.to_version:
            return record_unmoved(client, model, target.alias, "rollback", note=note)
        return move


def batch_state(target: BatchTarget, model: str | None, tracking_uri: str | None) -> dict[str, Any]:
    """The live table for the panel: ``{"table", "url", "where", "detail", "reachable",
    "problem", "version", "rows", "scored_at", "previous_version", "previous_rows"}`` (a
    database that cannot be read is a state, ``reachable: false`` with the reason, never
    an error; ``where`` and the one-line ``detail`` are what the panel shows)."""
    from jupyter_mlops.deploy.batch.table_summary import table_summary
    from jupyter_mlops.deploy.batch.table_swap import previous_name

    table = target.table or (live_table(target, model) if model else None)
    url = table_url(target, table) if table else None
    state: dict[str, Any] = {
        "table": table,
        "url": url,
        "where": url or "",
        "detail": "",
        "reachable": False,
        "problem": None,
    }
    if table is None:
        return {**state, "problem": "the target's model is unknown: no table name"}
    try:
        live = table_summary(target.into, table)
        previous = table_summary(target.into, previous_name(table))
    except MlopsError as error:
        return {**state, "problem": str(error)}
    return {
        **state,
        "reachable": True,
        "problem": None if live is not None else f"no table '{table}' yet",
        "version": live.model_version if live else None,
        "rows": live.rows if live else 0,
        "scored_at": live.scored_at if live else None,
        "previous_version": previous.model_version if previous else None,
        "previous_rows": previous.rows if previous else 0,
        "detail": _table_detail(live, previous),
    }


def _table_detail(live: Any, previous: Any) -> str:
    """E.g. ``150 rows scored 2026-12-02T13:25:02+00:00; previous table: version 1``."""
    if live is None:
        return "not scored yet"
    detail = f"{live.rows:,} rows scored {live.scored_at}"
    if previous is not None:
        detail += f"; previous table: version {previous.model_version}"
    return detail
