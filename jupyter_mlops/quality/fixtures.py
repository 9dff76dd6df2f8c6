"""Test fixtures captured from a real run: small samples of every step input.

Written to ``<pipeline>/tests/fixtures/`` (user-owned: review and commit them):

- a DataFrame, Series or array input keeps at most ``max_rows`` rows; inputs with the same
  number of rows get the *same* rows (so ``X_train`` and ``y_train`` stay aligned), sampled
  with a fixed seed and stratified by an obvious label when the group has one (a Series or
  1-D array named like ``y``/``target``/``label``, else a ``target``/``label`` column);
- any other input (a model, a dict) is stored whole when it serializes to at most
  ``max_bytes``; a larger one is left out and the generated tests rebuild it by running its
  producing step on the fixtures;
- a step that fails, or returns an empty output, on its sampled inputs (position-based code
  such as ``data[400:]``) gets those inputs whole, and so do the steps producing them; when
  they are over ``max_bytes``, the manifest's ``full_data`` says why its tests need the
  full data, and they skip with that reason (``fixture_check``);
- ``manifest.json`` describes each file (step, name, serializer, sha256, recorded type, rows
  kept) and records every step output's type and NaN locations in the run, which the
  generated tests check; ``tests/fixtures_pin.py`` then pins the manifest's own sha256
  (``fixture_files``: nothing is loaded from a file that does not match).

The source is a run's output refs (``RunResult``) or, by default, each step's latest cache
entry (``.mlops/cache/<step>/*.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore, hash_file
from jupyter_mlops.errors import FixtureError, MlopsError
from jupyter_mlops.execute.cache import CacheEntry
from jupyter_mlops.execute.status import StepStatus
from jupyter_mlops.pipeline.pipeline_file import PipelineFile, read_pipeline_file
from jupyter_mlops.quality.fixture_check import (
    CheckJob,
    keys_to_keep_whole,
    sample_checks,
    steps_failing_on_samples,
)
from jupyter_mlops.quality.fixture_files import (
    FIXTURES_DIR,
    FORMAT,
    MANIFEST,
    PIN_FILE,
    fixtures_dir,
    load_fixture,
    read_manifest,
    read_pinned_manifest,
    write_pin,
)
from jupyter_mlops.quality.fixture_sampling import (
    Selection,
    ref_rows,
    row_count,
    row_selections,
)
from jupyter_mlops.quality.non_finite import nan_locations

if TYPE_CHECKING:
    from jupyter_mlops.execute.after_run import AfterRun

__all__ = ["FIXTURES_DIR", "MANIFEST", "Captured", "capture_fixtures", "fixtures_dir"]
__all__ += ["load_fixture", "read_manifest", "read_pinned_manifest"]

MAX_ROWS = 200
MAX_BYTES = 1_000_000
WALKED_MODULES = ("pandas", "numpy")  # and builtins: the types ``non_finite`` looks into

Outputs = dict[str, dict[str, ArtifactRef]]  # step -> output name -> ref


@dataclass
class Captured:
    """What ``capture_fixtures`` wrote: the folder and its manifest."""

    folder: Path
    manifest: dict[str, Any]

    def describe(self) -> str:
        """One line per fixture, for the CLI."""
        lines = []
        for key, item in sorted(self.manifest["fixtures"].items()):
            rows = f", {item['rows']} of {item['of_rows']} rows" if "rows" in item else ""
            how = f", {item['sampling']}" if item.get("sampling") else ""
            lines.append(f"  {key}: {item['type']}{rows}{how} → {item['file']}")
        for key, reason in sorted(self.manifest["not_captured"].items()):
            lines.append(f"  {key}: not captured ({reason})")
        lines += [f"  {reason}" for _, reason in sorted(self.manifest["full_data"].items())]
        lines.append(f"Pinned by {PIN_FILE} (the manifest's sha256): commit it with them.")
        return "\n".join(lines)


def latest_outputs(pipeline_file: PipelineFile) -> Outputs:
    """Each step's outputs in its most recent intact cache entry; names a step that has none."""
    store = ArtifactStore.for_pipeline(pipeline_file.folder)
    outputs: Outputs = {}
    for step in pipeline_file.pipeline.steps:
        found = (store.root / "cache" / step.name).glob("*.json")
        for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                entry = CacheEntry.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError, MlopsError):
                continue
            refs = entry.outputs.values()
            if not all(store.verify(ref.hash) and store.trusted(ref.hash) for ref in refs):
                continue
            outputs[step.name] = entry.outputs
            break
        else:
            raise FixtureError(
                "has no cached result to capture fixtures from: run the pipeline first "
                f"(jupyter mlops run {pipeline_file.folder})",
                step=step.name,
            )
    return outputs


