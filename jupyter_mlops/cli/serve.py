"""CLI adapter of ``jupyter mlops serve``: the prediction service of a registered model.

Registered on the ``jupyter mlops`` parser by ``cli.build_parser``; it parses, calls
``api.serve`` (which returns when the service is stopped) and prints the ready line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri


class _Value(NamedTuple):
    """An option taking a value: ``FLAG METAVAR``, parsed by ``type``."""

    flag: str
    metavar: str
    default: Any
    help: str
    type: Callable[[str], Any] = str


class _Switch(NamedTuple):
    """An on/off option (``store_true``)."""

    flag: str
    help: str


_SERVICE_OPTIONS: Sequence[_Value] = (
    _Value("--alias", "A", "production", "the alias to serve (default: production)"),
    _Value("--host", "HOST", "127.0.0.1", "address to bind (default: 127.0.0.1)"),
    _Value("--port", "N", 8080, "port (default: 8080; 0 picks a free one)", int),
    _Value("--workers", "N", 1, "worker processes (default: 1)", int),
)

_BEHAVIOUR_OPTIONS: Sequence[_Value | _Switch] = (
    _Value("--poll-interval", "DURATION", "5s", "how often to read the registry (default: 5s)"),
    _Value(
        "--log-dir",
        "DIR",
        "serve-log",
        "request log and feedback folder (default: ./serve-log)",
    ),
    _Switch("--no-log", "keep no request log (and no feedback)"),
    _Value("--log-sample", "SHARE", 1.0, "share of requests logged, 0..1 (default: 1)", float),
    _Value("--max-body", "SIZE", "10MB", "largest request body (default: 10MB)"),
    _Value("--max-rows", "N", 10_000, "most rows per request (default: 10000)", int),
    _Value("--batch-max", "N", 32, "most rows micro-batched into one predict (default: 32)", int),
    _Value(
        "--batch-wait",
        "DURATION",
        "2ms",
        "under load, how long a request may wait for others to batch with (default: 2ms; "
        "a lone client never waits)",
    ),
    _Switch("--no-batch", "predict every request on its own"),
    _Value(
        "--token",
        "TOKEN",
        None,
        "bearer token required on every request but health checks "
        "(default: $JUPYTER_MLOPS_SERVE_TOKEN; required for a non-loopback --host)",
    ),
    _Value(
        "--trust-digest",
        "SHA256",
        None,
        "also load a model version whose files have this digest (sha256 of the model "
        "folder) though not sealed by this user's key: a container's baked-in model",
    ),
)


def _add_options(parser: argparse.ArgumentParser, options: Sequence[_Value | _Switch]) -> None:
    """Add each option of the table, in its order."""
    for option in options:
        if isinstance(option, _Switch):
            parser.add_argument(option.flag, action="store_true", help=option.help)
        else:
            parser.add_argument(
                option.flag,
                metavar=option.metavar,
                type=option.type,
                default=option.default,
                help=option.help,
            )


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the subcommands."""
    serve = commands.add_parser(
        "serve",
        help="serve a registered model over HTTP, following its registry alias",
        description="Serve the version that alias ALIAS of MODEL points at (and the traffic "
        "split a rollout set) on an HTTP service: MLflow-compatible POST /invocations, the "
        "Open Inference Protocol v2 (POST /v2/models/MODEL/infer), GET /ping, /health, "
        "/version, /metrics (Prometheus), POST /feedback. It polls the registry and swaps "
        "versions without failing a request. With --lookup URL#TABLE it also answers GET "
        "/predictions/KEY from a predictions table (jupyter mlops score, a batch deploy); "
        "MODEL may then be left out. Binds 127.0.0.1 unless --host; any other "
        "address needs a bearer token. Stop it with Ctrl-C.",
    )
    serve.add_argument(
        "model",
        nargs="?",
        help="a registered model name, or a pipeline folder or notebook (its one model); "
        "optional with --lookup",
    )
    serve.add_argument(
        "--lookup",
        metavar="URL#TABLE",
        help="answer GET /predictions/KEY from table TABLE of the database at SQLAlchemy "
        "URL (e.g. sqlite:///predictions.db#churn_predictions)",
    )
    _add_options(serve, _SERVICE_OPTIONS)
    add_tracking_uri(serve)
    _add_options(serve, _BEHAVIOUR_OPTIONS)
    serve.set_defaults(command=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """``jupyter mlops serve``: returns when the service stops."""
    options = api.ServeOptions(
        alias=args.alias,
        host=args.host,
        port=args.port,
        workers=args.workers,
        tracking_uri=args.tracking_uri,
        poll_interval=args.poll_interval,
        log_dir=None if args.no_log else args.log_dir,
        log_sample=args.log_sample,
        max_body=args.max_body,
        max_rows=args.max_rows,
        batch_max=1 if args.no_batch else args.batch_max,
        batch_wait=args.batch_wait,
        token=args.token,
        trust_digest=args.trust_digest,
        lookup=args.lookup,
    )
    api.serve(args.model, options, announce=lambda line: print(line, flush=True))
    print("stopped", flush=True)
    return 0
