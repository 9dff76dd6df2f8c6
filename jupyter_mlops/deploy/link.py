"""After-run link ``deploy``: a target with ``auto: true`` gets each version the run
registered and the gates validated (or any new version when the model has no gates),
rolled out with the target's strategy. A rollback fails the run (``RolloutFailed``); a
promotion is a note of the run. Untracked runs and failed runs deploy nothing."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_mlops.deploy.targets import read_targets
from jupyter_mlops.errors import RolloutFailed

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun

LINK = "deploy"


def add_deploy_link() -> None:
    """Put ``deploy`` at the end of the after-run chain, after the records and the gates
    (once per process)."""
    from jupyter_mlops.execute.after_run import add_link, link_names

    if LINK in link_names():
        return
    with contextlib.suppress(ValueError):  # added meanwhile by another thread
        add_link(LINK, deploy_link)


def check_deploy_section(folder: str | Path) -> None:
    """``DeployError`` naming the key when the pipeline's ``deploy:`` section is malformed."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

    read_targets(read_pipeline_file(folder))


def deploy_link(context: AfterRun) -> None:
    """Roll each new validated version out to every ``auto`` target of the pipeline."""
    targets = [t for t in read_targets(context.pipeline_file).values() if t.auto]
    if not targets or not context.track or context.uri is None or not context.succeeded:
        return
    from jupyter_mlops.deploy.kinds import deploy_to

    failed = []
    for name, version in validated_versions(context).items():
        for target in (t for t in targets if t.model in (None, name)):
            result = deploy_to(context.uri, name, target, version)
            line = f"deploy {target.name}: {result.describe()}"
            context.result.notes.append(line)
            if not result.promoted:
                failed.append(line)
    if failed:
        raise RolloutFailed("; ".join(failed))


def validated_versions(context: AfterRun) -> dict[str, str]:
    """Registered model name → the version this run registered, when the gates validated
    it or the model has none."""
    versions = {}
    for step in context.model_steps():
        version = context.registered.get(step.name)
        if version is None:
            continue
        name = context.model_name(step.name)
        gate = context.result.model_gates.get(name)
        if gate is None or gate.validated:
            versions[name] = version
    return versions
