"""Looking up a registered model and its versions, with one error for "no such model"
and one for "no such version"."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.errors import MlopsError, PromotionError


def registered_model(client: Any, name: str, error: type[MlopsError] = PromotionError) -> Any:
    """Registered model ``name`` (its aliases and tags); ``error`` naming it and the store
    when there is no such model."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise error(
                f"no registered model '{name}' in {client.tracking_uri}", name=name
            ) from None
        raise


def model_version_tags(
    client: Any, name: str, version: str, error: type[MlopsError] = PromotionError
) -> dict[str, str]:
    """The tags of version ``version`` of ``name``; ``error`` naming both when there is no
    such version."""
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_model_version(name, version).tags)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise error(f"model '{name}' has no version {version}", name=name) from None
        raise
