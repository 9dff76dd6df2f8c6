"""The quality use cases: schemas, fixtures, the generated tests, the sync check and the CI
workflows (re-exported by ``jupyter_mlops.api``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_mlops.errors import PipelineError
from jupyter_mlops.pipeline.layout import resolve_target

if TYPE_CHECKING:
    from jupyter_mlops.extract.sync_check import SyncReport
    from jupyter_mlops.quality.ci_workflow import PipelineTarget
    from jupyter_mlops.quality.fixtures import Captured
    from jupyter_mlops.quality.schemas import SchemaWrite


def write_schemas(pipeline: str | Path, refresh: bool = False) -> SchemaWrite:
    """Infer data schemas from the latest cached artifacts of every step."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.schemas import schemas_from_cache

    pipeline_file = read_pipeline_file(pipeline)
    steps = [step.name for step in pipeline_file.pipeline.steps]
    return schemas_from_cache(pipeline_file.folder, steps, refresh=refresh)


def capture_fixtures(pipeline: str | Path, max_rows: int, max_bytes: int) -> Captured:
    """Capture the generated tests' fixtures from the latest run's artifacts."""
    from jupyter_mlops.quality.fixtures import capture_fixtures as capture

    return capture(pipeline, max_rows=max_rows, max_bytes=max_bytes)


@dataclass
class GeneratedTests:
    """A pipeline's generated tests: their folder and whether fixtures were captured."""

    folder: Path
    tests: Path
    has_fixtures: bool


def generated_tests(pipeline: str | Path) -> GeneratedTests:
    """Where the generated tests of ``pipeline`` are; refused when it has none."""
    from jupyter_mlops.extract.sync_check import check_extracted_by_this_version
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.fixtures import read_manifest

    pipeline_file = read_pipeline_file(pipeline)
    folder = pipeline_file.folder
    check_extracted_by_this_version(folder, pipeline_file.pipeline.notebook)
    tests = folder / "tests"
    if not tests.is_dir():
        raise PipelineError("has no tests/ folder: re-extract the notebook", path=str(folder))
    return GeneratedTests(folder, tests, read_manifest(folder) is not None)


def run_tests(pipeline: str | Path, pytest_args: Sequence[str] = ()) -> int:
    """pytest on the generated tests, in a child process; pytest's exit code."""
    tests = generated_tests(pipeline)
    command = [sys.executable, "-m", "pytest", str(tests.tests), f"--rootdir={tests.folder}"]
    return subprocess.call([*command, *pytest_args])


def check(notebook: str | Path, pipeline: str | Path | None = None) -> SyncReport:
    """Compare the extracted folder with what extracting ``notebook`` gives now."""
    from jupyter_mlops.extract.sync_check import check_sync

    target = resolve_target(notebook, pipeline)
    return check_sync(target.notebook or notebook, target.folder)


@dataclass
class WorkflowWritten:
    """What ``ci init`` wrote."""

    path: Path
    targets: list[PipelineTarget]


def ci_init(
    notebooks: Sequence[str],
    output: str | Path,
    install: Sequence[str] | None = None,
    force: bool = False,
    root: Path | None = None,
    schedule: str | None = None,
) -> WorkflowWritten:
    """Write a GitHub Actions workflow checking, testing and running the pipelines; with
    ``schedule`` (a cron expression) one evaluating their triggers on that schedule."""
    from jupyter_mlops.quality import ci_workflow

    root = root or Path.cwd()
    targets = (
        ci_workflow.targets_for(list(notebooks), root)
        if notebooks
        else ci_workflow.discover_pipelines(root)
    )
    commands = list(install or ci_workflow.default_install(root))
    if schedule is None:
        text = ci_workflow.workflow_yaml(targets, commands)
    else:
        from jupyter_mlops.quality import trigger_workflow
        from jupyter_mlops.triggers.cron import parse_cron

        parse_cron(schedule, "--schedule")
        targets = trigger_workflow.with_triggers(targets, root)
        text = trigger_workflow.trigger_workflow_yaml(targets, commands, schedule)
    ci_workflow.write_workflow(Path(output), text, force)
    return WorkflowWritten(Path(output), targets)
