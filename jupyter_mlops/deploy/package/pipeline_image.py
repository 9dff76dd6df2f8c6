"""The Docker build context of the image an exported pipeline's tasks run in
(``jupyter mlops export --image-context DIR``).

It holds the Dockerfile, .dockerignore and README (``pipeline_dockerfile.py``), pinned
``requirements.txt`` (``pipeline_requirements.py``), a wheel of jupyter_mlops when this
install did not come from an index (``own_install.py``, as the model container), a
``mlops-package.json`` marker, and ``pipeline/``: the extracted pipeline folder without
hidden entries (``.mlops/``, caches, checkpoints) or ``__pycache__``. It is written into a
staging folder beside DIR and moved into place whole (``output.py``); the same pipeline and
install write byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlops.deploy.package.container import own_dependencies
from jupyter_mlops.deploy.package.output import MARKER, claim_output, move_into_place
from jupyter_mlops.deploy.package.own_install import own_install
from jupyter_mlops.deploy.package.pipeline_dockerfile import (
    DOCKERIGNORE,
    PIPELINE_COPY,
    ImagePlan,
    dockerfile_text,
    readme_text,
)
from jupyter_mlops.deploy.package.pipeline_requirements import (
    IMAGE_EXTRAS,
    package_imports,
    pipeline_libraries,
    requirements_text,
    store_libraries,
)
from jupyter_mlops.errors import DeployError, ExportError, FileSystemError
from jupyter_mlops.export.steps import ExportPlan
from jupyter_mlops.pipeline.pipeline_file import PipelineFile

FORMAT = "pipeline-image"


@dataclass(frozen=True)
class ImageContext:
    """The written context: its folder, files (relative, sorted) and pinned libraries."""

    folder: Path
    files: list[str]
    libraries: list[str]


def write_image_context(
    pipeline_file: PipelineFile, plan: ExportPlan, pipeline_dir: str, out: Path, store: str | None
) -> ImageContext:
    """Write the context of ``plan``'s image into ``out`` (absent, empty or an earlier
    context), atomically; nothing is left behind when it fails."""
    _check_output(pipeline_file.folder, out, pipeline_dir)
    libraries = sorted(pipeline_libraries(_imports(pipeline_file)) + store_libraries(store))
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging.", dir=out.parent))
    except OSError as error:
        raise FileSystemError.of(error, "write the image context", out.parent) from None
    try:
        files = _fill(staging, pipeline_file, plan, pipeline_dir, libraries)
        move_into_place(staging, out)
    except OSError as error:
        raise FileSystemError.of(error, "write the image context", out) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImageContext(out, files, libraries)


def _check_output(folder: Path, out: Path, pipeline_dir: str) -> None:
    if not pipeline_dir.startswith("/"):
        raise ExportError(
            f"--pipeline-dir must be an absolute path in the image: {pipeline_dir!r}",
            name="--pipeline-dir",
        )
    if out.resolve().is_relative_to(folder.resolve()):
        raise ExportError(
            "the image context cannot be inside the pipeline folder it copies",
            name="--image-context",
            path=str(out),
        )
    try:
        claim_output(out, force=False)
    except DeployError as error:
        raise ExportError(
            f"--image-context: {error.message}", name="--image-context", path=error.path
        ) from None


def _imports(pipeline_file: PipelineFile) -> dict[str, str]:
    folder = pipeline_file.folder
    local = frozenset(path.stem if path.is_file() else path.name for path in folder.iterdir())
    return package_imports(folder / pipeline_file.package, local)


def _fill(
    staging: Path,
    pipeline_file: PipelineFile,
    plan: ExportPlan,
    pipeline_dir: str,
    libraries: list[str],
) -> list[str]:
    """Write every file of the context into ``staging``; its files, relative and sorted."""
    install = own_install(staging, extras=",".join(IMAGE_EXTRAS))
    image = ImagePlan(
        pipeline=plan.name,
        image=plan.image,
        pipeline_dir=pipeline_dir,
        has_wheels=install.local,
        jupyter_mlops_origin=install.origin,
        first_step=plan.tasks[0].name,
    )
    own_pins = own_dependencies(IMAGE_EXTRAS)
    texts = {
        "Dockerfile": dockerfile_text(image),
        ".dockerignore": DOCKERIGNORE,
        "README.md": readme_text(image),
        "requirements.txt": requirements_text(plan.name, libraries, install.requirement, own_pins),
    }
    for name, text in texts.items():
        (staging / name).write_text(text, encoding="utf-8")
    copied = _copy_pipeline(pipeline_file.folder, staging / PIPELINE_COPY)
    files = sorted([*texts, *copied, *([install.wheel_file] if install.wheel_file else [])])
    marker = {"format": FORMAT, "pipeline": plan.name, "image": plan.image, "files": files}
    (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    staging.chmod(0o755)
    return sorted([*files, MARKER])


def _copy_pipeline(folder: Path, target: Path) -> list[str]:
    """Copy the pipeline folder's files (not hidden ones, ``__pycache__`` or ``.pyc``) with
    fixed modes; their paths relative to the context."""
    copied = []
    for root, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not _skipped(f))
        for name in sorted(names):
            path = Path(root) / name
            if _skipped(name) or name.endswith(".pyc") or not path.is_file():
                continue
            relative = path.relative_to(folder)
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            destination.chmod(0o644)
            copied.append(f"{PIPELINE_COPY}/{relative.as_posix()}")
    return sorted(copied)


def _skipped(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"
