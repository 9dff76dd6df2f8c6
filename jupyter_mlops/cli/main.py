"""``jupyter mlops`` / ``jupyter-mlops``: a thin argparse adapter over the core functions.

Known errors print as one line (exit 2 for bad input, 1 for a failed run); anything else
prints a traceback. ``JUPYTER_MLOPS_DEBUG=1`` re-raises known errors too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from jupyter_mlops import __version__
from jupyter_mlops.errors import ExtractionErrors, MlopsError

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jupyter-mlops`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.command(args))
    except BrokenPipeError:
        sys.stderr.close()  # output piped into e.g. `head`: stop quietly
        return 0
    except MlopsError as error:
        if os.environ.get("JUPYTER_MLOPS_DEBUG") == "1":
            raise
        report_error(error)
        return error.exit_code


def report_error(error: MlopsError) -> None:
    """Print a known error as one line per problem on stderr."""
    problems = error.errors if isinstance(error, ExtractionErrors) else [error]
    for problem in problems:
        where = f"{error.path}: " if isinstance(error, ExtractionErrors) and error.path else ""
        print(f"error: {where}{problem}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="jupyter mlops",
        description="Turn %%mlstep notebook cells into a pipeline package; inspect and run it.",
    )
    parser.add_argument("--version", action="version", version=f"jupyter_mlops {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    show = commands.add_parser(
        "show",
        help="print a notebook's or pipeline's steps and dependencies",
        description="Print the steps of a notebook or an extracted pipeline folder: "
        "inputs (with the step producing each), outputs and parameters, and the DAG.",
    )
    show.add_argument("target", help="a notebook (.ipynb) or an extracted pipeline folder")
    show.add_argument("--json", action="store_true", help="print the pipeline as JSON")
    show.set_defaults(command=show_command)

    extract = commands.add_parser(
        "extract",
        help="extract a notebook's steps into a pipeline package",
        description="Write the pipeline package for NOTEBOOK: pipeline.yaml, one module, "
        "notebook and test per step, and the shared setup module. Only changed files are "
        "rewritten; nothing is written when the notebook has extraction errors.",
    )
    extract.add_argument("notebook", help="the notebook (.ipynb) to extract")
    extract.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="where to write the package (default: pipelines/<notebook stem>/ next to it)",
    )
    extract.set_defaults(command=extract_command)
    add_run_parser(commands)
    add_promote_parser(commands)
    add_schema_parser(commands)
    from jupyter_mlops.cli.quality import add_quality_parsers

    add_quality_parsers(commands)
    return parser


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    """The ``run`` subcommand's arguments."""
    run = commands.add_parser(
        "run",
        help="run a pipeline headless (cached, parallel, recorded in MLflow)",
        description="Run TARGET (an extracted pipeline folder, or a notebook: extracted first "
        "into pipelines/<stem>/ next to it). Steps run in dependency order, independent steps "
        "in parallel; a step whose code, setup code, parameters and inputs are unchanged is "
        "taken from the cache. Exit 1 when a step fails, 2 for bad input.",
    )
    run.add_argument("target", help="an extracted pipeline folder or a notebook (.ipynb)")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a pipeline parameter (VALUE is a Python literal; repeatable)",
    )
    run.add_argument("--force", action="store_true", help="re-run every step, ignoring the cache")
    run.add_argument(
        "--from", dest="from_step", metavar="STEP", help="re-run STEP and all after it"
    )
    run.add_argument(
        "--only", nargs="+", metavar="STEP", help="run only these steps (upstream from the cache)"
    )
    run.add_argument(
        "--workers", type=int, default=0, help="steps run at once (default: CPU count)"
    )
    run.add_argument(
        "--engine",
        default="papermill",
        help="papermill (default: runs each step notebook, keeps it as the report) or inprocess",
    )
    run.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
        "else sqlite:///<project>/mlflow.db)",
    )
    run.add_argument("--no-track", action="store_true", help="do not record the run in MLflow")
    run.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (progress on stderr)"
    )
    run.add_argument(
        "--fail-on-rejected",
        action="store_true",
        help="exit 1 when the gates reject the new model (default: a rejection is reported, "
        "the model gets no alias, and the exit code stays 0)",
    )
    run.add_argument(
        "--progress-events",
        action="store_true",
        help='progress as one JSON line per step state change on stderr: {"step": NAME, '
        '"state": waiting|running|ran|cached|failed|not_run, "seconds": S}',
    )
    run.set_defaults(command=run_command)


def load_target(target: str):  # type: ignore[no-untyped-def]
    """The pipeline model of a notebook file or an extracted pipeline folder."""
    path = Path(target)
    if path.is_dir():
        from jupyter_mlops.pipeline.pipeline_file import read_pipeline

        return read_pipeline(path)
    from jupyter_mlops.authoring.scan import scan_notebook

    return scan_notebook(path)


def show_command(args: argparse.Namespace) -> int:
    """``jupyter mlops show``."""
    pipeline = load_target(args.target)
    if args.json:
        print(json.dumps(pipeline.to_json(), indent=2))
        return 0
    from jupyter_mlops.cli.show import render_pipeline

    print(render_pipeline(pipeline))
    return 0


