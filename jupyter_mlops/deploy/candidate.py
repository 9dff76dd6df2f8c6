"""The check every deploy makes before it changes anything: the candidate version exists,
the gates did not reject it, and which version the target's alias holds now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_mlops.errors import DeployError


@dataclass(frozen=True)
class Candidate:
    """A candidate that may be deployed: what the alias holds now and its gate outcome."""

    stable: str | None  # the version the alias holds now; None: unset (a first deploy)
    gate: str | None  # the candidate's gate outcome tag; None: not gated


def check_candidate(client: Any, name: str, alias: str, candidate: str) -> Candidate:
    """``candidate`` of registered model ``name`` checked; ``DeployError`` when there is no
    such model or version, or the gates rejected it."""
    from jupyter_mlops.registry.registered import model_version_tags, registered_model
    from jupyter_mlops.tracking.tags import GATE, GATE_REASONS

    aliases = registered_model(client, name, DeployError).aliases
    tags = model_version_tags(client, name, candidate, DeployError)
    if tags.get(GATE) == "rejected":
        raise DeployError(
            f"version {candidate} of model '{name}' was rejected by the gates "
            f"({tags.get(GATE_REASONS) or 'no reason recorded'}): not deployed",
            name=name,
        )
    stable = aliases.get(alias)
    return Candidate(None if stable is None else str(stable), tags.get(GATE))
