"""The traffic split of a served alias, kept in the registry so every replica converges.

Registered-model tag ``mlops.traffic.<alias>`` holds JSON ``{"weights": {"3": 90, "4": 10},
"shadow": ["5"], "standby": ["4"], "sticky": "x-client-id", "rollout": "r-1", "updated":
ISO}``: integer percents per version summing to 100; ``shadow`` versions get a copy of each
request (answers logged, never returned); ``standby`` versions are loaded and warmed with no
traffic (blue-green); ``sticky`` names the client key that pins a client to one version. No
tag means 100 % to the version the alias points at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.registered import registered_model
from jupyter_mlops.tracking.tags import TRAFFIC_PREFIX


@dataclass(frozen=True)
class TrafficSplit:
    """Which versions answer what share of the requests to one alias."""

    weights: dict[str, int]
    shadow: tuple[str, ...] = ()
    standby: tuple[str, ...] = ()
    sticky: str | None = None
    rollout: str | None = None

    def __post_init__(self) -> None:
        """Normalise list fields to tuples; ``DeployError`` naming the first bad field."""
        if not isinstance(self.weights, Mapping) or not self.weights:
            raise DeployError(f"traffic weights must be a non-empty mapping, not {self.weights!r}")
        for version, weight in self.weights.items():
            _check_version(version, "weights")
            if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
                raise DeployError(
                    f"traffic weight of version {version} must be an integer 0..100, not {weight!r}"
                )
        total = sum(self.weights.values())
        if total != 100:
            raise DeployError(f"traffic weights must sum to 100, not {total}")
        object.__setattr__(self, "weights", dict(self.weights))
        object.__setattr__(self, "shadow", _versions(self.shadow, "shadow"))
        object.__setattr__(self, "standby", _versions(self.standby, "standby"))
        for name in ("sticky", "rollout"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise DeployError(f"traffic '{name}' must be a non-empty string, not {value!r}")

    def versions(self) -> set[str]:
        """Every version the service must load: weighted, shadow and standby."""
        return set(self.weights) | set(self.shadow) | set(self.standby)

    def to_json(self) -> dict[str, Any]:
        """The tag's fields (without ``updated``, which ``write_traffic`` adds)."""
        return {
            "weights": dict(self.weights),
            "shadow": list(self.shadow),
            "standby": list(self.standby),
            "sticky": self.sticky,
            "rollout": self.rollout,
        }

    @classmethod
    def from_json(cls, data: Any) -> TrafficSplit:
        """The split of a tag's JSON object; ``DeployError`` naming what is malformed."""
        if not isinstance(data, Mapping):
            raise DeployError(f"a traffic split must be a JSON object, not {data!r}")
        unknown = set(data) - {"weights", "shadow", "standby", "sticky", "rollout", "updated"}
        if unknown:
            raise DeployError(f"unknown traffic split field(s): {', '.join(sorted(unknown))}")
        return cls(
            weights=data.get("weights"),  # type: ignore[arg-type]  # checked in __post_init__
            shadow=data.get("shadow") or (),
            standby=data.get("standby") or (),
            sticky=data.get("sticky"),
            rollout=data.get("rollout"),
        )

    @classmethod
    def single(cls, version: str) -> TrafficSplit:
        """All traffic to ``version``."""
        return cls({str(version): 100})


def _check_version(version: object, where: str) -> None:
    if not isinstance(version, str) or not version.isdigit():
        raise DeployError(f"traffic {where}: a version must be a string of digits, not {version!r}")


def _versions(values: Iterable[Any], where: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise DeployError(f"traffic '{where}' must be a list of versions, not {values!r}")
    versions = tuple(values)
    for version in versions:
        _check_version(version, where)
    return versions


def traffic_key(alias: str) -> str:
    """The registered-model tag holding ``alias``'s split."""
    return f"{TRAFFIC_PREFIX}{alias}"


def read_served(client: Any, name: str, alias: str) -> tuple[str | None, TrafficSplit]:
    """``(version alias points at, its split)`` of registered model ``name``; the split
    defaults to 100 % to that version. ``DeployError`` for an unknown model, a malformed
    split tag, or an unset alias with no split (nothing to serve)."""
    model = registered_model(client, name, DeployError)
    version = model.aliases.get(alias)
    version = str(version) if version is not None else None
    value = model.tags.get(traffic_key(alias))
    if value is not None:
        try:
            return version, TrafficSplit.from_json(json.loads(value))
        except (ValueError, DeployError) as exc:
            raise DeployError(
                f"model '{name}', alias '{alias}': bad traffic split in tag "
                f"{traffic_key(alias)}: {exc}",
                name=name,
            ) from None
    if version is None:
        raise DeployError(
            f"model '{name}' has no alias '{alias}' and no traffic split: nothing to serve",
            name=name,
        )
    return version, TrafficSplit.single(version)


def write_traffic(client: Any, name: str, alias: str, split: TrafficSplit) -> None:
    """Store ``split`` as the traffic of ``alias``; ``DeployError`` when the model or one
    of the split's versions does not exist."""
    registered_model(client, name, DeployError)
    for version in sorted(split.versions(), key=int):
        _check_version_exists(client, name, version)
    updated = datetime.now(UTC).isoformat(timespec="milliseconds")
    value = json.dumps({**split.to_json(), "updated": updated.replace("+00:00", "Z")})
    client.set_registered_model_tag(name, traffic_key(alias), value)


def clear_traffic(client: Any, name: str, alias: str) -> None:
    """Drop ``alias``'s split: the alias's version gets 100 % again (no-op when unset)."""
    client.delete_registered_model_tag(name, traffic_key(alias))


def _check_version_exists(client: Any, name: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_model_version(name, version)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise DeployError(f"model '{name}' has no version {version}", name=name) from None
        raise
