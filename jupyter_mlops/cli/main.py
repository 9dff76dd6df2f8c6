"""``jupyter mlops`` / ``jupyter-mlops``: a thin argparse adapter over the core functions.

Known errors print as one line (exit 2 for bad input, 1 for a failed run); anything else
prints a traceback. ``JUPYTER_MLOPS_DEBUG=1`` re-raises known errors too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

INTERRUPTED_RUN = "interrupted; completed steps are cached"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
# The [jupyter] extra's packages: a serving host installs jupyter_mlops without them.
NOTEBOOK_SIDE = frozenset(
    {"IPython", "ipykernel", "nbformat", "nbconvert", "papermill", "pandera", "ipywidgets"}
    | {"jupyterlab", "jupyter_server", "tornado", "ruff"}
)


def _interrupted_while_importing(signum: int, frame: object) -> None:
    """Nothing started yet, so nothing to stop: one line, exit 130."""
    print(INTERRUPTED_RUN if sys.argv[1:2] == ["run"] else "interrupted", file=sys.stderr)
    os._exit(EXIT_INTERRUPTED)


# Ctrl-C during the imports below (a fraction of a second) is one line too, not a traceback.
_sigint_before_imports = signal.getsignal(signal.SIGINT)
if (
    _sigint_before_imports is signal.default_int_handler
    and threading.current_thread() is threading.main_thread()  # signal.signal's requirement
):
    signal.signal(signal.SIGINT, _interrupted_while_importing)

from jupyter_mlops import __version__, api  # noqa: E402
from jupyter_mlops.cli.options import add_tracking_uri  # noqa: E402
from jupyter_mlops.errors import ExtractionErrors, MlopsError  # noqa: E402
from jupyter_mlops.execute.status import RunStatus  # noqa: E402

if signal.getsignal(signal.SIGINT) is _interrupted_while_importing:
    signal.signal(signal.SIGINT, _sigint_before_imports)

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
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in NOTEBOOK_SIDE:
            raise
        print(
            f"error: this command needs the notebook side of jupyter_mlops (no module "
            f"'{error.name}'): pip install 'jupyter_mlops[jupyter]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:  # the run's steps and workers were stopped on the way out
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the exit
        print(INTERRUPTED_RUN if args.command is run_command else "interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


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
    from jupyter_mlops.cli.deploy import add_deploy_parser
    from jupyter_mlops.cli.export import add_export_parser
    from jupyter_mlops.cli.gc import add_gc_parser
    from jupyter_mlops.cli.monitor import add_monitor_parser
    from jupyter_mlops.cli.package import add_package_parser
    from jupyter_mlops.cli.quality import add_quality_parsers
    from jupyter_mlops.cli.registry_commands import add_history_parser, add_rollback_parser
    from jupyter_mlops.cli.score import add_score_parser
    from jupyter_mlops.cli.serve import add_serve_parser
    from jupyter_mlops.cli.trigger import add_trigger_parser

    add_quality_parsers(commands)
    add_gc_parser(commands)
    add_history_parser(commands)
    add_rollback_parser(commands)
    add_serve_parser(commands)
    add_score_parser(commands)
    add_monitor_parser(commands)
    add_deploy_parser(commands)
    add_package_parser(commands)
    add_export_parser(commands)
    add_trigger_parser(commands)
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
        "--executor",
        default="local",
        help="where steps run: local (default: this machine) or dask (a Dask cluster)",
    )
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --executor dask: the cluster's scheduler (default: a local cluster)",
    )
    run.add_argument(
        "--store",
        metavar="URL",
        help="a store shared by machines (s3://bucket/prefix or a path): outputs and the "
        "cache index go there too, so other machines reuse them",
    )
    add_tracking_uri(run)
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


def show_command(args: argparse.Namespace) -> int:
    """``jupyter mlops show``."""
    pipeline = api.load_pipeline(args.target)
    store = api.store_usage(args.target)
    if args.json:
        shown = pipeline.to_json()
        print(json.dumps(shown if store is None else {**shown, "store": store.to_json()}, indent=2))
        return 0
    from jupyter_mlops.cli.show import render_pipeline

    print(render_pipeline(pipeline, api.model_names(pipeline), store))
    return 0


def extract_command(args: argparse.Namespace) -> int:
    """``jupyter mlops extract``."""
    done = api.extract(args.notebook, args.output)
    for warning in done.pipeline.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Extracted {len(done.pipeline.steps)} steps from {args.notebook} into {done.folder}/")
    for path in done.changed:
        print(f"  {'wrote' if path.exists() else 'removed'} {path}")
    if not done.changed:
        print("  (no file changed)")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """``jupyter mlops run``."""
    from jupyter_mlops.cli.progress import Progress, ProgressEvents
    from jupyter_mlops.cli.run_report import print_run_report
    from jupyter_mlops.pipeline.params import parse_assignments

    api.preload_executor(args.executor)
    params = parse_assignments(args.param)
    folder, pipeline = api.plan_run(args.target, params)
    options = api.RunOptions(
        params=params,
        force=args.force,
        from_step=args.from_step,
        only=args.only,
        workers=args.workers,
        engine=args.engine,
        executor=args.executor,
        scheduler=args.scheduler,
        store=args.store,
        tracking_uri=args.tracking_uri,
        track=not args.no_track,
    )
    names = [step.name for step in pipeline.steps]
    with ProgressEvents(names) if args.progress_events else Progress(names) as progress:
        options.progress = progress
        result = api.run(args.target, options)
    print_run_report(result, as_json=args.json)
    if args.fail_on_rejected and result.gates_rejected:
        return 1
    return 0 if result.status == RunStatus.SUCCEEDED else 1


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
    add_tracking_uri(promote)
    promote.set_defaults(command=promote_command)


def promote_command(args: argparse.Namespace) -> int:
    """``jupyter mlops promote``."""
    done = api.promote(args.target, args.version, args.alias, args.force, args.tracking_uri)
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
    done = api.write_schemas(args.pipeline, refresh=args.refresh)
    for path in done.written:
        print(f"wrote {path}")
    for path in done.kept:
        print(f"kept {path} (exists; --refresh re-infers it)")
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not done.written and not done.kept and not done.warnings:
        print("no DataFrame or Series outputs: no schema to write")
    return 0
