"""Which loaded version answers a request: the registry's traffic split, as a table.

A ``RoutingTable`` is immutable: the follower builds a new one when the registry changes
and the service swaps it in at once, so a request sees one consistent table from start to
end. A request carrying the sticky key (a header named in the split) always lands on the
same version for the same key and weights; the others are spread by smooth weighted
round-robin (nginx's), so any 100 consecutive requests split exactly as the weights say.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlops.deploy.serving.batcher import MicroBatcher
from jupyter_mlops.registry.traffic import TrafficSplit

STABLE = "stable"
CANDIDATE = "candidate"
SHADOW = "shadow"
STANDBY = "standby"


@dataclass(frozen=True)
class RoutingTable:
    """The versions being served, their batchers and the split between them."""

    alias: str
    alias_version: str | None
    split: TrafficSplit
    batchers: Mapping[str, MicroBatcher]
    _thresholds: tuple[tuple[int, str], ...] = field(default=(), repr=False)
    _credit: dict[str, int] = field(default_factory=dict, repr=False)  # round-robin state

    @classmethod
    def build(
        cls,
        alias: str,
        alias_version: str | None,
        split: TrafficSplit,
        batchers: Mapping[str, MicroBatcher],
    ) -> RoutingTable:
        """A table over ``batchers`` (one per version of the split)."""
        total = 0
        thresholds = []
        for version, weight in sorted(split.weights.items(), key=lambda item: int(item[0])):
            if weight > 0:
                total += weight
                thresholds.append((total, version))
        return cls(alias, alias_version, split, dict(batchers), tuple(thresholds))

    @property
    def ready(self) -> bool:
        """Whether some version takes traffic."""
        return bool(self._thresholds)

    def choose(self, sticky_key: str | None = None) -> MicroBatcher:
        """The batcher of the version answering this request (``ready`` must be true)."""
        if sticky_key is not None:
            bucket = zlib.crc32(sticky_key.encode()) % 100
            for threshold, version in self._thresholds:
                if bucket < threshold:
                    return self.batchers[version]
        return self.batchers[self._next_in_turn()]

    def _next_in_turn(self) -> str:
        """Smooth weighted round-robin: each version gains its weight, the richest answers
        and pays the total (100)."""
        credit = self._credit
        for version, weight in self.split.weights.items():
            if weight > 0:
                credit[version] = credit.get(version, 0) + weight
        chosen = max(credit, key=lambda version: (credit[version], -int(version)))
        credit[chosen] -= 100
        return chosen

    def shadows(self) -> list[MicroBatcher]:
        """The batchers of the versions that get a copy of each request."""
        return [self.batchers[v] for v in self.split.shadow if v in self.batchers]

    def role(self, version: str) -> str:
        """``stable`` (the alias's version), ``candidate``, ``shadow`` or ``standby``."""
        if version in self.split.shadow:
            return SHADOW
        if self.split.weights.get(version, 0) == 0:
            return STANDBY
        return STABLE if version == self.alias_version else CANDIDATE

    def describe(self) -> list[dict[str, Any]]:
        """Per version: share of traffic, role, and how it is served."""
        return [
            {
                **batcher.served.describe(),
                "share": self.split.weights.get(version, 0),
                "role": self.role(version),
                "batching": batcher.enabled,
            }
            for version, batcher in sorted(self.batchers.items(), key=lambda item: int(item[0]))
        ]
