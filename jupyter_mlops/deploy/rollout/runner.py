"""Run a rollout against a live prediction service, through the registry it follows.

1. The candidate is staged: the alias's traffic split gets it as ``standby`` (loaded and
   warmed, no traffic); the runner waits until the service's ``/version`` shows it.
2. Smoke test and load check, pinned to the candidate (``verification.py``).
3. The strategy's phases (``strategies.py``): each split written to the registry, followed
   by the service, held for its interval and analysed from ``/stats`` at its start and end
   (``analysis.py``). A failed window is repeated until ``failure_limit`` windows failed.
4. Success: the alias moves to the candidate (history reason ``deploy``, the rollout id)
   and the split is cleared. Any failed check: the split is cleared at once (the alias never
   moved, the stable version serves 100 %) and the history records the rollback.

Every rollout is recorded in MLflow (``record.py``); Ctrl-C rolls back before stopping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from jupyter_mlops.deploy.rollout import verification
from jupyter_mlops.deploy.rollout.analysis import (
    Check,
    WindowAnalysis,
    analyse_window,
    version_summary,
    windows_to_rollback,
)
from jupyter_mlops.deploy.rollout.record import record_rollout
from jupyter_mlops.deploy.rollout.result import (
    PROMOTED,
    ROLLED_BACK,
    PhaseWindow,
    RolloutEvent,
    RolloutResult,
)
from jupyter_mlops.deploy.rollout.service_client import ServiceClient
from jupyter_mlops.deploy.rollout.strategies import Phase, plan, staging_split
from jupyter_mlops.deploy.targets import RestTarget
from jupyter_mlops.errors import DeployError
from jupyter_mlops.registry.traffic import TrafficSplit

Progress = Callable[[RolloutEvent], None]
SETTLE_POLL = 0.2


TargetT = TypeVar("TargetT")


@dataclass(frozen=True)
class RolloutRequest(Generic[TargetT]):
    """Roll ``candidate`` of registered model ``model`` out to ``target`` (a target of any
    kind: ``RolloutRequest[RestTarget]`` here, ``RolloutRequest[BatchTarget]`` for a batch
    deploy, ...)."""

    tracking_uri: str
    model: str
    target: TargetT
    candidate: str
    strategy: str
    load_requests: int = verification.LOAD_REQUESTS
    settle_timeout: float = 120.0  # how long the service may take to follow a split


class _Failed(Exception):
    """A check failed: roll back with ``checks``."""

    def __init__(self, reason: str, checks: list[Check]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.checks = checks


def new_rollout_id() -> str:
    """E.g. ``r-20261202T071003-3fa2``."""
    return f"r-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def run_rollout(
    request: RolloutRequest[RestTarget], progress: Progress | None = None
) -> RolloutResult:
    """Run the rollout; returns when the candidate is promoted or rolled back."""
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(request.tracking_uri, f"read registered model '{request.model}'"):
        client = make_client(request.tracking_uri)
        stable = _stable_version(client, request)
    service = ServiceClient.for_target(request.target.url, request.target.token_env)
    _check_service(service, request)
    return _Rollout(request, client, service, stable, progress or (lambda event: None)).run()


def _stable_version(client: Any, request: RolloutRequest[RestTarget]) -> str:
    """The version the alias serves; ``DeployError`` when a rollout cannot start."""
    from jupyter_mlops.deploy.candidate import check_candidate
    from jupyter_mlops.registry.traffic import read_served, traffic_key

    name, alias, candidate = request.model, request.target.alias, request.candidate
    if check_candidate(client, name, alias, candidate).stable is None:
        raise DeployError(
            f"alias '{alias}' of model '{name}' is not set: a rollout needs a stable version "
            f"to compare with; set the first one with `jupyter mlops promote {name} "
            f"--alias {alias} --version {candidate}`",
            name=name,
        )
    stable, split = read_served(client, name, alias)  # DeployError: a malformed split
    if stable is None or split.rollout is not None:
        raise DeployError(
            f"alias '{alias}' of model '{name}' is in rollout {split.rollout} (registered-model "
            f"tag {traffic_key(alias)}); wait for it to end, or clear it with `jupyter mlops "
            "deploy PIPELINE TARGET --abort` if its process is gone",
            name=name,
        )
    if stable == candidate:
        raise DeployError(f"alias '{alias}' of model '{name}' already serves version {stable}")
    return stable


def abort_rollout(client: Any, name: str, alias: str) -> str | None:
    """Clear the traffic split ``alias`` of ``name`` carries (a rollout whose process is
    gone): the alias's version serves 100 % again, the alias does not move; recorded in the
    history. Returns the id of the rollout cleared, None when there was no split."""
    from jupyter_mlops.registry.alias_history import record_unmoved
    from jupyter_mlops.registry.traffic import clear_traffic, read_served, traffic_key

    model = client.get_registered_model(name)
    if traffic_key(alias) not in model.tags:
        return None
    _, split = read_served(client, name, alias)
    clear_traffic(client, name, alias)
    record_unmoved(
        client, name, alias, "abort", rollout=split.rollout, note="traffic split cleared"
    )
    return split.rollout or "(no rollout id)"


def _check_service(service: ServiceClient, request: RolloutRequest[RestTarget]) -> None:
    info = service.get_json("/version")
    served = (info.get("model"), info.get("alias"))
    if served != (request.model, request.target.alias):
        raise DeployError(
            f"the service at {service.url} serves {served[0]}@{served[1]}, not "
            f"{request.model}@{request.target.alias}",
            path=service.url,
        )


class _Rollout:
    """One rollout's state while it runs."""

    def __init__(
        self,
        request: RolloutRequest[RestTarget],
        client: Any,
        service: ServiceClient,
        stable: str,
        progress: Progress,
    ) -> None:
        self.request = request
        self.client = client
        self.service = service
        self.stable = stable
        self.progress = progress
        self.candidate = request.candidate
        self.alias = request.target.alias
        self.settings = request.target.analysis
        self.result = RolloutResult(
            rollout=new_rollout_id(),
            model=request.model,
            target=request.target.name,
            alias=self.alias,
            url=request.target.url,
            strategy=request.strategy,
            stable=stable,
            candidate=self.candidate,
        )

    def emit(self, kind: str, message: str, **data: Any) -> None:
        self.progress(RolloutEvent(kind, message, data))

    def run(self) -> RolloutResult:
        result = self.result
        self.emit(
            "start",
            f"rollout {result.rollout}: {result.model} version {self.candidate} → "
            f"{self.alias} (now {self.stable}), {result.strategy} at {result.url}",
        )
        status = "FINISHED"
        try:
            self._verify_then_phases()
            self._promote()
        except _Failed as failure:
            self._roll_back(failure.reason, failure.checks)
        except DeployError as error:
            self._roll_back(str(error), [])
        except BaseException:
            status = "KILLED"
            self._roll_back("interrupted", [])
            raise
        finally:
            thresholds = self.request.target.analysis.to_json()
            result.mlflow_run = record_rollout(
                self.request.tracking_uri, result, thresholds, status
            )
        return result

    # --- stages -----------------------------------------------------------------------

    def _verify_then_phases(self) -> None:
        rollout = self.result.rollout
        example = verification.registry_example(
            self.request.tracking_uri, self.request.model, self.candidate
        )
        self._apply(staging_split(self.stable, self.candidate, rollout), "load the candidate")
        self.emit("staged", f"version {self.candidate} loaded beside {self.stable}, no traffic")
        smoke = verification.smoke_test(self.service, self.candidate, example)
        self.result.smoke = smoke
        verdict = "passed" if smoke.passed else "FAILED"
        self.emit("smoke", f"smoke test {verdict}: {smoke.detail}", passed=smoke.passed)
        if not smoke.passed:
            raise _Failed(f"smoke test: {smoke.detail}", [smoke])
        load = verification.load_check(
            self.service, self.candidate, example, self.settings, self.request.load_requests
        )
        self.result.load = load
        self.emit("load", f"load check: {_checks_line(load)}", passed=load.passed)
        if not load.passed:
            raise _Failed(f"load check: {_failed_line(load)}", load.failed())
        failed_windows = 0
        for index, phase in enumerate(plan(self.request.target, self.request.strategy), 1):
            failed_windows = self._phase(index, phase, failed_windows)

    def _phase(self, index: int, phase: Phase, failed_windows: int) -> int:
        """Hold ``phase`` until a window passes; returns the failed windows so far."""
        self._apply(phase.split(self.stable, self.candidate, self.result.rollout), phase.label)
        while True:
            doing = phase.describe(self.stable, self.candidate)
            self.emit("phase", f"phase {index} {phase.label}: {doing}", index=index)
            window = self._window(index, phase)
            self.result.windows.append(window)
            analysis = window.analysis
            self.emit(
                "window",
                f"phase {index} {phase.label}: {_checks_line(analysis)}",
                index=index,
                passed=analysis.passed,
            )
            if phase.feedback:  # A/B: how each version did
                self.emit("versions", "\n".join(window.version_lines()), index=index)
            if analysis.passed:
                return failed_windows
            failed_windows += 1
            if windows_to_rollback(failed_windows, self.settings):
                raise _Failed(f"{phase.label}: {_failed_line(analysis)}", analysis.failed())

    def _window(self, index: int, phase: Phase) -> PhaseWindow:
        from jupyter_mlops.deploy.serving.metrics_snapshot import snapshot_difference

        before = self.service.get_json("/stats")
        started = time.time()
        time.sleep(phase.seconds)
        after = self.service.get_json("/stats")
        window = snapshot_difference(after, before)
        # Without stable traffic in the window, compare with all the stable version answered.
        reference = window if phase.stable_answers else snapshot_difference(after, None)
        analysis = analyse_window(window, self.candidate, self.settings, self.stable, reference)
        versions = tuple(version_summary(window, v) for v in (self.stable, self.candidate))
        feedback = None
        log_dir = self.request.target.log_dir
        if phase.feedback and log_dir is not None:
            analysis, feedback = self._with_feedback(analysis, log_dir, started, time.time())
        return PhaseWindow(index, phase, analysis, versions, feedback)

    def _with_feedback(
        self, analysis: WindowAnalysis, log_dir: str, start: float, end: float
    ) -> tuple[WindowAnalysis, dict[str, Any] | None]:
        """``analysis`` plus the check of the versions' scores on the feedback labels."""
        from jupyter_mlops.deploy.rollout.feedback_metric import (
            compare_feedback,
            feedback_check,
            window_feedback,
        )

        labelled = window_feedback(log_dir, self.request.model, start, end)
        comparison = compare_feedback(labelled, self.stable, self.candidate)
        check = feedback_check(
            comparison, self.settings.feedback_alpha, max(self.settings.min_requests, 2)
        )
        checks = (*analysis.checks, check)
        extended = WindowAnalysis(analysis.version, analysis.reference, checks)
        return extended, comparison.to_json() if comparison else None

    def _promote(self) -> None:
        from jupyter_mlops.registry.alias_history import move_alias
        from jupyter_mlops.registry.traffic import clear_traffic
        from jupyter_mlops.tracking.tags import GATE

        gate = self.client.get_model_version(self.request.model, self.candidate).tags.get(GATE)
        move_alias(
            self.client,
            self.request.model,
            self.alias,
            self.candidate,
            "deploy",
            gate=gate,
            rollout=self.result.rollout,
            note=f"{self.result.strategy} to target {self.result.target}",
        )
        clear_traffic(self.client, self.request.model, self.alias)
        self.result.outcome = PROMOTED
        self.result.reason = "every check passed"
        self._settle_quietly(self.candidate)
        self.emit("promoted", self.result.describe())

    def _roll_back(self, reason: str, checks: list[Check]) -> None:
        from jupyter_mlops.registry.alias_history import record_unmoved
        from jupyter_mlops.registry.traffic import clear_traffic

        clear_traffic(self.client, self.request.model, self.alias)
        self.result.outcome = ROLLED_BACK
        self.result.reason = reason
        self.result.failed = checks
        record_unmoved(
            self.client,
            self.request.model,
            self.alias,
            "rollback",
            rollout=self.result.rollout,
            note=f"version {self.candidate} rolled back: {reason}",
        )
        self._settle_quietly(self.stable)
        self.emit("rolled_back", self.result.describe())

    # --- following the service ---------------------------------------------------------

    def _apply(self, split: TrafficSplit, what: str) -> None:
        """Write ``split`` and wait until the service serves it."""
        from jupyter_mlops.registry.traffic import write_traffic

        write_traffic(self.client, self.request.model, self.alias, split)
        self._settle(self.stable, split, what)

    def _settle(self, alias_version: str, split: TrafficSplit, what: str) -> None:
        deadline = time.monotonic() + self.request.settle_timeout
        while True:
            info = self.service.get_json("/version")
            if serves(info, alias_version, split):
                return
            if time.monotonic() > deadline:
                problems = "; ".join(f"{v}" for v in (info.get("problems") or {}).values())
                raise _Failed(
                    f"the service did not {what} within {self.request.settle_timeout:g}s"
                    + (f": {problems}" if problems else ""),
                    [Check("follow", None, None, False, problems or "timed out")],
                )
            time.sleep(SETTLE_POLL)

    def _settle_quietly(self, version: str) -> None:
        """Wait for the service to serve ``version`` alone; a warning when it does not."""
        try:
            self._settle(version, TrafficSplit.single(version), f"serve version {version}")
        except (_Failed, DeployError) as problem:
            self.emit("warning", f"warning: {problem}")


def serves(info: dict[str, Any], alias_version: str, split: TrafficSplit) -> bool:
    """Whether a service's ``/version`` shows ``split`` installed for ``alias_version``."""
    shares = {str(v.get("version")): v.get("share") for v in info.get("versions") or []}
    expected = {version: split.weights.get(version, 0) for version in split.versions()}
    return (
        bool(info.get("ready"))
        and str(info.get("alias_version")) == alias_version
        and info.get("rollout") == split.rollout
        and shares == expected
    )


def _checks_line(analysis: WindowAnalysis) -> str:
    verdict = "passed" if analysis.passed else "FAILED"
    return f"{verdict}: " + ", ".join(check.describe() for check in analysis.checks)


def _failed_line(analysis: WindowAnalysis) -> str:
    return "; ".join(check.describe() for check in analysis.failed())
