"""After a run: one ordered chain of links, the same whichever front end started the run.

The built-in links, in order: write missing schemas → record in MLflow → register models →
gates → capture fixtures. Each is a function of the run (:class:`AfterRun`); later
capabilities add theirs with :func:`add_link`. A link that raises makes the run fail (status,
exit code, ``--json`` and the MLflow parent run all say so) and the links after it still run
where they can. What a failed link left undone is derived from the cache entries (a step
never recorded has no ``run_id``, a model never registered has no ``model_version``), so the
next run — even with every step cached — does it again. The run's state file
(``run_state.py``, ``owed.py``) keeps what the run still owes MLflow, and its parent run, from
before the first link until the last: a run killed meanwhile is closed and completed by the
next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.errors import MlopsError
from jupyter_mlops.execute.cache import CacheEntry, StepCache
from jupyter_mlops.execute.run_result import RunResult, StepResult
from jupyter_mlops.execute.run_state import OwedItem, RunState
from jupyter_mlops.execute.status import RunStatus, StepStatus
from jupyter_mlops.pipeline.pipeline_file import PipelineFile

if TYPE_CHECKING:
    from jupyter_mlops.tracking.store import RunRecorder


@dataclass
class AfterRun:
    """A finished run and what the links share: the store, the cache, the MLflow recorder."""

    pipeline_file: PipelineFile
    result: RunResult
    store: ArtifactStore
    cache: StepCache
    track: bool
    tracking_uri: str | None  # as given (--tracking-uri); resolved when recording starts
    uri: str | None = None  # the resolved tracking URI once the run is being recorded
    recorder: RunRecorder | None = None
    registered: dict[str, str] = field(default_factory=dict)  # model step -> new version
    model_names: dict[str, str] = field(default_factory=dict)  # model step -> registered name
    run_state: RunState | None = None  # the run's state file (``run_state.py``); None: none
    carried: list[OwedItem] = field(default_factory=list)  # owed by earlier runs (``owed.py``)
    run_tags: dict[str, str] = field(default_factory=dict)  # more tags of the parent run

    def model_name(self, step: str) -> str:
        """The registered model name of ``--model`` step ``step`` (``model_names.py``)."""
        if not self.model_names:
            from jupyter_mlops.pipeline.model_names import model_names

            self.model_names = model_names(self.pipeline_file.pipeline)
        return self.model_names[step]

    @property
    def succeeded(self) -> bool:
        return self.result.status == RunStatus.SUCCEEDED

    def model_steps(self) -> list[StepResult]:
        """The ``--model`` steps whose outputs this run has (ran or cached)."""
        pipeline = self.pipeline_file.pipeline
        return [
            self.result.steps[s.name]
            for s in pipeline.steps
            if s.model and StepStatus(self.result.steps[s.name].status).done
        ]

    def remember(self, step: StepResult) -> None:
        """Write the step's run ids and model version into its cache entry."""
        if not StepStatus(step.status).done or not step.cache_key:
            return
        entry = CacheEntry(
            step.cache_key,
            step.outputs,
            step.seconds,
            run_id=step.run_id,
            parent_run_id=step.parent_run_id,
            metrics=step.metrics,
            model_version=step.model_version,
            model_name=step.model_name,
            tracking_uri=step.tracking_uri,
        )
        self.cache.record(step.name, entry)


Link = Callable[[AfterRun], None]


@dataclass(frozen=True)
class ChainLink:
    """One named link of the chain; ``run`` does its work or raises."""

    name: str
    run: Link


_LINKS: list[ChainLink] = []
_LOCK = threading.Lock()


def add_link(name: str, run: Link, *, after: str | None = None) -> None:
    """Add a link at the end of the chain, or right after the link named ``after``."""
    _builtin_links()
    with _LOCK:
        names = [link.name for link in _LINKS]
        if name in names:
            raise ValueError(f"an after-run link named '{name}' exists already")
        position = len(_LINKS) if after is None else names.index(after) + 1
        _LINKS.insert(position, ChainLink(name, run))


def link_names() -> list[str]:
    """The links in the order they run."""
    _builtin_links()
    return [link.name for link in _LINKS]


def run_after_chain(context: AfterRun) -> RunResult:
    """Run every link in order, then close the MLflow record with the run's final status.
    The run state (``owed.py``) says what is owed before the first link and after the last."""
    from jupyter_mlops.execute.owed import after_link, begin_after_run, end_after_run

    _builtin_links()
    begin_after_run(context)
    for link in list(_LINKS):
        try:
            link.run(context)
        except Exception as error:  # a link's failure is the run's failure, never hidden
            fail_link(context.result, link.name, error)
        after_link(context)
    if context.recorder is not None and context.recorder.run_id is not None:
        try:
            context.recorder.finish(context.result)
        except Exception as error:
            fail_link(context.result, "record", error)
    end_after_run(context)
    return context.result


def fail_link(result: RunResult, link: str, error: BaseException) -> None:
    """Mark the run failed because after-run link ``link`` raised ``error``."""
    detail = error.message if isinstance(error, MlopsError) else f"{type(error).__name__}: {error}"
    message = f"after the run, '{link}' failed: {detail}"
    result.failed_links[link] = detail
    result.status = RunStatus.FAILED
    result.error = result.error or message


_BUILTINS_ADDED = False


def _builtin_links() -> None:
    """Register the built-in links once (lazily, so importing this module stays cheap)."""
    global _BUILTINS_ADDED
    with _LOCK:
        if _BUILTINS_ADDED:
            return
        _BUILTINS_ADDED = True
    from jupyter_mlops.quality.fixtures import capture_fixtures_link
    from jupyter_mlops.quality.gates.link import gates_link
    from jupyter_mlops.quality.schemas import write_missing_schemas_link
    from jupyter_mlops.tracking.recording import record_link, register_link

    with _LOCK:
        builtins = [
            ChainLink("schemas", write_missing_schemas_link),
            ChainLink("record", record_link),
            ChainLink("register", register_link),
            ChainLink("gates", gates_link),
            ChainLink("fixtures", capture_fixtures_link),
        ]
        _LINKS[:0] = builtins
