"""CLI adapters for tests and CI: ``fixtures``, ``test``, ``check`` and ``ci init``.

Registered on the ``jupyter mlops`` parser by ``cli.build_parser``; each command only parses
its arguments, calls the core module and prints the result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import MlopsError, PipelineError


def add_quality_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``fixtures``, ``test``, ``check`` and ``ci`` to the subcommands."""
    from jupyter_mlops.quality.fixtures import MAX_BYTES, MAX_ROWS

    fixtures = commands.add_parser(
        "fixtures",
        help="capture small test fixtures from a pipeline's latest run",
        description="Write PIPELINE/tests/fixtures/: at most --max-rows rows of every "
        "DataFrame/Series/array that a step takes as input (same rows across inputs of equal "
        "length, stratified by an obvious label), other inputs whole when small, and "
        "manifest.json with the types the run recorded. Replaces the fixtures captured "
        "before; `jupyter mlops run` captures them by itself when there are none.",
    )
    fixtures.add_argument("pipeline", help="an extracted pipeline folder that has run")
    fixtures.add_argument("--max-rows", type=int, default=MAX_ROWS, help="rows kept per input")
    fixtures.add_argument(
        "--max-bytes",
        type=int,
        default=MAX_BYTES,
        help="largest non-tabular input (a model) stored whole; larger ones are rebuilt",
    )
    fixtures.set_defaults(command=fixtures_command)

    test = commands.add_parser(
        "test",
        help="run a pipeline's generated tests on its fixtures",
        description="Run pytest on PIPELINE/tests: each step function on its fixtures (types, "
        "finite numbers, schemas, a --model beating a dummy baseline) and the whole pipeline "
        "on the fixtures with the in-process engine and with papermill (every step notebook "
        "executed with fixture inputs). Arguments after PIPELINE go to pytest. Exit code: "
        "pytest's.",
    )
    test.add_argument("pipeline", help="an extracted pipeline folder")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    test.set_defaults(command=test_command)

    check = commands.add_parser(
        "check",
        help="check that a pipeline folder is what extracting its notebook gives now",
        description="Exit 0 when every generated file in PIPELINE (default: pipelines/<stem>/ "
        "next to NOTEBOOK) is exactly what `jupyter mlops extract` would write now; exit 1 "
        "with a unified diff per file when not. schemas/, tests/fixtures/ and the drift/gates "
        "sections of pipeline.yaml are the user's and are not compared.",
    )
    check.add_argument("notebook", help="the source notebook (.ipynb)")
    check.add_argument("pipeline", nargs="?", help="the extracted pipeline folder")
    check.set_defaults(command=check_command)
    add_ci_parser(commands)


def add_ci_parser(commands: argparse._SubParsersAction) -> None:
    """``ci init``."""
    from jupyter_mlops.quality.ci_workflow import DEFAULT_OUTPUT

    ci = commands.add_parser("ci", help="set up continuous integration")
    actions = ci.add_subparsers(title="actions", metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="write a GitHub Actions workflow",
        description="Write a GitHub Actions workflow that, on every push and pull request, "
        "runs for each extracted pipeline: jupyter mlops check, jupyter mlops test, "
        "pytest --nbval-lax on the notebooks and jupyter mlops run --fail-on-rejected. "
        "Without NOTEBOOKs, every extracted pipeline under the current folder is included.",
    )
    init.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="notebooks to include")
    init.add_argument(
        "-o", "--output", default=DEFAULT_OUTPUT, help=f"the file (default: {DEFAULT_OUTPUT})"
    )
    init.add_argument(
        "--install",
        action="append",
        metavar="COMMAND",
        help="install command(s) for CI (default: pip install the project, then "
        "jupyter_mlops pytest nbval)",
    )
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(command=ci_init_command)
    ci.set_defaults(command=lambda _args: ci.print_help() or 2)


def fixtures_command(args: argparse.Namespace) -> int:
    """``jupyter mlops fixtures``."""
    from jupyter_mlops.quality.fixtures import capture_fixtures

    captured = capture_fixtures(args.pipeline, max_rows=args.max_rows, max_bytes=args.max_bytes)
    count = len(captured.manifest["fixtures"])
    print(f"Captured {count} fixtures into {captured.folder}/ from the latest run:")
    print(captured.describe())
    return 0


def test_command(args: argparse.Namespace) -> int:
    """``jupyter mlops test``: pytest on the pipeline's tests, in a child process."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.fixtures import read_manifest

    folder = read_pipeline_file(args.pipeline).folder
    tests = folder / "tests"
    if not tests.is_dir():
        raise PipelineError("has no tests/ folder: re-extract the notebook", path=str(folder))
    if read_manifest(folder) is None:
        print(
            "note: no fixtures captured yet, so the data-driven tests skip: run the pipeline "
            f"first (jupyter mlops run {folder})",
            file=sys.stderr,
        )
    extra = list(args.pytest_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    command = [sys.executable, "-m", "pytest", str(tests), f"--rootdir={folder}", *extra]
    return subprocess.call(command)


def check_command(args: argparse.Namespace) -> int:
    """``jupyter mlops check``: 0 in sync, 1 with a diff."""
    from jupyter_mlops.extract.sync_check import check_sync
    from jupyter_mlops.extract.writer import default_output_dir

    notebook = Path(args.notebook)
    folder = Path(args.pipeline) if args.pipeline else default_output_dir(notebook)
    report = check_sync(notebook, folder)
    print(report.render())
    return 0 if report.in_sync else 1


def ci_init_command(args: argparse.Namespace) -> int:
    """``jupyter mlops ci init``."""
    from jupyter_mlops.quality.ci_workflow import (
        default_install,
        discover_pipelines,
        targets_for,
        workflow_yaml,
        write_workflow,
    )

    root = Path.cwd()
    targets = targets_for(args.notebooks, root) if args.notebooks else discover_pipelines(root)
    text = workflow_yaml(targets, args.install or default_install(root))
    output = Path(args.output)
    write_workflow(output, text, args.force)
    print(f"Wrote {output}: on every push, check, test, nbval and a gated run of")
    for target in targets:
        print(f"  {target.folder} (from {target.notebook})")
    return 0


def capture_fixtures_after_run(folder: Path, result: Any) -> None:
    """After a successful full run: capture fixtures when the folder has none (or stale ones).

    A failure to capture is a warning: the run itself succeeded.
    """
    from jupyter_mlops.quality.fixtures import capture_if_missing

    if result.status != "succeeded":
        return
    outputs = {name: step.outputs for name, step in result.steps.items()}
    if any(step.status not in ("ran", "cached") for step in result.steps.values()):
        return  # --only: not every step's outputs are known
    try:
        captured = capture_if_missing(folder, outputs)
    except Exception as error:  # the run succeeded: a capture problem is only a warning
        detail = str(error) if isinstance(error, MlopsError) else f"{type(error).__name__}: {error}"
        print(f"warning: test fixtures not captured: {detail}", file=sys.stderr)
        return
    if captured is not None:
        print(
            f"Captured test fixtures into {captured.folder}/ (review and commit them; "
            "`jupyter mlops fixtures` refreshes them)",
            file=sys.stderr,
        )
