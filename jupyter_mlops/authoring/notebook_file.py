"""Read an .ipynb file into plain cells, without nbformat (fast) but with its checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlops.authoring.code_limits import CodeTooComplex, check_cell_code
from jupyter_mlops.authoring.stepline import is_step_cell, split_step_cell
from jupyter_mlops.errors import NotebookError


@dataclass(frozen=True)
class Cell:
    """One notebook cell; ``number`` counts every cell from 1, markdown included."""

    number: int
    cell_type: str
    source: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotebookSource:
    """The cells of a notebook and the hash of their content (outputs excluded)."""

    path: Path
    cells: list[Cell]
    content_hash: str


def read_notebook(path: str | Path) -> NotebookSource:
    """Read and check a notebook file; NotebookError names the file and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError("no such notebook", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"cannot read the notebook: {exc}", path=str(path)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            "not a valid notebook: an .ipynb file is JSON, and this file is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})",
            path=str(path),
        ) from None
    except (ValueError, RecursionError) as exc:  # a huge integer; nesting beyond the stack
        reason = (
            "is nested too deeply"
            if isinstance(exc, RecursionError)
            else f"has a number too long to read: {exc}"
        )
        raise NotebookError(f"not a valid notebook: its JSON {reason}", path=str(path)) from None
    cells = parse_cells(document, str(path))
    return NotebookSource(path=path, cells=cells, content_hash=content_hash(cells))


def parse_cells(document: object, path: str) -> list[Cell]:
    """The cells of an nbformat-4 document, checked for the fields we rely on."""
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a valid notebook (.ipynb JSON): no 'cells' list", path=path)
    if document.get("nbformat") != 4:
        raise NotebookError(
            f"unsupported nbformat {document.get('nbformat')!r}; expected 4", path=path
        )
    cells = [_parse_cell(raw, number, path) for number, raw in enumerate(document["cells"], 1)]
    for cell in cells:
        _check_code_bounds(cell, path)
    return cells


def _parse_cell(raw: object, number: int, path: str) -> Cell:
    if not isinstance(raw, dict):
        raise NotebookError("cell is not a JSON object", path=path, cell=number)
    cell_type = raw.get("cell_type")
    if cell_type not in ("code", "markdown", "raw"):
        raise NotebookError(f"unknown cell_type {cell_type!r}", path=path, cell=number)
    source = raw.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotebookError(
            "'source' must be a string or a list of strings", path=path, cell=number
        )
    metadata = raw.get("metadata") or {}
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    if not isinstance(tags, list):
        tags = []
    return Cell(number, cell_type, source, tuple(str(t) for t in tags))


def _check_code_bounds(cell: Cell, path: str) -> None:
    """Refuse a code cell too large or too deeply nested to analyse, naming cell and step."""
    if cell.cell_type != "code":
        return
    step, code, offset = None, cell.source, 0
    if is_step_cell(cell.source):
        args, code = split_step_cell(cell.source)
        words, offset = args.split(), 1
        step = words[0] if words else None
    try:
        check_cell_code(code)
    except CodeTooComplex as exc:
        line = f" (line {exc.lineno + offset})" if exc.lineno else ""
        raise NotebookError(f"{exc.msg}{line}", path=path, cell=cell.number, step=step) from None


def content_hash(cells: list[Cell]) -> str:
    """sha256 of the cells' types, sources and tags: re-running (new outputs) keeps it."""
    canonical = json.dumps([[c.cell_type, c.source, list(c.tags)] for c in cells])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
