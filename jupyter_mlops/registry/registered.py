"""Looking up a registered model, with one error for "no such model"."""

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
