"""The history of a registered model's alias moves, and rollback along it.

Every alias move (promote, register, gate, deploy, rollback) goes through :func:`move_alias`,
which records it as a registered-model tag ``mlops.history.<13-digit epoch ms>.<8 hex>``
whose value is JSON ``{"time", "user", "alias", "from", "to", "reason", "gate", "rollout",
"note"}``. Each move writes its own key, so moves from concurrent processes lose no entry;
the keys sort oldest first. A move that leaves the alias where it was is not recorded.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jupyter_mlops.errors import PromotionError
from jupyter_mlops.registry.registered import registered_model
from jupyter_mlops.tracking.tags import GATE, HISTORY_PREFIX

log = logging.getLogger(__name__)

USER_ENV = "JUPYTER_MLOPS_USER"
MAX_NOTE = 1000  # the SQL registry stores tag values of up to 5,000 characters
_KEY = re.compile(re.escape(HISTORY_PREFIX) + r"\d{13}\.[0-9a-f]{8}")
_clock = threading.Lock()
_last_ms = 0


@dataclass(frozen=True)
class AliasMove:
    """One move of ``alias`` from ``from_version`` to ``to_version`` (None: unset)."""

    time: str  # ISO 8601 UTC, e.g. 2026-12-02T07:10:03.120Z
    user: str
    alias: str
    from_version: str | None
    to_version: str | None
    reason: str  # promote | register | gate | deploy | rollback | ...
    gate: str | None = None  # the gate outcome of the version moved to
    rollout: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The recorded JSON object."""
        return {
            "time": self.time,
            "user": self.user,
            "alias": self.alias,
            "from": self.from_version,
            "to": self.to_version,
            "reason": self.reason,
            "gate": self.gate,
            "rollout": self.rollout,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AliasMove:
        """A move from its recorded JSON object."""
        return cls(
            time=str(data["time"]),
            user=str(data["user"]),
            alias=str(data["alias"]),
            from_version=_optional(data.get("from")),
            to_version=_optional(data.get("to")),
            reason=str(data["reason"]),
            gate=_optional(data.get("gate")),
            rollout=_optional(data.get("rollout")),
            note=_optional(data.get("note")),
        )

    def describe(self) -> str:
        """E.g. ``2026-12-02 07:10:03Z  champion 1 → 2  promote by alice (gate: validated)``."""
        when = f"{self.time[:10]} {self.time[11:19]}Z"
        before = self.from_version if self.from_version is not None else "(unset)"
        after = self.to_version if self.to_version is not None else "(unset)"
        details = [
            f"{label}: {value}"
            for label, value in (("gate", self.gate), ("rollout", self.rollout))
            if value is not None
        ]
        if self.note:
            details.append(self.note)
        extra = f" ({', '.join(details)})" if details else ""
        return f"{when}  {self.alias} {before} → {after}  {self.reason} by {self.user}{extra}"


@dataclass(frozen=True)
class ModelHistory:
    """The recorded alias moves of one registered model, oldest first."""

    model: str
    moves: tuple[AliasMove, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"model": name, "moves": [move, ...]}``."""
        return {"model": self.model, "moves": [move.to_json() for move in self.moves]}


@dataclass(frozen=True)
class RolledBack:
    """What ``rollback`` did to registered model ``model``."""

    model: str
    move: AliasMove

    def describe(self) -> str:
        """E.g. ``classification: production 2 → 1 (rollback)``."""
        move = self.move
        return f"{self.model}: {move.alias} {move.from_version} → {move.to_version} (rollback)"


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def current_user() -> str:
    """``$JUPYTER_MLOPS_USER``, else the login name."""
    return os.environ.get(USER_ENV, "").strip() or getpass.getuser()


def move_alias(
    client: Any,
    name: str,
    alias: str,
    version: str | int | None,
    reason: str,
    *,
    gate: str | None = None,
    rollout: str | None = None,
    note: str | None = None,
) -> AliasMove:
    """Point ``alias`` of registered model ``name`` at ``version`` (None: delete the alias)
    and record the move in the model's history; returns it (unrecorded when the alias
    already was there). ``PromotionError`` for an unknown model."""
    target = None if version is None else str(version)
    previous = registered_aliases(client, name).get(alias)
    millis = _unique_millis()
    move = _move(millis, alias, previous, target, reason, gate, rollout, note)
    if previous == target:
        return move
    if target is None:
        client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, target)
    _record(client, name, millis, move)
    return move


def record_unmoved(
    client: Any,
    name: str,
    alias: str,
    reason: str,
    *,
    rollout: str | None = None,
    note: str | None = None,
) -> AliasMove:
    """Record an event of ``alias`` that left it where it was (``from`` = ``to``), e.g. a
    rollout rolled back before the alias moved; ``rollback`` never goes back to such an
    entry. ``PromotionError`` for an unknown model."""
    current = registered_aliases(client, name).get(alias)
    millis = _unique_millis()
    move = _move(millis, alias, current, current, reason, None, rollout, note)
    _record(client, name, millis, move)
    return move


def _move(
    millis: int,
    alias: str,
    before: str | None,
    after: str | None,
    reason: str,
    gate: str | None,
    rollout: str | None,
    note: str | None,
) -> AliasMove:
    """A move made now (``millis``) by the current user."""
    note = note[:MAX_NOTE] if note else None
    return AliasMove(
        _iso(millis), current_user(), alias, before, after, reason, gate, rollout, note
    )


def _record(client: Any, name: str, millis: int, move: AliasMove) -> None:
    """Store ``move`` under its own key: concurrent writers never overwrite each other."""
    key = f"{HISTORY_PREFIX}{millis:013d}.{secrets.token_hex(4)}"
    client.set_registered_model_tag(name, key, json.dumps(move.to_json()))


def alias_history(client: Any, name: str, alias: str | None = None) -> list[AliasMove]:
    """The recorded moves of ``name`` (only ``alias``'s when given), oldest first."""
    tags = registered_model(client, name).tags
    moves = []
    for key in sorted(key for key in tags if _KEY.fullmatch(key)):
        try:
            move = AliasMove.from_json(json.loads(tags[key]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("model '%s': skipping malformed history tag %s (%s)", name, key, exc)
            continue
        if alias is None or move.alias == alias:
            moves.append(move)
    return moves


def previous_holder(moves: list[AliasMove], alias: str, current: str) -> str | None:
    """The version ``alias`` held before ``current``: the ``from`` of the latest move of
    ``alias`` to ``current``; None when none is recorded."""
    for move in reversed(moves):
        if move.alias == alias and move.to_version == current != move.from_version:
            return move.from_version
    return None


def rollback(client: Any, name: str, alias: str) -> AliasMove:
    """Move ``alias`` back to the version it held before its current one, clearing its
    traffic split (the restored version serves 100 %); recorded with reason ``rollback``.
    ``PromotionError`` when the alias is unset or no earlier holder is recorded."""
    from jupyter_mlops.registry.traffic import clear_traffic

    current = registered_aliases(client, name).get(alias)
    if current is None:
        raise PromotionError(
            f"model '{name}' has no alias '{alias}': nothing to roll back", name=name
        )
    earlier = previous_holder(alias_history(client, name, alias), alias, current)
    if earlier is None:
        raise PromotionError(
            f"model '{name}': alias '{alias}' has no earlier version recorded before "
            f"{current}: nothing to roll back to",
            name=name,
        )
    gate = _gate_of(client, name, earlier, alias)
    clear_traffic(client, name, alias)
    return move_alias(client, name, alias, earlier, "rollback", gate=gate)


def _gate_of(client: Any, name: str, version: str, alias: str) -> str | None:
    """The gate outcome of ``version``, which ``alias`` is moving back to."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version).tags.get(GATE)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise PromotionError(
                f"model '{name}': version {version}, the previous holder of alias '{alias}', "
                "no longer exists: nothing to roll back to",
                name=name,
            ) from None
        raise


def registered_aliases(client: Any, name: str) -> dict[str, str]:
    """Alias → version of registered model ``name``; ``PromotionError`` when unknown."""
    return {alias: str(v) for alias, v in registered_model(client, name).aliases.items()}


def _unique_millis() -> int:
    """Epoch milliseconds, strictly increasing within this process (so one process's
    moves sort in the order they were made)."""
    global _last_ms
    with _clock:
        _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        return _last_ms


def _iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis // 1000, tz=UTC)
    moment += timedelta(milliseconds=millis % 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
