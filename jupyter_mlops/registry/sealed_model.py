"""Registered model versions loaded back only when sealed by this user's jupyter_mlops.

Loading a model runs code (pickle, cloudpickle), so its downloaded files must match the
version's ``mlops.model_seal`` tag, the seal written at registration (``artifacts/trust.py``);
else ``UntrustedArtifactError`` and nothing is loaded. Used by the champion gate's re-scoring
and by the prediction service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.trust import MODEL_KIND, folder_digest, is_sealed
from jupyter_mlops.errors import UntrustedArtifactError

UNSEALED = (
    "its files carry no valid seal of this user's jupyter_mlops (registered by another key, "
    "or changed since): not loaded, as loading a model runs its code; review it, then "
    "promote the new version with `jupyter mlops promote --force`"
)


def download_sealed(
    download_uri: str,
    tracking_uri: str,
    model_seal: str | None,
    dst: Path,
    trusted_digest: str | None = None,
) -> Path:
    """Download the model files at ``download_uri`` into ``dst`` and check their seal, or
    that their ``folder_digest`` is ``trusted_digest`` (a digest reviewed elsewhere, e.g.
    pinned in a container's Dockerfile); returns the local model folder."""
    import os

    import mlflow.artifacts

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # callers show theirs
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=download_uri, dst_path=str(dst), tracking_uri=tracking_uri
    )
    digest = folder_digest(local)
    if digest != trusted_digest and not is_sealed(digest, MODEL_KIND, model_seal):
        raise UntrustedArtifactError(UNSEALED, path=download_uri)
    return Path(local)


def load_model_object(local: Path) -> Any:
    """The model object of a downloaded, sealed model folder: the scikit-learn estimator
    itself, or the object a jupyter_mlops pyfunc wrapper holds (so ``predict_proba`` etc.
    still work), else the pyfunc model."""
    from mlflow.models import Model

    if "sklearn" in Model.load(str(local)).flavors:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(local))
    import mlflow.pyfunc

    loaded = mlflow.pyfunc.load_model(str(local))
    try:
        inner = loaded.unwrap_python_model()
    except Exception:
        return loaded
    return getattr(inner, "model", inner)
