"""The ``triggers:`` section of pipeline.yaml, read and checked field by field.

::

    triggers:
      nightly:
        kind: schedule
        cron: "0 3 * * *"            # minute hour day-of-month month day-of-week, UTC
      fresh-data:
        kind: new_data
        path: data/incoming.csv      # a file or a folder (relative: to the pipeline folder)
        params: {data_path: "{path}"}
      new-rows:
        kind: new_data
        url: sqlite:///warehouse.db  # a SQLAlchemy URL, and a query whose result is hashed
        query: SELECT count(*), max(id) FROM readings
      drifting:
        kind: drift
        windows: 3                   # dataset drift in each of the latest 3 windows
        model: iris                  # default: the pipeline's one registered model
      decaying:
        kind: decay
        metric: accuracy             # perf.accuracy of the monitoring windows
        below: 0.85
        windows: 2
        cooldown: 1d                 # every kind: no second fire within it (default 1h)
        deploy: prod                 # a target of the deploy: section for the new version

Errors are ``TriggerConfigError`` naming the trigger and the field, e.g.
``triggers.nightly.cron``. ``params`` values that are strings may hold ``{path}`` (the
watched path, absolute), ``{url}`` and ``{fingerprint}`` (of the new data), filled in when
the trigger fires.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import TriggerConfigError
from jupyter_mlops.pipeline.pipeline_file import PipelineFile
from jupyter_mlops.triggers.cron import Cron, parse_cron

KINDS = ("schedule", "new_data", "drift", "decay")
COMMON_KEYS = ("kind", "cooldown", "params", "deploy")
KIND_KEYS = {
    "schedule": ("cron",),
    "new_data": ("path", "url", "query"),
    "drift": ("windows", "model"),
    "decay": ("metric", "below", "windows", "model"),
}
PLACEHOLDERS = ("path", "url", "fingerprint")
DEFAULT_COOLDOWN = "1h"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Trigger:
    """One named trigger: its kind, the kind's settings, cool-down, params and target."""

    name: str
    kind: str
    cooldown: float  # seconds
    params: Mapping[str, Any] = field(default_factory=dict)
    deploy: str | None = None
    cron: Cron | None = None  # schedule
    path: Path | None = None  # new_data: a file or folder (absolute)
    url: str | None = None  # new_data: a SQLAlchemy URL
    query: str | None = None  # new_data: the query whose result is hashed
    windows: int = 1  # drift, decay: consecutive monitoring windows
    model: str | None = None  # drift, decay: the registered model (default: the one)
    metric: str | None = None  # decay: perf.<metric>
    below: float | None = None  # decay: the threshold

    @property
    def watched(self) -> str:
        """What a ``new_data`` trigger watches, for messages."""
        return str(self.path) if self.path is not None else f"{self.url}: {self.query}"

    def filled_params(self, fingerprint: str | None = None) -> dict[str, Any]:
        """``params`` with ``{path}``, ``{url}`` and ``{fingerprint}`` filled in."""
        values = {
            "path": str(self.path or ""),
            "url": self.url or "",
            "fingerprint": fingerprint or "",
        }
        return {
            key: value.format_map(values) if isinstance(value, str) else value
            for key, value in self.params.items()
        }


def read_triggers(pipeline_file: PipelineFile) -> dict[str, Trigger]:
    """The pipeline's triggers by name, in file order (empty without a ``triggers:``)."""
    raw = pipeline_file.settings.get("triggers")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail("triggers", "must be a mapping of trigger names to settings", pipeline_file)
    return {str(name): parse_trigger(str(name), data, pipeline_file) for name, data in raw.items()}


def parse_trigger(name: str, data: Any, pipeline_file: PipelineFile) -> Trigger:
    """One trigger's settings, checked; errors name pipeline.yaml as their path."""
    try:
        return _parse(name, data, pipeline_file)
    except TriggerConfigError as error:
        if error.path is not None:
            raise
        raise TriggerConfigError(
            error.message, name=error.name, path=str(pipeline_file.path)
        ) from None