def capture_fixtures(
    folder: str | Path,
    outputs: Outputs | None = None,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> Captured:
    """Capture fixtures of every step input into ``<folder>/tests/fixtures`` (replacing old ones).

    ``outputs`` are a run's output refs per step; by default each step's latest cache entry.
    The new folder is written beside the old one and swapped in, so a failure leaves the
    old fixtures as they were.
    """
    if max_rows < 1:
        raise FixtureError(f"max_rows must be at least 1, not {max_rows}")
    pipeline_file = read_pipeline_file(folder)
    outputs = outputs if outputs is not None else latest_outputs(pipeline_file)
    store = ArtifactStore.for_pipeline(pipeline_file.folder)
    wanted = _wanted_inputs(pipeline_file, outputs)
    large = {key: ref for key, ref in wanted.items() if (ref_rows(ref) or 0) > max_rows}
    selections = row_selections({key: store.get(ref) for key, ref in large.items()}, max_rows)
    target = fixtures_dir(pipeline_file.folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fixtures-", dir=target.parent))
    try:
        manifest = {
            "format": FORMAT,
            "pipeline": pipeline_file.pipeline.name,
            "max_rows": max_rows,
            "fixtures": {},
            "not_captured": {},
            "full_data": {},
            "outputs": _recorded_outputs(pipeline_file, outputs, store),
        }
        for key, ref in sorted(wanted.items()):
            if key in selections:
                _write_sample(staging, key, ref, selections[key], manifest)
            else:
                _copy_whole(staging, key, ref, store, max_bytes, manifest)
        _keep_positions_valid(pipeline_file, outputs, (staging, store, max_bytes), manifest)
        _keep_user_files(target, staging)
        _write_json(staging / MANIFEST, manifest)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    write_pin(pipeline_file.folder)
    return Captured(target, manifest)


def capture_if_missing(folder: str | Path, outputs: Outputs) -> Captured | None:
    """Capture fixtures from a successful run's outputs when the folder has none yet, or
    when they no longer fit the pipeline (its steps' inputs or outputs changed), or no longer
    match their pin (changed since capture)."""
    try:
        manifest = read_pinned_manifest(folder)
    except FixtureError:
        manifest = None
    if manifest is not None and fits_pipeline(manifest, read_pipeline_file(folder)):
        return None
    return capture_fixtures(folder, outputs)


def fits_pipeline(manifest: dict[str, Any], pipeline_file: PipelineFile) -> bool:
    """Whether the manifest covers exactly the pipeline's step inputs and outputs."""
    steps = pipeline_file.pipeline.steps
    inputs = {f"{producer}.{name}" for s in steps for name, producer in s.inputs.items()}
    captured = set(manifest["fixtures"]) | set(manifest.get("not_captured", {}))
    recorded = {s: set(o) for s, o in manifest.get("outputs", {}).items()}
    declared = {s.name: set(s.outputs) for s in steps if s.outputs}
    return captured == inputs and recorded == declared


def _wanted_inputs(pipeline_file: PipelineFile, outputs: Outputs) -> dict[str, ArtifactRef]:
    """``<producer>.<name>`` → ref, for every value some step takes as an input."""
    wanted: dict[str, ArtifactRef] = {}
    for step in pipeline_file.pipeline.steps:
        for name, producer in step.inputs.items():
            ref = outputs.get(producer, {}).get(name)
            if ref is None:
                raise FixtureError(
                    f"the run has no output '{name}' of step '{producer}': re-run the pipeline",
                    step=producer,
                    name=name,
                )
            wanted[f"{producer}.{name}"] = ref
    return wanted


def _recorded_outputs(
    pipeline_file: PipelineFile, outputs: Outputs, store: ArtifactStore
) -> dict[str, dict[str, Any]]:
    """Per step output: the type recorded in the run, and where it held NaN there (the
    ``quality.non_finite`` locations, whatever the serializer)."""
    recorded: dict[str, dict[str, Any]] = {}
    for step in pipeline_file.pipeline.steps:
        for name in step.outputs:
            ref = outputs.get(step.name, {}).get(name)
            if ref is None:
                continue
            walked = ref.type.partition(".")[0] in WALKED_MODULES or "." not in ref.type
            item = {
                "type": ref.type,
                "nan_columns": nan_locations(store.get(ref)) if walked else [],
            }
            recorded.setdefault(step.name, {})[name] = item
    return recorded


def _keep_positions_valid(
    pipeline_file: PipelineFile,
    outputs: Outputs,
    where: tuple[Path, ArtifactStore, int],
    manifest: dict[str, Any],
) -> None:
    """Keep whole the sampled inputs of steps that fail (or return empty outputs) on them,
    and of the steps producing those; over ``max_bytes``, record the step as full-data."""
    staging, store, max_bytes = where
    items = manifest["fixtures"]
    sampled = {
        key: (str((staging / item["file"]).resolve()), item["serializer"])
        for key, item in items.items()
        if "sampling" in item
    }
    root = store.root.resolve()
    checks = sample_checks(pipeline_file, outputs, sampled)
    folder = str(pipeline_file.folder.resolve())
    job = CheckJob(folder, str(root), str(root / "fixture-check.log"), checks)
    for step, reason in sorted(steps_failing_on_samples(job).items()):
        rows = {k: i["of_rows"] for k, i in items.items() if i.get("rows") != i.get("of_rows")}
        keys = keys_to_keep_whole(pipeline_file, step, rows)
        refs = {key: outputs[key.partition(".")[0]][items[key]["name"]] for key in keys}
        sizes = {key: store.path_of(ref.hash).stat().st_size for key, ref in refs.items()}
        if any(size > max_bytes for size in sizes.values()):
            manifest["full_data"][step] = (
                f"step '{step}' fails on sampled fixtures ({reason}) and keeping its inputs "
                f"whole takes {sum(sizes.values()) / 1e6:.1f} MB, over the "
                f"{max_bytes / 1e6:.1f} MB limit: its tests need the full data"
            )
            continue
        for key, ref in sorted(refs.items()):
            (staging / items[key]["file"]).unlink()
            _copy_whole(staging, key, ref, store, max_bytes, manifest)
            items[key]["sampling"] = f"kept whole: step '{step}' fails on a sample ({reason})"


def _write_sample(
    staging: Path, key: str, ref: ArtifactRef, selection: Selection, manifest: dict[str, Any]
) -> None:
    """Write the selected rows of a large DataFrame, Series or array."""
    step, _, name = key.partition(".")
    value, positions, how = selection
    sample = value.iloc[positions] if hasattr(value, "iloc") else value[positions]
    serializer, path = serializers.dump(sample, staging / key, name=name)
    manifest["fixtures"][key] = {
        **_item(key, ref, Path(path), serializer.name),
        "rows": len(positions),
        "of_rows": row_count(value),
        "sampling": how,
    }


def _copy_whole(
    staging: Path,
    key: str,
    ref: ArtifactRef,
    store: ArtifactStore,
    max_bytes: int,
    manifest: dict[str, Any],
) -> None:
    """Copy a small value's stored file as it is; leave out other values over ``max_bytes``."""
    source = store.path_of(ref.hash)
    rows = ref_rows(ref)
    size = source.stat().st_size
    if rows is None and size > max_bytes:
        manifest["not_captured"][key] = (
            f"{size / 1e6:.1f} MB serialized, over the {max_bytes / 1e6:.1f} MB limit; "
            f"tests rebuild it by running step '{key.partition('.')[0]}' on its fixtures"
        )
        return
    if not store.trusted(ref.hash):
        raise FixtureError(
            f"the stored value of '{key}' was not written by this user's jupyter_mlops: "
            "not copied into the fixtures (re-run the pipeline, then capture)",
            path=str(source),
        )
    name = f"{key}.{store.meta(ref.hash)['extension']}"
    shutil.copyfile(source, staging / name)
    item = _item(key, ref, staging / name, ref.serializer)
    if rows is not None:
        item |= {"rows": rows, "of_rows": rows}
    manifest["fixtures"][key] = item


def _item(key: str, ref: ArtifactRef, file: Path, serializer: str) -> dict[str, Any]:
    step, _, name = key.partition(".")
    return {
        "step": step,
        "name": name,
        "file": file.name,
        "sha256": hash_file(file),
        "serializer": serializer,
        "type": ref.type,
        "from": ref.hash,
    }


def _keep_user_files(target: Path, staging: Path) -> None:
    """Copy files the user added to the fixtures folder (not listed in the old manifest)."""
    if not target.is_dir():
        return
    try:
        old = read_manifest(target.parent.parent) or {"fixtures": {}}
    except FixtureError:
        old = {"fixtures": {}}
    ours = {MANIFEST} | {item.get("file") for item in old["fixtures"].values()}
    for path in target.iterdir():
        if path.name not in ours and not (staging / path.name).exists():
            copy = shutil.copytree if path.is_dir() else shutil.copy2
            copy(path, staging / path.name)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` with renames (the old folder is removed last)."""
    old = None
    if target.exists():
        old = target.with_name(f".fixtures-old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    os.chmod(target, 0o755)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def capture_fixtures_link(context: AfterRun) -> None:
    """After-run link ``fixtures``: after a successful full run, capture test fixtures when
    the folder has none (or stale ones). A capture problem is a warning: fixtures are a
    convenience for the generated tests, and ``jupyter mlops fixtures`` retries on demand."""
    result = context.result
    if not context.succeeded or not all(StepStatus(s.status).done for s in result.steps.values()):
        return  # --only: not every step's outputs are known
    outputs = {name: step.outputs for name, step in result.steps.items()}
    try:
        captured = capture_if_missing(context.pipeline_file.folder, outputs)
    except Exception as error:
        detail = str(error) if isinstance(error, MlopsError) else f"{type(error).__name__}: {error}"
        result.warnings.append(f"test fixtures not captured: {detail}")
        return
    if captured is not None:
        result.notes.append(
            f"Captured test fixtures into {captured.folder}/, pinned by {PIN_FILE} (review "
            "and commit both; `jupyter mlops fixtures` refreshes them)"
        )
