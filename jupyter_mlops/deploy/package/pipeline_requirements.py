"""requirements.txt of a pipeline's image: the libraries the extracted package imports
(its setup code and steps), pinned to the versions installed here the way a registered
model's requirements are (``registry/models.py`` ``pinned``), then jupyter_mlops with its
``[jupyter,dask]`` extras and their direct dependencies pinned, fsspec (every task passes
``--store``) and the fsspec library of the store URL's protocol (``s3fs`` for ``s3://``)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from jupyter_mlops.errors import ExportError

IMAGE_EXTRAS = ("jupyter", "dask")
"""The extras a step needs: papermill and its kernel, Dask and the s3fs store."""
STORE_LIBRARIES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs"}
"""The fsspec implementation a store URL's protocol needs, by protocol."""
_NOT_LIBRARIES = frozenset({"__future__", "jupyter_mlops"})


def package_imports(package: Path, local: frozenset[str]) -> dict[str, str]:
    """Top-level modules imported by the package's ``.py`` files (absolute imports, not the
    standard library, the package itself, jupyter_mlops or ``local`` names) → the first
    file importing each, relative to the pipeline folder."""
    found: dict[str, str] = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        where = path.relative_to(package.parent).as_posix()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=where)
        except (OSError, SyntaxError, UnicodeDecodeError) as error:
            raise ExportError(f"cannot read the package module: {error}", path=str(path)) from None
        for name in _imported_tops(tree):
            skipped = name in sys.stdlib_module_names or name in _NOT_LIBRARIES
            if not skipped and name != package.name and name not in local:
                found.setdefault(name, where)
    return dict(sorted(found.items()))


def _imported_tops(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.partition(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.partition(".")[0])
    return names


def pipeline_libraries(imports: dict[str, str]) -> list[str]:
    """``dist==version`` of the installed distribution of each imported module;
    ``ExportError`` naming the module and its file when none provides it."""
    from jupyter_mlops.registry.models import pinned

    requirements: list[str] = []
    for module, where in imports.items():
        found = pinned(module)
        if not found:
            raise ExportError(
                f"'{module}' is imported but no installed distribution provides it: install "
                "it here so that the image pins its version",
                name=module,
                path=where,
            )
        requirements += [line for line in found if line not in requirements]
    return sorted(requirements)


def store_libraries(store: str | None) -> list[str]:
    """fsspec and the fsspec library the store URL's protocol needs (none more for a local
    path), pinned; ``ExportError`` naming ``--store`` when one is not installed here."""
    from importlib import metadata

    protocol = store.partition("://")[0].lower() if store and "://" in store else ""
    libraries = ["fsspec", *([STORE_LIBRARIES[protocol]] if protocol in STORE_LIBRARIES else [])]
    pins = []
    for library in libraries:
        try:
            pins.append(f"{library}=={metadata.version(library)}")
        except metadata.PackageNotFoundError:
            raise ExportError(
                f"the store needs {library}, which is not installed here: pip install {library}",
                name="--store",
            ) from None
    return pins


def requirements_text(pipeline: str, lines: list[str], own: str, own_pins: list[str]) -> str:
    """The file: the pipeline's libraries and store library (``lines``), jupyter_mlops
    (``own``), then its pinned dependencies not already pinned."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(Requirement(line).name) for line in lines}
    result = [*lines, own]
    for requirement in own_pins:
        name = canonicalize_name(Requirement(requirement).name)
        if name not in names:
            result.append(requirement)
            names.add(name)
    header = f"# Pipeline '{pipeline}': its libraries and jupyter_mlops, pinned."
    return "\n".join([header, *result]) + "\n"