def _parse(name: str, data: Any, pipeline_file: PipelineFile) -> Trigger:
    where = f"triggers.{name}"
    if not _NAME.match(name):
        raise _fail(where, "is not a trigger name (letters, digits, _ . -)", pipeline_file)
    if not isinstance(data, dict):
        raise _fail(where, f"must be a mapping with a kind ({', '.join(KINDS)})", pipeline_file)
    kind = data.get("kind")
    if kind not in KINDS:
        problem = f"must be one of {', '.join(KINDS)}, not {kind!r}"
        raise _fail(f"{where}.kind", problem, pipeline_file)
    for key in data:
        if key not in (*COMMON_KEYS, *KIND_KEYS[kind]):
            known = ", ".join((*COMMON_KEYS, *KIND_KEYS[kind]))
            problem = f"is not a setting of a {kind} trigger (settings: {known})"
            raise _fail(f"{where}.{key}", problem, pipeline_file)
    common = {
        "name": name,
        "kind": kind,
        "cooldown": cooldown(data.get("cooldown", DEFAULT_COOLDOWN), f"{where}.cooldown"),
        "params": _params(data.get("params", {}), f"{where}.params", pipeline_file),
        "deploy": _optional_text(data, "deploy", where, pipeline_file),
    }
    return Trigger(**common, **_kind_settings(kind, data, where, pipeline_file))


def _kind_settings(kind: str, data: dict[str, Any], where: str, file: PipelineFile) -> dict:
    if kind == "schedule":
        if "cron" not in data:
            raise _fail(f"{where}.cron", "is missing (e.g. cron: '0 3 * * *')", file)
        return {"cron": parse_cron(data["cron"], f"{where}.cron")}
    if kind == "new_data":
        return _new_data(data, where, file)
    settings: dict[str, Any] = {
        "windows": _count(data.get("windows", 1), f"{where}.windows", file),
        "model": _optional_text(data, "model", where, file),
    }
    if kind == "decay":
        settings["metric"] = _optional_text(data, "metric", where, file)
        if settings["metric"] is None:
            raise _fail(f"{where}.metric", "is missing (e.g. metric: accuracy)", file)
        below = data.get("below")
        if isinstance(below, bool) or not isinstance(below, int | float):
            raise _fail(f"{where}.below", f"must be a number, not {below!r}", file)
        settings["below"] = float(below)
    return settings


def _new_data(data: dict[str, Any], where: str, file: PipelineFile) -> dict[str, Any]:
    path = _optional_text(data, "path", where, file)
    url = _optional_text(data, "url", where, file)
    query = _optional_text(data, "query", where, file)
    if (path is None) == (url is None):
        raise _fail(where, "needs either path (a file or folder) or url and query", file)
    if url is not None and query is None:
        raise _fail(f"{where}.query", "is missing: the query whose result is watched", file)
    if path is not None and query is not None:
        raise _fail(f"{where}.query", "goes with url, not with path", file)
    if path is None:
        return {"url": url, "query": query}
    resolved = Path(path).expanduser()
    return {"path": (file.folder / resolved).resolve()}


def cooldown(value: Any, where: str) -> float:
    """``30m`` / ``6h`` / ``1d`` / ``1w`` / a number of seconds → seconds (>= 0)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TriggerConfigError(f"{where} must be a duration (e.g. 6h, 1d), not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise TriggerConfigError(
                f"{where} must be a duration (e.g. 30m, 6h, 1d), not {value!r}", name=where
            )
        seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    if seconds < 0:
        raise TriggerConfigError(f"{where} must not be negative, not {value!r}", name=where)
    return seconds


def _params(value: Any, where: str, file: PipelineFile) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"must be a mapping of parameter names to values, not {value!r}", file)
    declared = file.pipeline.params
    for key, item in value.items():
        if declared and key not in declared:
            names = ", ".join(declared) or "none"
            problem = f"is not a parameter of the pipeline (parameters: {names})"
            raise _fail(f"{where}.{key}", problem, file)
        if isinstance(item, str):
            _check_placeholders(item, f"{where}.{key}", file)
    return dict(value)


def _check_placeholders(text: str, where: str, file: PipelineFile) -> None:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise _fail(where, f"is not a valid template ({error}): write {{{{ for {{", file) from None
    for name in fields:
        if name not in PLACEHOLDERS:
            allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise _fail(where, f"has placeholder {{{name}}} (known: {allowed})", file)


def _optional_text(data: dict[str, Any], key: str, where: str, file: PipelineFile) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{where}.{key}", f"must be a non-empty string, not {value!r}", file)
    return value


def _count(value: Any, where: str, file: PipelineFile) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"must be a whole number of 1 or more, not {value!r}", file)
    return value


def _fail(where: str, problem: str, file: PipelineFile) -> TriggerConfigError:
    return TriggerConfigError(f"{where} {problem}", name=where, path=str(file.path))
