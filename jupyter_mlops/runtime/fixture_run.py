"""The whole pipeline on its fixtures: what the generated ``tests/test_whole_pipeline.py`` runs.

A copy of the pipeline folder (without ``.mlops`` and ``tests``) gets the fixtures of its
input-less steps recorded as their cached results, so the run starts from them; every other
step runs with the chosen engine (``inprocess``: the step functions; ``papermill``: the step
notebooks with fixture inputs). The copy runs untracked, with its schemas validated (value ranges
excepted: fixtures are a resample) and drift off (a few hundred rows always drift).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jupyter_mlops.pipeline.pipeline_file import PIPELINE_FILE, PipelineFile, read_pipeline_file
from jupyter_mlops.quality.fixture_files import load_fixture
from jupyter_mlops.runtime.testing import fixture_manifest, skip_when_full_data_needed


def run_pipeline_on_fixtures(folder: str | Path, work_dir: str | Path, engine: str) -> Any:
    """Run a copy of the pipeline in ``work_dir`` with ``engine``, its first steps replaced by
    their fixtures; checks it succeeds and every output has its recorded type.

    The copy is run untracked, with its schemas validated and drift off."""
    __tracebackhide__ = True
    from jupyter_mlops.execute.runner import RunOptions, run_pipeline

    folder = Path(folder).resolve()
    manifest = fixture_manifest(folder)
    skip_when_full_data_needed(manifest)
    pipeline_file = read_pipeline_file(folder)
    target = Path(work_dir) / folder.name
    ignore = shutil.ignore_patterns(".mlops", "tests", "__pycache__", ".ipynb_checkpoints")
    shutil.copytree(folder, target, ignore=ignore)
    _drift_off(target / PIPELINE_FILE)
    _without_ranges(target / "schemas")
    seeded = seed_source_steps(folder, read_pipeline_file(target), manifest)
    result = run_pipeline(target, RunOptions(engine=engine, track=False))
    failed = [s for s in result.steps.values() if s.status != "cached" and s.name in seeded]
    assert not failed, f"steps {[s.name for s in failed]} did not take their fixtures"
    assert result.status == "succeeded", _failure(result)
    problems = []
    for step in pipeline_file.pipeline.steps:
        recorded = manifest.get("outputs", {}).get(step.name, {})
        for name, ref in result.steps[step.name].outputs.items():
            expected = recorded.get(name, {}).get("type")
            if expected is not None and ref.type != expected:
                problems.append(f"{step.name}.{name} is a {ref.type}, recorded {expected}")
    assert not problems, "; ".join(problems)
    return result


def _drift_off(path: Path) -> None:
    """Turn drift off in a copied pipeline.yaml: a few hundred fixture rows always drift.
    Schemas still apply."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["drift"] = "off"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _without_ranges(schemas: Path) -> None:
    """Drop value-range checks from the copied schemas: fixtures are a resample, so steps see
    other rows than the run the ranges were learned from. Structure and categories still apply."""
    from jupyter_mlops.quality.schemas import read_schema, without_range_checks

    for path in sorted(schemas.glob("*.yaml")):
        path.write_text(without_range_checks(read_schema(path)).to_yaml(), encoding="utf-8")


def _failure(result: Any) -> str:
    failed = [s for s in result.steps.values() if s.status == "failed"]
    details = "\n".join(s.traceback or "" for s in failed)
    return f"{result.error}\n{details}".rstrip()


def seed_source_steps(
    folder: Path, pipeline_file: PipelineFile, manifest: dict[str, Any]
) -> list[str]:
    """Record the fixtures as the cached result of each step without inputs whose outputs were
    all captured, so the run starts from them; returns those steps."""
    from jupyter_mlops.artifacts.store import ArtifactStore
    from jupyter_mlops.execute.cache import (
        CacheEntry,
        StepCache,
        cache_key,
        normalized_code,
        setup_definitions,
    )
    from jupyter_mlops.pipeline.params import resolve_params

    store = ArtifactStore.for_pipeline(pipeline_file.folder.resolve())
    setup = setup_definitions(_read(pipeline_file, f"{pipeline_file.package}/common.py"))
    params = resolve_params(pipeline_file.pipeline.params, {})
    seeded = []
    for step in pipeline_file.pipeline.steps:
        keys = [f"{step.name}.{name}" for name in step.outputs]
        if step.inputs or not keys or not all(k in manifest["fixtures"] for k in keys):
            continue
        module = pipeline_file.modules[step.name].replace(".", "/") + ".py"
        key = cache_key(
            normalized_code(_read(pipeline_file, module)),
            {n: setup[n] for n in step.setup if n in setup},
            {p: params[p] for p in step.params},
            {},
        )
        outputs = {
            name: store.put(name, load_fixture(folder, f"{step.name}.{name}", manifest))
            for name in step.outputs
        }
        StepCache(store).record(step.name, CacheEntry(key, outputs, 0.0))
        seeded.append(step.name)
    return seeded


def _read(pipeline_file: PipelineFile, relative: str) -> str:
    return (pipeline_file.folder / relative).read_text(encoding="utf-8")
