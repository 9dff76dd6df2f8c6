"""CLI adapter of ``jupyter mlops package``: a registered model version as a wheel, a
container build context or Kubernetes manifests.

It parses, calls ``api.package`` and prints the folder and its files (or, with
``--json``, the result object).
"""

from __future__ import annotations

import argparse
import json
import os

from jupyter_mlops import api
from jupyter_mlops.cli.options import add_tracking_uri

FORMATS = ("wheel", "container", "kserve", "kubernetes")


def add_package_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``package`` to the subcommands."""
    package = commands.add_parser(
        "package",
        help="package a registered model version: wheel, container context, k8s manifests",
        description="Write a package of the model version MODEL names (MODEL: its production "
        "alias; MODEL@ALIAS; MODEL/VERSION) into DIR: 'wheel', a pip-installable "
        "<model>_model wheel with predict(rows); 'container', a Docker build context "
        "serving it; 'kserve' / 'kubernetes', manifests for a cluster. The package is "
        "written beside DIR and moved into place when complete; an existing DIR that is "
        "not a package is refused unless --force.",
    )
    package.add_argument("model", help="MODEL, MODEL@ALIAS or MODEL/VERSION")
    package.add_argument(
        "--format", dest="fmt", metavar="FORMAT", required=True, help=", ".join(FORMATS)
    )
    package.add_argument("-o", "--output", metavar="DIR", required=True, help="output folder")
    package.add_argument(
        "--model-source",
        choices=("baked", "registry"),
        default="baked",
        help="container: bake the model into the image (default) or fetch it from the "
        "registry ($MLFLOW_TRACKING_URI) at start",
    )
    package.add_argument("--image", metavar="IMAGE", help="kserve/kubernetes: the image to run")
    package.add_argument(
        "--force", action="store_true", help="replace DIR even when it is not a package"
    )
    add_tracking_uri(package)
    package.add_argument("--json", action="store_true", help="print the result as JSON")
    package.set_defaults(command=package_command)


def package_command(args: argparse.Namespace) -> int:
    """``jupyter mlops package``: 0 when the package is written."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # not a terminal UI
    options = api.PackageOptions(model_source=args.model_source, force=args.force, image=args.image)
    result = api.package(args.model, args.fmt, args.output, args.tracking_uri, options)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{result.name} version {result.version} packaged as {result.format} in {result.out_dir}")
    for file in result.files:
        print(f"  {file}")
    for note in result.notes:
        print(f"  {note}")
    return 0
