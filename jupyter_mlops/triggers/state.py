"""The trigger state file ``<pipeline>/.mlops/triggers.json``, written atomically.

::

    {"version": 1,
     "triggers": {"nightly": {"last_evaluated": "2026-12-02T03:00:12+00:00",
                              "last_fired": "2026-12-02T03:00:12+00:00",
                              "fingerprint": null, "summary": null,
                              "last_run": {"run_id": "...", "status": "succeeded",
                                           "reason": "..."}}}}

``fingerprint`` is what a ``new_data`` trigger last started a run on (its baseline), or for
``drift``/``decay`` the start of the newest window that made it fire.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import TriggerConfigError

STATE_FILE = "triggers.json"
FORMAT_VERSION = 1


@dataclass
class TriggerState:
    """What is remembered of one trigger between evaluations."""

    last_evaluated: str | None = None
    last_fired: str | None = None
    fingerprint: str | None = None
    summary: str | None = None  # the fingerprint's measured figures
    last_run: dict[str, Any] | None = None

    @property
    def evaluated_at(self) -> datetime | None:
        return _time(self.last_evaluated)

    @property
    def fired_at(self) -> datetime | None:
        return _time(self.last_fired)


@dataclass
class TriggerStates:
    """Every trigger's state, read from and written to ``path``."""

    path: Path
    triggers: dict[str, TriggerState] = field(default_factory=dict)

    def of(self, name: str) -> TriggerState:
        """The state of trigger ``name`` (an empty one when never evaluated)."""
        return self.triggers.setdefault(name, TriggerState())

    def save(self) -> None:
        """Write the file atomically (the folder ``.mlops`` is created when missing)."""
        from jupyter_mlops.artifacts.store import write_json_atomic

        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": FORMAT_VERSION,
            "triggers": {name: asdict(state) for name, state in sorted(self.triggers.items())},
        }
        write_json_atomic(self.path, data)


def state_path(folder: Path) -> Path:
    """Where the trigger state of the pipeline in ``folder`` is kept."""
    return folder / ".mlops" / STATE_FILE


def read_states(folder: Path) -> TriggerStates:
    """The trigger states of the pipeline in ``folder`` (none yet: empty)."""
    path = state_path(folder)
    if not path.is_file():
        return TriggerStates(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        triggers = {
            str(name): TriggerState(**entry) for name, entry in data.get("triggers", {}).items()
        }
    except (ValueError, TypeError, AttributeError) as error:
        raise TriggerConfigError(
            f"is not a trigger state file ({error}): remove it to start afresh", path=str(path)
        ) from None
    return TriggerStates(path, triggers)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
