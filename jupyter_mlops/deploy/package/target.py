"""The ``package`` deploy target: a package of the alias's version built into a folder
(a wheel, a container build context, KServe or Kubernetes manifests), replaced when the
new build's verification passes, the previous build kept beside it.

::

    deploy:
      cluster:
        kind: package
        format: kserve                  # wheel | container | kserve | kubernetes
        output: deploy/kserve           # the folder (relative: to the pipeline folder;
                                        # default: packages/<target name>)
        model: churn                    # the registered model (default: the pipeline's one)
        alias: production               # the alias the built version holds
        image: registry.example/churn:3 # kserve, kubernetes: the image (default:
                                        # <model>-model:<version>)
        canary_percent: 10              # kserve: canaryTrafficPercent of the new revision
        replicas: 2                     # kserve, kubernetes (default: 1)
        resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: "2", memory: 2Gi}}
        model_source: baked             # container: baked | registry (default: baked)
        auto: false                     # deploy after a validated run
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from jupyter_mlops.deploy.package.resources import Resources, parse_resources
from jupyter_mlops.deploy.target_base import TargetBase
from jupyter_mlops.deploy.target_fields import common_settings, count, fail, known_keys, text

PACKAGE_KEYS = (
    "kind",
    "format",
    "output",
    "model",
    "alias",
    "image",
    "canary_percent",
    "replicas",
    "resources",
    "model_source",
    "auto",
)
PACKAGE_FORMATS = ("wheel", "container", "kserve", "kubernetes")
MANIFEST_FORMATS = ("kserve", "kubernetes")
MODEL_SOURCES = ("baked", "registry")


@dataclass(frozen=True)
class PackageTarget(TargetBase):
    """A ``format`` package of the model's ``alias`` version, kept in folder ``output``."""

    kind: ClassVar[str] = "package"
    format: str
    output: str
    image: str | None = None
    canary_percent: int | None = None
    replicas: int = 1
    resources: Resources = field(default_factory=Resources)
    model_source: str = "baked"

    @property
    def previous_output(self) -> Path:
        """Where the build before the current one is kept: ``<output>.previous``."""
        output = Path(self.output)
        return output.with_name(f"{output.name}.previous")

    def in_folder(self, folder: Path) -> PackageTarget:
        """The target with a relative ``output`` resolved against ``folder``."""
        return replace(self, output=str(folder / Path(self.output).expanduser()))

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {
            **self.common_json(),
            "format": self.format,
            "output": self.output,
            "image": self.image,
            "canary_percent": self.canary_percent,
            "replicas": self.replicas,
            "resources": self.resources.to_json(),
            "model_source": self.model_source,
            "auto": self.auto,
        }


def parse_package(name: str, settings: dict[str, Any], where: str) -> PackageTarget:
    """A ``package`` target; errors name ``deploy.<name>.<key>``."""
    known_keys(settings, where, PACKAGE_KEYS)
    fmt = settings.get("format")
    if fmt not in PACKAGE_FORMATS:
        raise fail(f"{where}.format", f"must be one of {', '.join(PACKAGE_FORMATS)}, not {fmt!r}")
    _refuse_unused(settings, fmt, where)
    model_source = settings.get("model_source", "baked")
    if model_source not in MODEL_SOURCES:
        raise fail(
            f"{where}.model_source",
            f"must be one of {', '.join(MODEL_SOURCES)}, not {model_source!r}",
        )
    return PackageTarget(
        name=name,
        format=fmt,
        output=text(settings.get("output", f"packages/{name}"), f"{where}.output") or "",
        image=text(settings.get("image"), f"{where}.image"),
        canary_percent=_percent(settings.get("canary_percent"), f"{where}.canary_percent"),
        replicas=count(settings, "replicas", where, 1, 1),
        resources=parse_resources(settings.get("resources"), f"{where}.resources"),
        model_source=model_source,
        **common_settings(settings, where),
    )


def _refuse_unused(settings: dict[str, Any], fmt: str, where: str) -> None:
    """Keys that only another format uses are errors (a setting that silently does
    nothing is a mistake waiting to happen)."""
    only: dict[str, tuple[str, ...]] = {
        "image": MANIFEST_FORMATS,
        "replicas": MANIFEST_FORMATS,
        "resources": MANIFEST_FORMATS,
        "canary_percent": ("kserve",),
        "model_source": ("container",),
    }
    for key, formats in only.items():
        if key in settings and fmt not in formats:
            raise fail(f"{where}.{key}", f"applies to format {' or '.join(formats)}, not {fmt}")


def _percent(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise fail(where, f"must be an integer percentage 0..100, not {value!r}")
    return value
