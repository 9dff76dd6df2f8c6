"""How a one-step deploy (kinds ``batch``, ``package``, ``mlflow``) ends once its checks
are in: the alias moves to the candidate (promoted), or stays where it is and the history
records the rollback (rolled back)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from jupyter_mlops.deploy.rollout.analysis import Check
from jupyter_mlops.deploy.rollout.result import PROMOTED, ROLLED_BACK, RolloutResult

Emit = Callable[[str, str], None]
"""Reports one step of the deploy: (event kind, message)."""


def promote(
    client: Any,
    result: RolloutResult,
    gate: str | None,
    note: str,
    emit: Emit,
    *,
    reason: str = "every check passed",
    around: AbstractContextManager[Any] | None = None,
) -> None:
    """Move the alias to the candidate (history reason ``deploy``) inside ``around`` (e.g.
    the swap of the new build into place), then mark ``result`` promoted."""
    from jupyter_mlops.registry.alias_history import move_alias

    with around if around is not None else nullcontext():
        move_alias(
            client,
            result.model,
            result.alias,
            result.candidate,
            "deploy",
            gate=gate,
            rollout=result.rollout,
            note=note,
        )
    result.outcome = PROMOTED
    result.reason = reason
    emit("promoted", result.describe())


def roll_back(
    client: Any,
    result: RolloutResult,
    reason: str,
    failed: list[Check],
    emit: Emit,
    *,
    note: str | None = None,
) -> None:
    """Mark ``result`` rolled back for ``reason`` and record it in the alias history (the
    alias never moved); ``note`` defaults to ``version N rolled back: <reason>``."""
    from jupyter_mlops.registry.alias_history import record_unmoved

    result.outcome = ROLLED_BACK
    result.reason = reason
    result.failed = failed
    record_unmoved(
        client,
        result.model,
        result.alias,
        "rollback",
        rollout=result.rollout,
        note=note or f"version {result.candidate} rolled back: {reason}",
    )
    emit("rolled_back", result.describe())
