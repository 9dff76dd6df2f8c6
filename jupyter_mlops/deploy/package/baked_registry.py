"""A one-version MLflow registry baked into a container context: ``mlflow.db`` (SQLite)
and ``model/`` (the model's files), the version registered with a relative source, so the
service finds it from the image's working directory through ``sqlite:///registry/mlflow.db``.

The version carries no seal (the image has no user key); the Dockerfile pins the model
folder's digest instead (``serve --trust-digest``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from jupyter_mlops.deploy.package.source import PackageSource
from jupyter_mlops.tracking.store import make_client

DATABASE = "mlflow.db"
MODEL_DIR = "model"
SOURCE_VERSION_TAG = "mlops.packaged_from_version"
LEFT_OUT = ("registered_model_meta",)


def write_baked_registry(source: PackageSource, folder: Path, alias: str) -> list[Path]:
    """Write the registry into ``folder`` (named ``registry`` in the context); its files."""
    from jupyter_mlops.artifacts.trust import folder_digest

    folder.mkdir()
    model = folder / MODEL_DIR
    shutil.copytree(source.folder, model, ignore=shutil.ignore_patterns(*LEFT_OUT))
    if folder_digest(model) != source.digest:  # the copy is what the digest pins
        raise RuntimeError(f"copying the model into {model} changed its files")
    client = make_client("sqlite:///" + (folder / DATABASE).absolute().as_posix())
    client.create_registered_model(source.name)
    version = client.create_model_version(
        source.name,
        source=f"{folder.name}/{MODEL_DIR}",
        tags={SOURCE_VERSION_TAG: source.version},
        description=f"version {source.version} of the source registry, baked in",
    )
    client.set_registered_model_alias(source.name, alias, version.version)
    return sorted(path for path in folder.rglob("*") if path.is_file())
