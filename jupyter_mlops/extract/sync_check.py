"""Is an extracted pipeline folder exactly what extracting its notebook would write now?

The notebook is scanned and every file is generated and formatted in memory, exactly as
``jupyter mlops extract`` would write it into that folder, then compared file by file with
what is there. Files the user owns are not compared: ``schemas/``, ``tests/fixtures/``,
the user sections of pipeline.yaml (``pipeline_file.USER_KEYS``) and any file without the
generated header (the user's own modules and tests).
"""

from __future__ import annotations

import difflib
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
