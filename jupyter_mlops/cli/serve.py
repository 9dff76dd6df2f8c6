"""CLI adapter of ``jupyter mlops serve``: the prediction service of a registered model.

Registered on the ``jupyter mlops`` parser by ``cli.build_parser``; it parses, calls
``api.serve`` (which returns when the service is stopped) and prints the ready line.
"""

from __future__ import annotations

import argparse

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the subcommands."""
    serve = commands.add_parser(
        "serve",
        help="serve a registered model over HTTP, following its registry alias",
        description="Serve the version that alias ALIAS of MODEL points at (and the traffic "
        "split a rollout set) on an HTTP service: MLflow-compatible POST /invocations, the "
        "Open Inference Protocol v2 (POST /v2/models/MODEL/infer), GET /ping, /health, "
        "/version, /metrics (Prometheus), POST /feedback. It polls the registry and swaps "
        "versions without failing a request. Binds 127.0.0.1 unless --host; any other "
        "address needs a bearer token. Stop it with Ctrl-C.",
    )
    serve.add_argument(
        "model", help="a registered model name, or a pipeline folder or notebook (its one model)"
    )
    serve.add_argument(
        "--alias",
        metavar="A",
        default="production",
        help="the alias to serve (default: production)",
    )
    serve.add_argument(
        "--host", metavar="HOST", default="127.0.0.1", help="address to bind (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        metavar="N",
        type=int,
        default=8080,
        help="port (default: 8080; 0 picks a free one)",
    )
    serve.add_argument(
        "--workers", metavar="N", type=int, default=1, help="worker processes (default: 1)"
    )
    add_tracking_uri(serve)
    serve.add_argument(
        "--poll-interval",
        metavar="DURATION",
        default="5s",
        help="how often to read the registry (default: 5s)",
    )
    serve.add_argument(
        "--log-dir",
        metavar="DIR",
        default="serve-log",
        help="request log and feedback folder (default: ./serve-log)",
    )
    serve.add_argument(
        "--no-log", action="store_true", help="keep no request log (and no feedback)"
    )
    serve.add_argument(
        "--log-sample",
        metavar="SHARE",
        type=float,
        default=1.0,
        help="share of requests logged, 0..1 (default: 1)",
    )
    serve.add_argument(
        "--max-body", metavar="SIZE", default="10MB", help="largest request body (default: 10MB)"
    )
    serve.add_argument(
        "--max-rows",
        metavar="N",
        type=int,
        default=10_000,
        help="most rows per request (default: 10000)",
    )
    serve.add_argument(
        "--batch-max",
        metavar="N",
        type=int,
        default=32,
        help="most rows micro-batched into one predict (default: 32)",
    )
    serve.add_argument(
        "--batch-wait",
        metavar="DURATION",
        default="2ms",
        help="under load, how long a request may wait for others to batch with (default: 2ms; "
        "a lone client never waits)",
    )
    serve.add_argument("--no-batch", action="store_true", help="predict every request on its own")
    serve.add_argument(
        "--token",
        metavar="TOKEN",
        help="bearer token required on every request but health checks "
        "(default: $JUPYTER_MLOPS_SERVE_TOKEN; required for a non-loopback --host)",
    )
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
    )
    api.serve(args.model, options, announce=lambda line: print(line, flush=True))
    print("stopped", flush=True)
    return 0
