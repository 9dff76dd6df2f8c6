"""Is an extracted pipeline folder exactly what extracting its notebook would write now?

The notebook is scanned and every file is generated and formatted in memory, exactly as
``jupyter mlops extract`` would write it into that folder, then compared file by file with
what is there. Files the user owns are not compared: ``schemas/``, ``tests/fixtures/``,
the user sections of pipeline.yaml (``pipeline_file.USER_KEYS``) and any file without the
generated header (the user's own modules and tests).
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_mlops.errors import PipelineError
from jupyter_mlops.pipeline.pipeline_file import (
    PIPELINE_FILE,
    USER_KEYS,
    USER_SECTION_COMMENT,
    pipeline_yaml,
)

USER_OWNED = ("schemas/", "tests/fixtures/", ".mlops/")
_USER_KEY_LINE = re.compile(rf"^({'|'.join(map(re.escape, USER_KEYS))})\s*:")


@dataclass
class FileDifference:
    """One generated file that differs: ``kind`` is changed, missing or stale."""

    path: str
    kind: str
    diff: str = ""


@dataclass
class SyncReport:
    """The outcome of a sync check."""

    notebook: Path
    folder: Path
    checked: int
    differences: list[FileDifference] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.differences

    def render(self) -> str:
        """The summary line, then one unified diff (or note) per differing file."""
        owned = "schemas/, tests/fixtures/ and the drift/gates sections of pipeline.yaml"
        if self.in_sync:
            return (
                f"{self.folder}/ is in sync with {self.notebook}: {self.checked} generated "
                f"files checked ({owned} are yours and not compared)"
            )
        lines = [
            f"{self.folder}/ is out of sync with {self.notebook}: "
            f"{len(self.differences)} of {self.checked} generated files differ"
        ]
        for difference in self.differences:
            if difference.kind == "missing":
                lines.append(f"missing: {difference.path} (extraction would write it)")
            elif difference.kind == "stale":
                lines.append(f"stale: {difference.path} (extraction would remove it)")
            if difference.diff:
                lines.append(difference.diff.rstrip("\n"))
        lines.append(
            f"Re-extract to update the folder: jupyter mlops extract {self.notebook} "
            f"-o {self.folder} (or revert the hand edits)"
        )
        return "\n".join(lines)


def check_sync(notebook: str | Path, folder: str | Path) -> SyncReport:
    """Compare ``folder`` with what extracting ``notebook`` into it would produce now."""
    from jupyter_mlops.authoring.scan import scan_notebook
    from jupyter_mlops.extract import codegen
    from jupyter_mlops.extract.writer import format_files, notebook_source

    notebook, folder = Path(notebook), Path(folder)
    if not (folder / PIPELINE_FILE).is_file():
        raise PipelineError(
            "holds no pipeline.yaml: not an extracted pipeline "
            f"(extract it first: jupyter mlops extract {notebook} -o {folder})",
            path=str(folder),
        )
    check_extracted_by_this_version(folder, notebook)
    pipeline = scan_notebook(notebook)
    source = notebook_source(pipeline.notebook, folder)
    expected = format_files(codegen.generate_files(pipeline, source))
    expected[PIPELINE_FILE] = pipeline_yaml(pipeline, source)
    report = SyncReport(notebook, folder, checked=len(expected))
    for rel in sorted(expected):
        actual_path = folder / rel
        if not actual_path.is_file():
            report.differences.append(FileDifference(rel, "missing"))
            continue
        actual = _read(actual_path)
        wanted = expected[rel]
        if rel == PIPELINE_FILE:
            actual, wanted = without_user_sections(actual), without_user_sections(wanted)
        if actual != wanted:
            report.differences.append(
                FileDifference(rel, "changed", unified_diff(rel, actual, wanted))
            )
    for rel in _generated_files(folder):
        if rel not in expected:
            report.differences.append(FileDifference(rel, "stale"))
    return report


def check_extracted_by_this_version(folder: str | Path, notebook: str | Path) -> None:
    """Refuse, in one line, a folder whose generated code imports a jupyter_mlops module or
    name this version does not have (generated code imports only ``jupyter_mlops.runtime``):
    it was extracted by an older version and cannot run."""
    found = outdated_import(Path(folder))
    if found is not None:
        relative, module = found
        raise PipelineError(
            f"{folder} was extracted by an older jupyter_mlops ({relative} imports {module}, "
            f"which this version does not have): re-extract it with "
            f"jupyter mlops extract {notebook} -o {folder}"
        )


def outdated_import(folder: Path) -> tuple[str, str] | None:
    """The first generated file (relative path) importing a jupyter_mlops module or name this
    version does not have, with that module; None when there is none."""
    for relative in _generated_files(folder):
        code = _generated_code(folder / relative)
        if "jupyter_mlops" not in code:
            continue
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for module, name in _jupyter_mlops_imports(tree):
            missing = _missing(module, name)
            if missing is not None:
                return relative, missing
    return None


def _generated_code(path: Path) -> str:
    """A generated module's text, or the code cells of a generated notebook."""
    text = _read(path)
    if path.suffix != ".ipynb":
        return text
    try:
        cells = json.loads(text).get("cells", [])
        return "\n".join(
            "".join(cell.get("source", ""))
            for cell in cells
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        )
    except (ValueError, AttributeError, TypeError):
        return ""


