"""The ``kserve`` and ``kubernetes`` package formats, registered in ``build.FORMATS``:
manifests running the container format's image (``--image``, default
``<model>-model:<version>``) with the options' replicas, canary percentage and resources
(``PackageOptions.extra`` settings ``requests.cpu``, ``requests.memory``, ``limits.cpu``,
``limits.memory``). ``kserve.py`` and ``kubernetes.py`` write them; ``manifest_check.py``
validates them."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.deploy.package.build import FORMATS, NOTES, PackageOptions
from jupyter_mlops.deploy.package.kserve import write_kserve
from jupyter_mlops.deploy.package.kubernetes import write_kubernetes
from jupyter_mlops.deploy.package.manifest_spec import ManifestSpec, default_image
from jupyter_mlops.deploy.package.resources import resources_from_extra
from jupyter_mlops.deploy.package.source import PackageSource


def manifest_spec(source: PackageSource, options: PackageOptions) -> ManifestSpec:
    """What the manifests of ``source`` run, from ``options``."""
    return ManifestSpec(
        model=source.name,
        version=source.version,
        image=options.image or default_image(source.name, source.version),
        resources=resources_from_extra(options.extra),
        replicas=options.replicas,
        canary_percent=options.canary_percent,
    )


def build_kserve(source: PackageSource, out: Path, options: PackageOptions) -> list[Path]:
    """The ``kserve`` format: ``inferenceservice.yaml``."""
    return write_kserve(manifest_spec(source, options), out)


def build_kubernetes(source: PackageSource, out: Path, options: PackageOptions) -> list[Path]:
    """The ``kubernetes`` format: ``deployment.yaml`` (a Deployment and a Service)."""
    return write_kubernetes(manifest_spec(source, options), out)


def image_note(source: PackageSource, options: PackageOptions) -> list[str]:
    """Where the image the manifests run comes from."""
    spec = manifest_spec(source, options)
    return [
        f"the manifests run image {spec.image}: build it from `jupyter mlops package "
        f"{source.name}/{source.version} --format container -o CONTEXT` with `docker build "
        f"-t {spec.image} CONTEXT` and push it where the cluster pulls from"
    ]


FORMATS["kserve"] = build_kserve
FORMATS["kubernetes"] = build_kubernetes
NOTES["kserve"] = image_note
NOTES["kubernetes"] = image_note
