"""CLI adapters for tests and CI: ``fixtures``, ``test``, ``check`` and ``ci init``.

Registered on the ``jupyter mlops`` parser by ``cli.build_parser``; each command only parses
its arguments, calls the core module and prints the result.
"""

from __future__ import annotations

import argparse
import sys

from jupyter_mlops import api


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
    from jupyter_mlops.quality.trigger_workflow import DEFAULT_SCHEDULE_OUTPUT

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
        "-o",
        "--output",
        help=f"the file (default: {DEFAULT_OUTPUT}; with --schedule: {DEFAULT_SCHEDULE_OUTPUT})",
    )
    init.add_argument(
        "--schedule",
        metavar="CRON",
        help="instead, a workflow running `jupyter mlops trigger` for each pipeline with a "
        "triggers: section on this cron schedule (UTC, e.g. '0 3 * * *') and on demand",
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
    captured = api.capture_fixtures(args.pipeline, args.max_rows, args.max_bytes)
    count = len(captured.manifest["fixtures"])
    print(f"Captured {count} fixtures into {captured.folder}/ from the latest run:")
    print(captured.describe())
    return 0


def test_command(args: argparse.Namespace) -> int:
    """``jupyter mlops test``: pytest on the pipeline's tests, in a child process."""
    tests = api.generated_tests(args.pipeline)
    if not tests.has_fixtures:
        print(
            "note: no fixtures captured yet, so the data-driven tests skip: run the pipeline "
            f"first (jupyter mlops run {tests.folder})",
            file=sys.stderr,
        )
    extra = list(args.pytest_args)
    return api.run_tests(tests.folder, extra[1:] if extra[:1] == ["--"] else extra)


def check_command(args: argparse.Namespace) -> int:
    """``jupyter mlops check``: 0 in sync, 1 with a diff."""
    report = api.check(args.notebook, args.pipeline)
    print(report.render())
    return 0 if report.in_sync else 1


def ci_init_command(args: argparse.Namespace) -> int:
    """``jupyter mlops ci init``."""
    from jupyter_mlops.quality.ci_workflow import DEFAULT_OUTPUT
    from jupyter_mlops.quality.trigger_workflow import DEFAULT_SCHEDULE_OUTPUT

    default = DEFAULT_SCHEDULE_OUTPUT if args.schedule else DEFAULT_OUTPUT
    output = args.output or default
    done = api.ci_init(args.notebooks, output, args.install, args.force, schedule=args.schedule)
    if args.schedule:
        print(f"Wrote {done.path}: on schedule '{args.schedule}' (UTC), jupyter mlops trigger for")
    else:
        print(f"Wrote {done.path}: on every push, check, test, nbval and a gated run of")
    for target in done.targets:
        print(f"  {target.folder} (from {target.notebook})")
    return 0