def extract_command(args: argparse.Namespace) -> int:
    """``jupyter mlops extract``."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import default_output_dir, write_package

    notebook = Path(args.notebook)
    pipeline = scan_notebook(notebook)
    out_dir = Path(args.output) if args.output else default_output_dir(notebook)
    changed = write_package(pipeline, out_dir)
    for warning in pipeline.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Extracted {len(pipeline.steps)} steps from {notebook} into {out_dir}/")
    if changed:
        for path in changed:
            print(f"  {'wrote' if path.exists() else 'removed'} {path}")
    else:
        print("  (no file changed)")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """``jupyter mlops run``."""
    from jupyter_mlops.cli.run_report import print_run_report
    from jupyter_mlops.execute.runner import RunOptions, run_pipeline
    from jupyter_mlops.pipeline.params import parse_assignments

    folder = resolve_run_target(Path(args.target))
    check_gates(folder)
    options = RunOptions(
        params=parse_assignments(args.param),
        force=args.force,
        from_step=args.from_step,
        only=args.only,
        workers=args.workers,
        engine=args.engine,
        tracking_uri=args.tracking_uri,
        track=not args.no_track,
    )
    if args.progress_events:
        from jupyter_mlops.execute.progress import ProgressEvents
        from jupyter_mlops.pipeline.pipeline_file import read_pipeline

        with ProgressEvents([s.name for s in read_pipeline(folder).steps]) as events:
            options.progress = events
            result = run_pipeline(folder, options)
    else:
        result = run_pipeline(folder, options, show_progress=True)
    from jupyter_mlops.cli.quality import capture_fixtures_after_run

    capture_fixtures_after_run(folder, result)
    print_run_report(result, as_json=args.json)
    if args.fail_on_rejected and result.gates is not None and not result.gates.validated:
        return 1
    return 0 if result.status == "succeeded" else 1


def check_gates(folder: Path) -> None:
    """Stop on a malformed ``gates:`` section before any step runs."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.gates.config import read_gates

    read_gates(read_pipeline_file(folder))


def add_promote_parser(commands: argparse._SubParsersAction) -> None:
    """The ``promote`` subcommand's arguments."""
    promote = commands.add_parser(
        "promote",
        help="point a registry alias (champion) at a model version",
        description="Move alias ALIAS (default champion) of the registered model of TARGET "
        "(a pipeline folder, its notebook, or a registered model name) to version N (default: "
        "the current challenger). A version the gates rejected is refused (exit 1) unless "
        "--force.",
    )
    promote.add_argument("target", help="a pipeline folder, its notebook, or a model name")
    promote.add_argument("--version", help="the version to promote (default: the challenger)")
    promote.add_argument(
        "--alias", default="champion", help="the alias to move (default: champion)"
    )
    promote.add_argument(
        "--force", action="store_true", help="promote even a version the gates rejected"
    )
    promote.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
        "else sqlite:///<project>/mlflow.db)",
    )
    promote.set_defaults(command=promote_command)


def promote_command(args: argparse.Namespace) -> int:
    """``jupyter mlops promote``."""
    from jupyter_mlops.registry.promotion import promote, resolve_model

    name, uri = resolve_model(args.target, args.tracking_uri)
    done = promote(uri, name, version=args.version, alias=args.alias, force=args.force)
    print(done.describe())
    return 0


def add_schema_parser(commands: argparse._SubParsersAction) -> None:
    """The ``schema`` subcommand's arguments."""
    schema = commands.add_parser(
        "schema",
        help="write data schemas inferred from the latest artifacts of a pipeline",
        description="Infer a pandera schema (schemas/<step>.<name>.yaml) and drift reference "
        "statistics (schemas/<step>.<name>.stats.json) for every DataFrame/Series output of "
        "PIPELINE from the latest successful artifacts of each step. Existing schemas are "
        "kept unless --refresh. Refused when the pipeline has not run yet.",
    )
    schema.add_argument("pipeline", help="an extracted pipeline folder")
    schema.add_argument(
        "--refresh", action="store_true", help="re-infer and overwrite existing schemas"
    )
    schema.set_defaults(command=schema_command)


def schema_command(args: argparse.Namespace) -> int:
    """``jupyter mlops schema``."""
    from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file
    from jupyter_mlops.quality.schemas import schemas_from_cache

    pipeline_file = read_pipeline_file(args.pipeline)
    steps = [step.name for step in pipeline_file.pipeline.steps]
    done = schemas_from_cache(pipeline_file.folder, steps, refresh=args.refresh)
    for path in done.written:
        print(f"wrote {path}")
    for path in done.kept:
        print(f"kept {path} (exists; --refresh re-infers it)")
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not done.written and not done.kept and not done.warnings:
        print("no DataFrame or Series outputs: no schema to write")
    return 0


def resolve_run_target(target: Path) -> Path:
    """A pipeline folder to run: the target itself, or the notebook's extracted package."""
    if target.is_dir():
        return target
    if target.suffix != ".ipynb":
        raise MlopsError("expected a pipeline folder or a .ipynb notebook", path=str(target))
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract.writer import default_output_dir, write_package

    out_dir = default_output_dir(target)
    write_package(scan_notebook(target), out_dir)
    return out_dir
