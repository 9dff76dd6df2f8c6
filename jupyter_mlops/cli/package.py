"""CLI adapter of ``jupyter mlops package``: a registered model version as a wheel, a
container build context or Kubernetes manifests.

It parses, calls ``api.package`` and prints the folder and its files (or, with
``--json``, the result object).
"""

from __future__ import annotations

import argparse
import json

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
    package.add_argument(
        "--image",
        metavar="IMAGE",
        help="kserve/kubernetes: the image to run (default: <model>-model:<version>)",
    )
    package.add_argument(
        "--replicas", metavar="N", type=int, default=1, help="kserve/kubernetes (default: 1)"
    )
    package.add_argument(
        "--canary-percent",
        metavar="N",
        type=int,
        help="kserve: canaryTrafficPercent, the new revision's share (default: none)",
    )
    package.add_argument(
        "--resource",
        metavar="KIND.NAME=QUANTITY",
        action="append",
        type=_resource,
        default=[],
        help="kserve/kubernetes: a container resource, e.g. limits.memory=2Gi, "
        "requests.cpu=500m (repeatable; default requests 250m/512Mi, limits 1/1Gi)",
    )
    package.add_argument(
        "--force", action="store_true", help="replace DIR even when it is not a package"
    )
    add_tracking_uri(package)
    package.add_argument("--json", action="store_true", help="print the result as JSON")
    package.set_defaults(command=package_command)


def _resource(text: str) -> tuple[str, str]:
    """``limits.memory=2Gi`` → ``("limits.memory", "2Gi")`` (checked when the manifests are
    built, naming the setting)."""
    name, equals, quantity = text.partition("=")
    if not equals or not name.strip() or not quantity.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KIND.NAME=QUANTITY")
    return name.strip(), quantity.strip()


def package_command(args: argparse.Namespace) -> int:
    """``jupyter mlops package``: 0 when the package is written."""
    options = api.PackageOptions(
        model_source=args.model_source,
        force=args.force,
        image=args.image,
        canary_percent=args.canary_percent,
        replicas=args.replicas,
        extra=dict(args.resource),
    )
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
