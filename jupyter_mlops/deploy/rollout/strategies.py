"""Rollout strategies as plans: the phases a candidate goes through, each a traffic split
held for a while and analysed at its end.

- ``canary``: the candidate gets each of ``steps`` percent in turn, one ``interval`` each;
- ``blue-green``: the candidate, loaded beside the stable version with no traffic (the
  staging split) and checked, takes all traffic at once for one ``interval``; the stable
  version stays loaded (standby) so a rollback switches back at once;
- ``ab``: a fixed split (``steps[0]`` percent to the candidate) for ``duration``, sticky per
  client key when ``sticky`` names a header;
- ``shadow``: the stable version answers everything; the candidate gets a copy of every
  request for ``duration``, its answers logged and compared, never returned.

After the last phase the alias moves to the candidate (100 %); no phase is a rollout
without a stable version (a first deployment: smoke test and load check only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.targets import RestTarget
from jupyter_mlops.registry.traffic import TrafficSplit


@dataclass(frozen=True)
class Phase:
    """One traffic split held for ``seconds``; the candidate analysed against the stable
    version (over the same window while the stable version takes traffic, else over the
    rollout's baseline window)."""

    label: str
    candidate_share: int  # percent of the requests the candidate answers
    seconds: float
    shadow: bool = False  # the candidate gets a copy of every request instead
    sticky: str | None = None
    feedback: bool = False  # compare the versions' scores on the labels sent as feedback

    @property
    def stable_answers(self) -> bool:
        """Whether the stable version answers requests during this phase."""
        return self.candidate_share < 100

    def split(self, stable: str, candidate: str, rollout: str) -> TrafficSplit:
        """The registry's traffic split of this phase."""
        share = self.candidate_share
        if self.shadow:
            return TrafficSplit({stable: 100}, shadow=(candidate,), rollout=rollout)
        if share >= 100:
            return TrafficSplit({candidate: 100}, standby=(stable,), rollout=rollout)
        return TrafficSplit(
            {stable: 100 - share, candidate: share}, sticky=self.sticky, rollout=rollout
        )

    def describe(self, stable: str, candidate: str) -> str:
        """What the phase does, e.g. ``10% of requests to version 4 for 30s``."""
        hold = f"for {self.seconds:g}s"
        if self.shadow:
            return f"version {candidate} gets a copy of every request {hold}, never returned"
        if self.candidate_share >= 100:
            return f"all requests to version {candidate}, {stable} on standby, {hold}"
        sticky = f", sticky on header {self.sticky}" if self.sticky else ""
        return f"{self.candidate_share}% of requests to version {candidate}{sticky} {hold}"

    def to_json(self) -> dict[str, Any]:
        """The phase as JSON."""
        return {
            "label": self.label,
            "candidate_share": self.candidate_share,
            "seconds": self.seconds,
            "shadow": self.shadow,
            "sticky": self.sticky,
            "feedback": self.feedback,
        }


def staging_split(stable: str, candidate: str, rollout: str) -> TrafficSplit:
    """The candidate loaded and warmed with no traffic, the stable version answering all."""
    return TrafficSplit({stable: 100}, standby=(candidate,), rollout=rollout)


def plan(target: RestTarget, strategy: str | None = None) -> list[Phase]:
    """The phases of ``strategy`` (default: the target's) with the target's settings
    (its ``steps`` only when they were written for that strategy)."""
    strategy = strategy or target.strategy
    long = target.duration or target.interval
    steps = target.steps if strategy == target.strategy and target.steps else None
    if strategy == "canary":
        return [Phase(f"canary {step}%", step, target.interval) for step in steps or (10, 50)]
    if strategy == "blue-green":
        return [Phase("blue-green switch", 100, target.interval)]
    if strategy == "ab":
        share = steps[0] if steps else 50
        label = f"A/B {100 - share}/{share}"
        return [Phase(label, share, long, sticky=target.sticky, feedback=True)]
    if strategy == "shadow":
        return [Phase("shadow", 0, long, shadow=True)]
    from jupyter_mlops.deploy.targets import STRATEGIES
    from jupyter_mlops.errors import DeployError

    raise DeployError(f"strategy '{strategy}' is not one of {', '.join(STRATEGIES)}")
