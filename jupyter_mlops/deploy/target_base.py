"""What every kind of deploy target has: its name and kind, the registered model, the
alias the deployed version holds, and whether it deploys after a validated run. Each
kind's dataclass extends ``TargetBase``; its parser reads these keys with
``target_fields.common_settings``."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class TargetBase:
    """The settings every target has (keyword-only, after the kind's own fields)."""

    kind: ClassVar[str]  # rest | batch | package | mlflow
    name: str
    _: KW_ONLY
    alias: str = "production"
    auto: bool = False
    model: str | None = None  # the registered model; None: the pipeline's one model

    def common_json(self) -> dict[str, Any]:
        """The first keys of the target's JSON: ``name``, ``kind``, ``model``, ``alias``."""
        return {"name": self.name, "kind": self.kind, "model": self.model, "alias": self.alias}
