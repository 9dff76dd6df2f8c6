"""CPU and memory of the model's container in the kserve and kubernetes formats: requests
and limits as Kubernetes quantities (``250m`` CPU, ``512Mi`` memory), checked key by key.

::

    resources:
      requests: {cpu: 250m, memory: 512Mi}   # the defaults
      limits: {cpu: "1", memory: 1Gi}        # the defaults

A key left out keeps its default; errors are ``DeployError`` naming the key path, e.g.
``deploy.k8s.resources.limits.memory``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jupyter_mlops.deploy.target_fields import fail, known_keys

KINDS = ("requests", "limits")
NAMES = ("cpu", "memory")
QUANTITY = re.compile(
    r"(?P<number>\d+(?:\.\d+)?|\.\d+)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?"
)
SUFFIX_VALUE: dict[str | None, Decimal] = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{suffix: Decimal(1000) ** power for power, suffix in enumerate("kMGTPE", 1)},
    **{f"{suffix}i": Decimal(1024) ** power for power, suffix in enumerate("KMGTPE", 1)},
}
DEFAULTS = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}


@dataclass(frozen=True)
class Resources:
    """Requests and limits of the model's container, as Kubernetes quantities."""

    cpu_request: str = DEFAULTS["requests"]["cpu"]
    memory_request: str = DEFAULTS["requests"]["memory"]
    cpu_limit: str = DEFAULTS["limits"]["cpu"]
    memory_limit: str = DEFAULTS["limits"]["memory"]

    def to_json(self) -> dict[str, dict[str, str]]:
        """The ``resources`` mapping of a Kubernetes container."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }

    def to_extra(self) -> dict[str, str]:
        """As ``PackageOptions.extra`` settings: ``{"requests.cpu": "250m", …}``."""
        return {
            f"{kind}.{name}": quantity
            for kind, quantities in self.to_json().items()
            for name, quantity in quantities.items()
        }


def parse_resources(value: Any, where: str) -> Resources:
    """The ``resources`` mapping (absent: the defaults); each quantity checked, and each
    request at most its limit (Kubernetes refuses a pod otherwise)."""
    if value is None:
        return Resources()
    if not isinstance(value, dict):
        raise fail(where, f"must be a mapping with requests and limits, not {value!r}")
    known_keys(value, where, KINDS)
    chosen = {kind: dict(DEFAULTS[kind]) for kind in KINDS}
    for kind in KINDS:
        given = value.get(kind)
        if given is None:
            continue
        if not isinstance(given, dict):
            raise fail(f"{where}.{kind}", f"must be a mapping of cpu and memory, not {given!r}")
        known_keys(given, f"{where}.{kind}", NAMES)
        for name, quantity in given.items():
            chosen[kind][name] = checked_quantity(quantity, f"{where}.{kind}.{name}")
    for name in NAMES:
        request, limit = chosen["requests"][name], chosen["limits"][name]
        if quantity_value(request) > quantity_value(limit):
            raise fail(f"{where}.requests.{name}", f"{request} is above limits.{name} {limit}")
    return Resources(
        cpu_request=chosen["requests"]["cpu"],
        memory_request=chosen["requests"]["memory"],
        cpu_limit=chosen["limits"]["cpu"],
        memory_limit=chosen["limits"]["memory"],
    )


def resources_from_extra(extra: dict[str, str], where: str = "resources") -> Resources:
    """The resources among ``PackageOptions.extra`` settings (``requests.cpu``,
    ``limits.memory``, …; other settings are other formats'), checked."""
    given: dict[str, dict[str, str]] = {}
    for key, value in extra.items():
        kind, _, name = key.partition(".")
        if kind in KINDS:
            given.setdefault(kind, {})[name] = value
    return parse_resources(given or None, where)


def checked_quantity(value: Any, where: str) -> str:
    """A Kubernetes quantity above 0 (``500m``, ``2``, ``1.5Gi``), as text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(where, f"must be a Kubernetes quantity (e.g. 500m, 1, 512Mi), not {value!r}")
    text = str(value).strip()
    if QUANTITY.fullmatch(text) is None or quantity_value(text) <= 0:
        raise fail(
            where, f"must be a Kubernetes quantity above 0 (e.g. 500m, 1, 512Mi), not {value!r}"
        )
    return text


def quantity_value(text: str) -> Decimal:
    """The number a checked quantity stands for (``500m`` → 0.5, ``1Ki`` → 1024)."""
    match = QUANTITY.fullmatch(text)
    assert match is not None, text
    return Decimal(match["number"]) * SUFFIX_VALUE[match["suffix"]]
