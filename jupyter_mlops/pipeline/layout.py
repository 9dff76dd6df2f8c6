"""Where things are: a target (notebook or pipeline folder) and the folder a notebook is
extracted into. The one place that answers "notebook or pipeline folder?"."""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlops.errors import MlopsError

PIPELINE_FILE = "pipeline.yaml"
# Names a generated package must not take (they would shadow these folders and modules).
_NOT_PACKAGES = frozenset({"tests", "notebooks", "jupyter_mlops", "common"})


def default_output_dir(notebook: str | Path) -> Path:
    """Where a notebook is extracted by default: ``pipelines/<stem>/`` next to it."""
    notebook = Path(notebook)
    return notebook.parent / "pipelines" / notebook.stem


@dataclass(frozen=True)
class Target:
    """What a command was pointed at: a notebook (extracted into ``folder``) or a folder."""

    folder: Path
    notebook: Path | None = None

    @property
    def extracted(self) -> bool:
        """Whether the pipeline folder exists (has a pipeline.yaml)."""
        return (self.folder / PIPELINE_FILE).is_file()


def resolve_target(target: str | Path, output: str | Path | None = None) -> Target:
    """A notebook (``.ipynb``; its package in ``output`` or the default folder) or a pipeline
    folder; anything else is refused naming the path."""
    path = Path(target)
    check_path_length(path)
    if output:
        check_path_length(Path(output))
    if path.is_dir():
        return Target(folder=path)
    if path.suffix == ".ipynb":
        return Target(folder=Path(output) if output else default_output_dir(path), notebook=path)
    if not path.exists():
        raise MlopsError("no such notebook or pipeline folder", path=str(path))
    raise MlopsError("expected a pipeline folder or a .ipynb notebook", path=str(path))


NAME_MAX, PATH_MAX = 255, 4096  # bytes, as Linux file systems allow


def check_path_length(path: Path) -> None:
    """Refuse, naming the path's start, a path the file system cannot hold (instead of an
    ``OSError: File name too long`` traceback)."""
    text = str(path)
    longest = max((len(part.encode()) for part in path.parts), default=0)
    if longest > NAME_MAX or len(text.encode()) > PATH_MAX:
        shown = text if len(text) <= 80 else text[:60] + f"… ({len(text)} characters)"
        raise MlopsError(
            f"the path is too long: a name may have at most {NAME_MAX} bytes and a path {PATH_MAX}",
            path=shown,
        )


def package_name(pipeline_name: str) -> str:
    """The pipeline name made a valid identifier that shadows no stdlib or layout name."""
    name = re.sub(r"\W", "_", pipeline_name, flags=re.ASCII) or "pipeline"
    if name[0].isdigit():
        name = "pipeline_" + name
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in _NOT_PACKAGES:
        name += "_pipeline"
    return name
