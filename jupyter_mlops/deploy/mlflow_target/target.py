"""The ``mlflow`` deploy target: a deployment made through an MLflow deployment plugin.

::

    deploy:
      sagemaker-prod:
        kind: mlflow
        target_uri: sagemaker:/eu-west-1   # the plugin's target URI (`mlflow deployments
                                           # help -t TARGET` tells its form)
        deployment: churn-prod             # the deployment's name (default: the target's)
        config: {instance_type: ml.m5.large, instance_count: 1}   # the plugin's -C settings
        endpoint: churn                    # the plugin's endpoint, for plugins that have them
        model: churn                       # the registered model (default: the pipeline's one)
        alias: production                  # the alias the deployment's version holds
        auto: false                        # deploy after a validated run
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from jupyter_mlops.deploy.target_base import TargetBase
from jupyter_mlops.deploy.target_fields import common_settings, fail, known_keys, text

MLFLOW_KEYS = ("kind", "model", "alias", "auto", "target_uri", "deployment", "config", "endpoint")
_TARGET_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(:/\S*)?")
_DEPLOYMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class MlflowTarget(TargetBase):
    """Deployment ``deployment`` at MLflow deployment target ``target_uri``."""

    kind: ClassVar[str] = "mlflow"
    target_uri: str
    deployment: str
    config: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {
            **self.common_json(),
            "target_uri": self.target_uri,
            "deployment": self.deployment,
            "config": dict(self.config),
            "endpoint": self.endpoint,
            "auto": self.auto,
        }


def parse_mlflow(name: str, settings: dict[str, Any], where: str) -> MlflowTarget:
    """An ``mlflow`` target; errors name ``deploy.<name>.<key>``."""
    known_keys(settings, where, MLFLOW_KEYS)
    target_uri = settings.get("target_uri")
    if not isinstance(target_uri, str) or not _TARGET_URI.fullmatch(target_uri):
        raise fail(
            f"{where}.target_uri",
            f"must be an MLflow deployment target URI (TARGET or TARGET:/PATH), not {target_uri!r}",
        )
    deployment = settings.get("deployment", name)
    if not isinstance(deployment, str) or not _DEPLOYMENT.fullmatch(deployment):
        raise fail(f"{where}.deployment", f"must be a deployment name, not {deployment!r}")
    return MlflowTarget(
        name=name,
        target_uri=target_uri,
        deployment=deployment,
        config=_config(settings.get("config"), f"{where}.config"),
        endpoint=text(settings.get("endpoint"), f"{where}.endpoint"),
        **common_settings(settings, where),
    )


def _config(value: Any, where: str) -> dict[str, str]:
    """The plugin's settings: names to scalars, kept as the strings ``-C key=value`` gives."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(where, f"must be a mapping of the plugin's settings, not {value!r}")
    config = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise fail(where, f"keys must be setting names, not {key!r}")
        if isinstance(item, bool):
            config[key] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            config[key] = str(item)
        else:
            raise fail(f"{where}.{key}", f"must be a string or a number, not {item!r}")
    return config