def _jupyter_mlops_imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, imported name or None) of every jupyter_mlops import in ``tree``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if _is_ours(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_ours(node.module):
            found += [(str(node.module), a.name) for a in node.names if a.name != "*"]
    return found


def _is_ours(module: str | None) -> bool:
    return module is not None and module.split(".")[0] == "jupyter_mlops"


def _missing(module: str, name: str | None) -> str | None:
    """What of ``from module import name`` (``import module``) this version does not have.

    The public names of ``jupyter_mlops.runtime`` are known without importing anything."""
    from jupyter_mlops import runtime

    if module == "jupyter_mlops.runtime" and name in runtime.__all__:
        return None
    if name is not None and _module_exists(f"{module}.{name}"):
        return None
    if not _module_exists(module):
        return module
    if name is None:
        return None
    try:
        return None if hasattr(importlib.import_module(module), name) else f"{module}.{name}"
    except Exception:  # a module of this version that fails to import: not the package's fault
        return None


def _module_exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def unified_diff(rel: str, actual: str, expected: str) -> str:
    """``-`` lines: what the folder has; ``+`` lines: what extraction would write."""
    return "".join(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{rel} (in the folder)",
            tofile=f"{rel} (extracted from the notebook now)",
        )
    )


def without_user_sections(text: str) -> str:
    """pipeline.yaml text without its top-level user sections and the comments above them."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        is_key = bool(line.strip()) and not line[0].isspace() and not line.startswith(("#", "-"))
        if is_key:
            skipping = bool(_USER_KEY_LINE.match(line))
            if skipping:
                while kept and _is_blank_or_user_comment(kept[-1]):
                    kept.pop()
        if not skipping and line != USER_SECTION_COMMENT:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "".join(kept)


def _is_blank_or_user_comment(line: str) -> bool:
    from jupyter_mlops.extract.codegen import GENERATED_MARK

    return not line.strip() or (line.startswith("#") and not line.startswith(GENERATED_MARK))


def _generated_files(folder: Path) -> list[str]:
    """Relative paths of generated .py/.ipynb files one folder down (what extraction prunes)."""
    from jupyter_mlops.extract.writer import is_generated

    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(sub.glob("*.py")) + sorted(sub.glob("*.ipynb")):
            rel = path.relative_to(folder).as_posix()
            if not rel.startswith(USER_OWNED) and is_generated(path):
                found.append(rel)
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("utf-8", errors="replace")
