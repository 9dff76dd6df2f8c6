"""CLI adapter of ``jupyter mlops export``: a pipeline as a Kubeflow Pipelines v2 spec or
an Airflow DAG file.

It parses, calls ``api.export`` and prints what was written (or, with ``--json``, the
result object).
"""

from __future__ import annotations

import argparse
import json

from jupyter_mlops import api
from jupyter_mlops.export.steps import (
    DEFAULT_PIPELINE_DIR,
    DEFAULT_RETRIES,
    OPERATORS,
    STORE_PARAMETER,
)


def add_export_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``export`` to the subcommands."""
    export = commands.add_parser(
        "export",
        help="export a pipeline to Kubeflow Pipelines (v2 spec) or Airflow (DAG file)",
        description="Write PIPELINE (an extracted pipeline folder, or a notebook whose package "
        "is extracted) as an orchestrator's file: 'kfp', a Kubeflow Pipelines v2 spec (IR "
        "YAML, needs the [kfp] extra); 'airflow', an Airflow DAG file. Each step is one task "
        f"running 'jupyter-mlops run {DEFAULT_PIPELINE_DIR} --only STEP --store URL -p …' in "
        "the pipeline's image, so the tasks share the artifacts and cache of the store at "
        f"URL (the '{STORE_PARAMETER}' parameter); the notebook's parameters become typed "
        "pipeline parameters with their defaults. The same input writes the same file.",
    )
    export.add_argument(
        "pipeline", metavar="PIPELINE", help="an extracted pipeline folder or its notebook"
    )
    export.add_argument(
        "--to", required=True, metavar="TARGET", help=" or ".join(api.EXPORT_TARGETS)
    )
    export.add_argument("-o", "--output", metavar="FILE", required=True, help="the file to write")
    export.add_argument(
        "--image",
        metavar="IMAGE",
        help="the image the steps run in: jupyter_mlops[jupyter], the pipeline's libraries "
        "and the pipeline folder at --pipeline-dir (default: <pipeline>-pipeline:latest)",
    )
    export.add_argument(
        "--store",
        metavar="URL",
        help=f"default of the '{STORE_PARAMETER}' parameter, the shared artifact store "
        "(fsspec URL, e.g. s3://bucket/mlops; default: none, given when the run is started)",
    )
    export.add_argument(
        "--retries",
        metavar="N",
        type=int,
        default=DEFAULT_RETRIES,
        help=f"retries of a failed step (default: {DEFAULT_RETRIES})",
    )
    export.add_argument(
        "--pipeline-dir",
        metavar="DIR",
        default=DEFAULT_PIPELINE_DIR,
        help=f"where the steps find the pipeline folder (default: {DEFAULT_PIPELINE_DIR})",
    )
    export.add_argument(
        "--operator",
        metavar="OPERATOR",
        default=OPERATORS[0],
        help="airflow: 'kubernetes' (default: a KubernetesPodOperator per step, in the "
        "image) or 'bash' (a BashOperator per step, on the Airflow worker)",
    )
    export.add_argument(
        "--image-context",
        metavar="DIR",
        help="also write the Docker build context of that image into DIR (absent, empty or "
        "an earlier context): Dockerfile, pinned requirements.txt, the pipeline folder; the "
        "artifact key is mounted at run time, never built in",
    )
    export.add_argument("--json", action="store_true", help="print the result as JSON")
    export.set_defaults(command=export_command)


def export_command(args: argparse.Namespace) -> int:
    """``jupyter mlops export``: 0 when the file is written."""
    options = api.ExportOptions(
        image=args.image,
        store=args.store,
        retries=args.retries,
        pipeline_dir=args.pipeline_dir,
        operator=args.operator,
    )
    result = api.export(args.pipeline, args.to, args.output, options, args.image_context)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    image = f", image {result.image}" if result.image else ""
    print(
        f"Exported pipeline '{result.pipeline}' to {result.target}: {result.path} "
        f"({len(result.tasks)} tasks, {len(result.edges)} edges{image})"
    )
    print(f"  parameters: {', '.join(result.parameters)}")
    if result.image_context:
        print(f"  image context: {result.image_context} (docker build -t {result.image} ...)")
    return 0
