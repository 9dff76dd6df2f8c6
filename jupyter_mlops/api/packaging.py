"""Use case: package a registered model version (an embeddable wheel, a container build
context, Kubernetes manifests). Re-exported by :mod:`jupyter_mlops.api`."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.deploy.package.build import PackageOptions, PackageResult

__all__ = ["PackageOptions", "PackageResult", "package"]


def package(
    model: str,
    fmt: str,
    out_dir: str | Path,
    tracking_uri: str | None = None,
    options: PackageOptions | None = None,
) -> PackageResult:
    """Package the version ``model`` names (``MODEL`` = its ``production`` alias,
    ``MODEL@ALIAS``, ``MODEL/VERSION``; a pipeline folder or notebook = its one model's
    ``production``) as ``fmt`` into ``out_dir``; nothing is written when it fails."""
    from jupyter_mlops.deploy.package.build import build_package, format_builder
    from jupyter_mlops.registry.model_ref import parse_model_ref, resolve_version
    from jupyter_mlops.registry.promotion import resolve_model
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    format_builder(fmt)  # an unknown format fails before the registry is read
    options = (options or PackageOptions()).check()
    ref = parse_model_ref(model)
    name, uri = resolve_model(ref.name, tracking_uri)
    with mlflow_errors(uri, f"read model '{name}'"):
        version = resolve_version(make_client(uri), ref)
    return build_package(uri, name, version, fmt, Path(out_dir), options, ref.alias)
