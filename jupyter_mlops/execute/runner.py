"""Run an extracted pipeline: cache keys, engine jobs, DAG execution, then the after-run chain.

Nothing heavy is imported until a step actually has to run, so a no-change re-run (all
steps cached) only reads pipeline.yaml, hashes code and checks the store.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.artifacts.shared_store import open_shared_store
from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.errors import MlopsError, RunCancelled
from jupyter_mlops.execute.after_run import AfterRun, run_after_chain
from jupyter_mlops.execute.cache import (
    CacheEntry,
    StepCache,
    cache_key,
    normalized_code,
    setup_definitions,
)
from jupyter_mlops.execute.engines.base import Engine, StepJob, check_engine_name
from jupyter_mlops.execute.executors.base import (
    ExecutorSettings,
    check_executor,
    get_executor,
    parallel_steps,
    preload_executor,
)
from jupyter_mlops.execute.executors.resources import pipeline_resources
from jupyter_mlops.execute.executors.threads import run_dag
from jupyter_mlops.execute.live_record import LiveProgress, LiveRecord, env_run_id, run_source
from jupyter_mlops.execute.progress import StepProgress
from jupyter_mlops.execute.run_lock import pipeline_lock
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.run_state import RunState
from jupyter_mlops.execute.status import RunStatus, StepStatus
from jupyter_mlops.execute.warm_up import warm_up_tracking, warm_up_validation
from jupyter_mlops.pipeline.model import Step
from jupyter_mlops.pipeline.params import resolve_params
from jupyter_mlops.pipeline.pipeline_file import PipelineFile, read_pipeline_file
from jupyter_mlops.quality.drift import drift_settings
from jupyter_mlops.quality.gates.config import read_gates
from jupyter_mlops.tracking.gitinfo import project_root
from jupyter_mlops.tracking.preflight import check_tracking_store
from jupyter_mlops.tracking.store import resolve_tracking_uri
from jupyter_mlops.tracking.tags import STARTED_FROM


@dataclass
class RunOptions:
    """What ``jupyter mlops run`` was asked to do."""

    params: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    from_step: str | None = None
    only: list[str] | None = None
    workers: int = 0  # 0: one per CPU
    engine: str = "papermill"
    executor: str = "local"  # where steps run: local, dask (executors/base.py)
    scheduler: str | None = None  # dask: the scheduler's address (None: a LocalCluster)
    store: str | None = None  # a shared store's URL (s3://bucket/prefix, a path)
    tracking_uri: str | None = None
    track: bool = True
    progress: StepProgress | None = None
    run_tags: dict[str, str] = field(default_factory=dict)  # more tags of the MLflow parent run
    source: str | None = None  # panel, widget, cli, ci, trigger (None: live_record.run_source)


def run_pipeline(folder: str | Path, options: RunOptions | None = None) -> RunResult:
    """Run the pipeline in ``folder``, then its after-run chain (``after_run``); the result
    says what ran, was cached or failed, and whether every after-run link succeeded."""
    from jupyter_mlops.extract.sync_check import check_extracted_by_this_version

    options = options or RunOptions()
    check_run_options(options)
    preload_executor(options.executor)
    pipeline_file = read_pipeline_file(folder)
    if options.track:
        check_tracking_store(
            resolve_tracking_uri(options.tracking_uri, project_root(pipeline_file.folder))
        )
    check_extracted_by_this_version(folder, pipeline_file.pipeline.notebook)
    with pipeline_lock(pipeline_file.folder):  # one run per folder: others are refused
        return _Run(pipeline_file, options).execute()


def check_run_options(options: RunOptions) -> None:
    """Refuse options that cannot mean anything, before any step or cache lookup: an unknown
    engine (also when every step would come from the cache), a negative worker count, and
    ``--only`` with ``--from`` (one would silently win)."""
    check_engine_name(options.engine)
    run_source(options.source)  # a bad source or run id is refused before anything runs
    env_run_id()
    check_executor(options.executor, executor_settings(options))
    if options.workers < 0:
        raise MlopsError(
            f"--workers must be 0 (one per CPU) or more, not {options.workers}", name="workers"
        )
    if options.only and options.from_step:
        raise MlopsError(
            "--only and --from select steps in two different ways: give one of them",
            name="only",
        )


def executor_settings(options: RunOptions) -> ExecutorSettings:
    """Where the steps of a run with ``options`` run."""
    return ExecutorSettings(options.engine, options.workers, options.scheduler, options.store)


def step_selection(pipeline_file: PipelineFile, options: RunOptions) -> tuple[set[str], set[str]]:
    """(steps to consider, steps to re-run regardless of the cache) for --only/--from/--force."""
    pipeline = pipeline_file.pipeline
    names = [s.name for s in pipeline.steps]
    for name in [*(options.only or []), *([options.from_step] if options.from_step else [])]:
        if name not in names:
            raise MlopsError(
                f"no step named '{name}' (steps: {', '.join(names)})",
                name=name,
                path=str(pipeline_file.path),
            )
    if options.only:
        selected = set(options.only)
        return selected | _reachable(selected, lambda n: pipeline.step(n).upstream()), selected
    forced = set(names) if options.force else set()
    if options.from_step:
        forced |= {options.from_step} | _reachable({options.from_step}, pipeline.downstream)
    return set(names), forced


def _reachable(start: set[str], neighbours: Callable[[str], Iterable[str]]) -> set[str]:
    """The steps reached from ``start`` through ``neighbours`` (``start`` itself excluded)."""
    found: set[str] = set()
    todo = list(start)
    while todo:
        for other in neighbours(todo.pop()):
            if other not in found:
                found.add(other)
                todo.append(other)
    return found - start


class _Run:
    def __init__(self, pipeline_file: PipelineFile, options: RunOptions) -> None:
        self.file = pipeline_file
        self.pipeline = pipeline_file.pipeline
        self.options = options
        self.params = resolve_params(self.pipeline.params, options.params)
        self.considered, self.forced = step_selection(pipeline_file, options)
        self.store = ArtifactStore.for_pipeline(pipeline_file.folder.resolve())
        self.cache = StepCache(
            self.store, open_shared_store(options.store) if options.store else None
        )
        self.workers = parallel_steps(
            options.executor, executor_settings(options), len(self.considered)
        )
        self.resources = pipeline_resources(
            self.pipeline, pipeline_file.settings.get("resources"), str(pipeline_file.path)
        )
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
        self.work_root = Path(self.store.root) / "runs" / stamp
        self.run_id, self.source = env_run_id() or stamp, run_source(options.source)
        self.results = {
            s.name: StepResult(s.name, params={p: self.params[p] for p in s.params})
            for s in self.pipeline.steps
        }
        self.setup_code = setup_definitions(self._read(f"{pipeline_file.package}/common.py"))
        self.drift = drift_settings(pipeline_file.settings.get("drift"), str(pipeline_file.path))
        read_gates(pipeline_file)  # a malformed gates: section is refused before any step runs
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._interrupted = False  # Ctrl-C: steps killed by the engine's close are not reported

    def execute(self) -> RunResult:
        self.live = LiveRecord.of_run(
            self.file, self.run_id, self.source, self.params, self.considered
        )
        self.progress = LiveProgress(self.live, self.options.progress)
        return self.live.follow(self._execute_all)

    def _execute_all(self) -> RunResult:
        steps = [s for s in self.pipeline.steps if s.name in self.considered]
        upstream = {s.name: s.upstream() for s in steps}
        state = RunState.begin(self.work_root.parent, self.work_root.name)
        try:
            if self.forced & self._roots() or self.options.scheduler:  # start workers at once
                self._get_engine()
            self.store.clean_temp(max_age=3600)
            run_dag(upstream, self._run_step, self.workers, on_skipped=self._skipped)
        except KeyboardInterrupt:
            self._interrupted = True
            raise
        finally:
            with self._engine_lock:  # an engine being started is closed once it has started
                if self._engine is not None:
                    self._engine.close()
        self.live.recording()
        context = AfterRun(
            self.file,
            self._result(),
            self.store,
            self.cache,
            track=self.options.track,
            tracking_uri=self.options.tracking_uri,
            run_state=state,
            run_tags={**self.options.run_tags, STARTED_FROM: self.source},
        )
        return run_after_chain(context)

    def _run_step(self, name: str) -> bool:
        step = self.pipeline.step(name)
        result = self.results[name]
        for var, producer in step.inputs.items():
            result.inputs[var] = self.results[producer].outputs[var]
        result.cache_key = cache_key(
            normalized_code(self._read(self.file.modules[name].replace(".", "/") + ".py")),
            {n: self.setup_code[n] for n in step.setup if n in self.setup_code},
            result.params,
            {var: ref.hash for var, ref in result.inputs.items()},
        )
        if name not in self.forced and not step.no_cache:
            entry = self.cache.lookup(name, result.cache_key, step.outputs, result.warnings)
            if entry is not None:
                self._take_cached(result, entry)
                return True
        if name not in self.forced and self.options.only:
            return self._fail(
                result,
                "not selected by --only and no cached result matches its inputs: run it first",
            )
        return self._execute(step, result)

    def _take_cached(self, result: StepResult, entry: CacheEntry) -> None:
        result.status = StepStatus.CACHED
        result.outputs = dict(entry.outputs)
        result.metrics = dict(entry.metrics)
        result.run_id = entry.run_id
        result.parent_run_id = entry.parent_run_id
        result.model_version, result.model_name = entry.model_version, entry.model_name
        result.tracking_uri = entry.tracking_uri
        self._progress("finished", result.name, StepStatus.CACHED, 0.0)

    def _execute(self, step: Step, result: StepResult) -> bool:
        self._progress(StepStatus.RUNNING, step.name)
        work_dir = self.work_root / step.name
        work_dir.mkdir(parents=True, exist_ok=True)
        job = StepJob(
            pipeline_dir=self.file.folder.resolve(),
            step=step.name,
            cell=step.cell,
            module=self.file.modules[step.name],
            notebook=self.file.notebooks[step.name].resolve(),
            params=result.params,
            input_paths={v: str(self.store.path_of(r.hash)) for v, r in result.inputs.items()},
            outputs=list(step.outputs),
            store_root=Path(self.store.root).resolve(),
            work_dir=work_dir.resolve(),
            report_path=(work_dir / f"{step.name}.ipynb").resolve(),
            resources=self.resources.get(step.name, {}),
        )
        outcome = self._get_engine().run(job)
        if self._interrupted:
            return False
        result.seconds, result.report = outcome.seconds, outcome.report
        if not outcome.ok:
            result.traceback = outcome.traceback
            return self._fail(result, outcome.error or "failed")
        missing = [o for o in step.outputs if o not in outcome.outputs]
        if missing:
            return self._fail(result, f"did not produce its output(s) {', '.join(missing)}")
        result.outputs = {o: outcome.outputs[o] for o in step.outputs}
        if step.metrics:
            try:
                result.metrics = metrics_values(self.store.get(result.outputs[step.metrics]), step)
            except MlopsError as error:
                return self._fail(result, error.message)
        data_error = self._check_data(step, result)
        if data_error is not None:
            return self._fail(result, data_error)
        entry = CacheEntry(result.cache_key, result.outputs, result.seconds, metrics=result.metrics)
        self.cache.record(step.name, entry)
        result.status = StepStatus.RAN
        self._progress("finished", step.name, StepStatus.RAN, result.seconds)
        return True

    def _check_data(self, step: Step, result: StepResult) -> str | None:
        """Validate the outputs that have a schema and measure their drift (``validation``);
        the error that fails the step, if any."""
        from jupyter_mlops.quality.validation import check_outputs

        started = time.monotonic()
        checks = check_outputs(self.file.folder, self.store, step.name, result.outputs, self.drift)
        result.seconds += time.monotonic() - started
        result.validation, result.drift = checks.validation, checks.drift
        result.metrics.update(checks.metrics)
        result.warnings += checks.warnings
        return checks.error

    def _fail(self, result: StepResult, message: str) -> bool:
        result.status = StepStatus.FAILED
        result.error = message
        self._progress("finished", result.name, StepStatus.FAILED, result.seconds)
        return False

    def _skipped(self, name: str) -> None:
        self._progress("finished", name, StepStatus.NOT_RUN, 0.0)

    def _get_engine(self) -> Engine:
        with self._engine_lock:
            if self._interrupted:  # Ctrl-C came while this step waited: start nothing more
                raise RunCancelled("the run was interrupted before this step started")
            if self._engine is None:  # workers first: the first step waits for them
                self._engine = get_executor(self.options.executor, executor_settings(self.options))
                self._engine.prepare(
                    self._steps_left(),
                    pipeline_dir=self.file.folder.resolve(),
                    store_root=Path(self.store.root).resolve(),
                )
                if self.options.track:
                    warm_up_tracking(self.options.tracking_uri, self.file)
                if any((self.file.folder / "schemas").glob("*.yaml")):
                    warm_up_validation()
            return self._engine

    def _roots(self) -> set[str]:
        """The considered steps that wait for no other step."""
        return {
            s.name for s in self.pipeline.steps if s.name in self.considered and not s.upstream()
        }

    def _steps_left(self) -> int:
        """Steps that may still have to run (not yet cached, ran or failed)."""
        return sum(1 for name in self.considered if self.results[name].status == StepStatus.NOT_RUN)

    def _progress(self, event: str, *args: Any) -> None:
        getattr(self.progress, event)(*args)

    def _read(self, relative: str) -> str:
        path = self.file.folder / relative
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MlopsError(
                f"cannot read {path}: {exc.strerror}; re-extract the pipeline", path=str(path)
            ) from None

    def _result(self) -> RunResult:
        failed = [r for r in self.results.values() if r.status == StepStatus.FAILED]
        error = None
        if failed:
            first = failed[0]
            cell = self.pipeline.step(first.name).cell
            error = f"step '{first.name}' (notebook cell {cell}) failed: {first.error}"
        return RunResult(
            pipeline=self.pipeline.name,
            pipeline_dir=self.file.folder,
            params=self.params,
            steps=self.results,
            status=RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
            error=error,
            metrics_vars={s.name: s.metrics for s in self.pipeline.steps if s.metrics},
            results={s.name: list(s.results) for s in self.pipeline.steps if s.results},
        )


def metrics_values(value: Any, step: Step) -> dict[str, float]:
    """The ``--metrics`` variable as name → float, or an error naming what is wrong."""
    if not isinstance(value, dict):
        raise MlopsError(
            f"--metrics variable '{step.metrics}' must be a dict of name → number, "
            f"not {type(value).__name__}",
            step=step.name,
            name=step.metrics,
        )
    metrics: dict[str, float] = {}
    for key, number in value.items():
        try:
            metrics[str(key)] = float(number)
        except (TypeError, ValueError):
            raise MlopsError(
                f"--metrics variable '{step.metrics}': value of '{key}' is not a number "
                f"({type(number).__name__})",
                step=step.name,
                name=step.metrics,
            ) from None
    return metrics
