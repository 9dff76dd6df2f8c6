"""The ``container`` format: a Docker build context serving the model.

The context holds a Dockerfile (``dockerfile.py``), pinned ``requirements.txt`` (the
model's requirements, then jupyter_mlops with its ``[serve]`` extra and its direct
dependencies pinned to this install's versions), a wheel of jupyter_mlops when this
install did not come from an index (``own_install.py``), and with ``--model-source baked``
a one-version MLflow registry holding the model (``baked_registry.py``).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from jupyter_mlops.deploy.package.baked_registry import write_baked_registry
from jupyter_mlops.deploy.package.build import FORMATS, NOTES, PackageOptions
from jupyter_mlops.deploy.package.dockerfile import (
    DOCKERIGNORE,
    REGISTRY_DIR,
    ContextPlan,
    dockerfile_text,
    readme_text,
)
from jupyter_mlops.deploy.package.own_install import DISTRIBUTION, EXTRA, own_install
from jupyter_mlops.deploy.package.source import PackageSource
from jupyter_mlops.deploy.package.wheel import requirements as model_requirements
from jupyter_mlops.registry.model_ref import DEFAULT_ALIAS


def build_container(source: PackageSource, out: Path, options: PackageOptions) -> list[Path]:
    """Write the build context into ``out``."""
    install = own_install(out)
    plan = ContextPlan(
        model=source.name,
        version=source.version,
        alias=source.alias or DEFAULT_ALIAS,
        model_source=options.model_source,
        digest=source.digest,
        has_wheels=install.local,
        jupyter_mlops_origin=install.origin,
    )
    files = [
        _write(out / "Dockerfile", dockerfile_text(plan)),
        _write(out / ".dockerignore", DOCKERIGNORE),
        _write(out / "README.md", readme_text(plan)),
        _write(out / "requirements.txt", requirements_text(source, install.requirement)),
    ]
    if install.wheel_file:
        files.append(out / install.wheel_file)
    if plan.baked:
        files += write_baked_registry(source, out / REGISTRY_DIR, plan.alias)
    return files


def requirements_text(source: PackageSource, own_requirement: str) -> str:
    """requirements.txt: the model's pinned requirements, jupyter_mlops, and jupyter_mlops's
    own direct dependencies (and its ``[serve]`` extra's) pinned to the installed versions
    where the model does not pin them."""
    lines = model_requirements(source)
    pinned = {_name(line) for line in lines}
    lines.append(own_requirement)
    for requirement in own_dependencies((EXTRA,)):
        if _name(requirement) not in pinned:
            lines.append(requirement)
            pinned.add(_name(requirement))
    header = f"# Model '{source.name}' version {source.version} and its service, pinned."
    return "\n".join([header, *lines]) + "\n"


def own_dependencies(extras: tuple[str, ...]) -> list[str]:
    """jupyter_mlops's dependencies (core and those of ``extras``) as
    ``name[extras]==installed``."""
    from packaging.requirements import Requirement

    pins = []
    for line in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker and not any(marker.evaluate({"extra": extra}) for extra in extras):
            continue
        wanted = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pins.append(f"{requirement.name}{wanted}=={metadata.version(requirement.name)}")
    return sorted(pins)


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def container_notes(source: PackageSource, options: PackageOptions) -> list[str]:
    """What the result says about the context (where the model and jupyter_mlops come from)."""
    dist = metadata.distribution(DISTRIBUTION)
    local = dist.read_text("direct_url.json") is not None
    own = (
        "jupyter_mlops: a wheel of this install is in wheels/ (not installed from an index)"
        if local
        else f"jupyter_mlops: {DISTRIBUTION}=={dist.version} from the package index"
    )
    model = (
        f"model: baked in ({REGISTRY_DIR}/), trusted by its digest {source.digest}"
        if options.model_source == "baked"
        else "model: fetched from $MLFLOW_TRACKING_URI at start (mount the artifact key)"
    )
    return [model, own]


FORMATS["container"] = build_container
NOTES["container"] = container_notes
