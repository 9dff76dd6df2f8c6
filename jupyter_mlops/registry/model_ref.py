"""``MODEL[@ALIAS]`` and ``MODEL/VERSION`` references to a registered model version, and
the sealed local copy of the version one names (for scoring and packaging)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import PromotionError
from jupyter_mlops.registry.registered import model_version_tags, registered_model

DEFAULT_ALIAS = "production"
_REF = re.compile(
    r"(?P<name>[^@/\s][^@/]*?)(?:@(?P<alias>[A-Za-z_][A-Za-z0-9_-]*)|/(?P<version>\d+))?"
)


@dataclass(frozen=True)
class ModelRef:
    """A registered model and which of its versions: ``alias`` or ``version`` (one is set)."""

    name: str
    alias: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.name}/{self.version}" if self.version else f"{self.name}@{self.alias}"


def parse_model_ref(text: str, default_alias: str = DEFAULT_ALIAS) -> ModelRef:
    """``churn`` (its ``default_alias``), ``churn@champion`` or ``churn/3``;
    ``PromotionError`` naming the text when it is none of these."""
    match = _REF.fullmatch(text.strip())
    if match is None:
        raise PromotionError(
            f"'{text}' is not a model reference (MODEL, MODEL@ALIAS or MODEL/VERSION)", name=text
        )
    name, alias, version = match["name"].strip(), match["alias"], match["version"]
    return ModelRef(name, None if version else alias or default_alias, version)


def resolve_version(client: Any, ref: ModelRef) -> str:
    """The version number ``ref`` names; ``PromotionError`` naming the model and the alias
    or version when there is none."""
    model = registered_model(client, ref.name)
    if ref.version is None:
        version = model.aliases.get(ref.alias)
        if version is None:
            known = ", ".join(sorted(model.aliases)) or "none"
            raise PromotionError(
                f"model '{ref.name}' has no alias '{ref.alias}' (aliases: {known})", name=ref.name
            )
        return str(version)
    model_version_tags(client, ref.name, ref.version)
    return ref.version


def download_version(
    tracking_uri: str, name: str, version: str, folder: Path, trusted_digest: str | None = None
) -> Path:
    """Download version ``version`` of ``name`` into ``folder`` and check its seal
    (``UntrustedArtifactError`` when it is not sealed by this user's key and its digest is
    not ``trusted_digest``); the model folder."""
    from jupyter_mlops.registry.sealed_model import download_sealed
    from jupyter_mlops.tracking.store import make_client, mlflow_errors
    from jupyter_mlops.tracking.tags import MODEL_SEAL

    with mlflow_errors(tracking_uri, f"download version {version} of model '{name}'"):
        client = make_client(tracking_uri)
        seal = client.get_model_version(name, version).tags.get(MODEL_SEAL)
        uri = client.get_model_version_download_uri(name, version)
        return download_sealed(uri, tracking_uri, seal, folder, trusted_digest)
