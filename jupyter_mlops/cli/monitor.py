"""CLI adapter of ``jupyter mlops monitor``: parses, calls ``api.monitor``, prints a text
summary per window (or the result as JSON with ``--json``). Exits 1 when ``--fail-on``
names something that fired on the latest window."""

from __future__ import annotations

import argparse
import json
from typing import Any

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri

MAX_COLUMNS_SHOWN = 8


def add_monitor_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``monitor`` to the subcommands."""
    monitor = commands.add_parser(
        "monitor",
        help="compare production data with a model version's training reference",
        description="Compare current data (a file, a SQL query or the prediction service's "
        "request log with its feedback labels) with the reference stored with the model "
        "version at registration, window by window: feature drift, prediction drift (against "
        "the reference and between versions served side by side), performance on labels or, "
        "for a binary classifier without labels, estimated by CBPE. Each window is recorded "
        "in the MLflow experiment <model>-monitoring.",
    )
    monitor.add_argument("model", help="MODEL (its production alias), MODEL@ALIAS or MODEL/VERSION")
    source = monitor.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", metavar="SOURCE", help="a .parquet or .csv file, or a database URL with --query"
    )
    source.add_argument(
        "--service-log", metavar="DIR", help="the prediction service's log folder (serve --log-dir)"
    )
    monitor.add_argument("--query", metavar="SQL", help="the SQL query giving the rows of --data")
    monitor.add_argument(
        "--since", metavar="T", help="only rows from T on: an ISO time or a duration back (24h)"
    )
    monitor.add_argument(
        "--window",
        metavar="DURATION",
        help="window length, e.g. 30m, 1h, 1d (default: monitor.window, else 1h); data "
        "without a 'time' column is one window",
    )
    monitor.add_argument("--labels", metavar="COL", help="the label column of --data")
    monitor.add_argument("--report", metavar="FILE.html", help="write the HTML report")
    monitor.add_argument(
        "--fail-on",
        metavar="drift,decay",
        default="",
        help="exit 1 when one of these fired on the latest window",
    )
    monitor.add_argument(
        "--pipeline", metavar="DIR", help="the pipeline folder whose monitor: settings apply"
    )
    monitor.add_argument("--json", action="store_true", help="print the result as JSON")
    add_tracking_uri(monitor)
    monitor.set_defaults(command=monitor_command)


def monitor_command(args: argparse.Namespace) -> int:
    """``jupyter mlops monitor``."""
    result = api.monitor(
        args.model,
        data=args.data,
        query=args.query,
        service_log=args.service_log,
        since=args.since,
        window=args.window,
        labels=args.labels,
        report=args.report,
        fail_on=[name.strip() for name in args.fail_on.split(",") if name.strip()],
        tracking_uri=args.tracking_uri,
        pipeline=args.pipeline,
    )
    document = result.to_json()
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    else:
        print("\n".join(summary_lines(document)))
    return 1 if result.failed else 0


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The text summary: the reference, one block per window, what fired."""
    reference, source = result["reference"], result["source"]
    lines = [
        f"{result['selector']}: reference version {reference['version']} "
        f"({reference['rows']:,} training rows, {len(reference['columns'])} features); "
        f"{source['kind']} {source['location']}"
    ]
    for window in result["windows"]:
        lines.extend(window_lines(window))
    if result.get("report"):
        lines.append(f"report: {result['report']}")
    fired = result["fired"]
    verdict = ", ".join(fired) if fired else "nothing"
    lines.append(f"latest window: {verdict} fired (MLflow experiment {result['experiment']})")
    return lines


def window_lines(window: dict[str, Any]) -> list[str]:
    """The lines of one window."""
    start = window["start"] or "all rows"
    versions = ", ".join(f"v{v}: {n:,}" for v, n in window["versions"].items())
    drift = window["drift"]
    drifted = [c["column"] for c in drift["columns"] if c["drifted"]]
    shown = ", ".join(drifted[:MAX_COLUMNS_SHOWN]) + (
        " …" if len(drifted) > MAX_COLUMNS_SHOWN else ""
    )
    verdict = "DRIFT" if drift["drifted"] else "no drift"
    lines = [
        f"window {start}: {window['rows']:,} rows ({versions})",
        f"  features: {verdict}, {len(drifted)}/{len(drift['columns'])} columns drifted "
        f"(share {drift['share']:.2f})" + (f": {shown}" if drifted else ""),
    ]
    lines.extend(_prediction_lines(window["prediction_drift"]))
    performance = window["performance"]
    if performance is not None:
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in performance["metrics"].items())
        what = "estimated by CBPE" if performance["source"] == "cbpe" else performance["source"]
        decayed = f"; DECAY: {', '.join(window['decayed'])}" if window.get("decayed") else ""
        lines.append(f"  performance ({what}, {performance['rows']:,} rows): {metrics}{decayed}")
    return lines


def _prediction_lines(prediction: dict[str, Any]) -> list[str]:
    lines = []
    reference = prediction.get("reference")
    if reference is not None:
        lines.append(f"  predictions vs reference: {_drift_text(reference)}")
    between = prediction.get("between_versions")
    if between is not None:
        first, second = between["versions"]
        lines.append(f"  predictions v{first} vs v{second}: {_drift_text(between)}")
    return lines


def _drift_text(drift: dict[str, Any]) -> str:
    verdict = "DRIFT" if drift["drifted"] else "no drift"
    statistic = drift["statistic"]
    shown = "inf" if statistic is None else f"{statistic:.3f}"  # JSON has no infinity
    return f"{verdict} ({drift['test']} {shown})"
