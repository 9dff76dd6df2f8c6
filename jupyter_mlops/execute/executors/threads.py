"""Run a DAG of tasks: each starts once its upstream tasks succeeded, independent ones in parallel.

A task that fails (returns False or raises) stops its dependants; independent branches go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait


def run_dag(
    upstream: Mapping[str, Sequence[str]],
    task: Callable[[str], bool],
    workers: int,
    on_skipped: Callable[[str], None] = lambda name: None,
) -> dict[str, bool]:
    """Run ``task(name)`` for every node in dependency order; returns name → succeeded.

    Nodes whose upstream failed are not run: ``on_skipped(name)`` is called for each.
    When waiting is interrupted (``KeyboardInterrupt``) the exception propagates at once,
    without waiting for the running tasks: the caller stops them (it closes the engine).
    """
    outcome: dict[str, bool] = {}
    pending = dict(upstream)
    running: dict[Future[bool], str] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mlops-step")
    interrupted = False
    try:
        while pending or running:
            _start_ready(pool, task, pending, running, outcome, on_skipped)
            if not running:
                if pending:
                    raise ValueError(f"steps waiting on steps outside the graph: {sorted(pending)}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                outcome[name] = _succeeded(future)
    except KeyboardInterrupt:  # Ctrl-C: the caller stops the running tasks
        interrupted = True
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=interrupted)
    return outcome


def _start_ready(
    pool: ThreadPoolExecutor,
    task: Callable[[str], bool],
    pending: dict[str, Sequence[str]],
    running: dict[Future[bool], str],
    outcome: dict[str, bool],
    on_skipped: Callable[[str], None],
) -> None:
    """Mark the nodes whose upstream failed as skipped, submit those whose upstream succeeded."""
    while skippable := _skippable(pending, outcome):
        for name in skippable:
            del pending[name]
            outcome[name] = False
            on_skipped(name)
    for name in [n for n, ups in pending.items() if all(outcome.get(u) for u in ups)]:
        del pending[name]
        running[pool.submit(task, name)] = name


def _skippable(pending: Mapping[str, Sequence[str]], outcome: Mapping[str, bool]) -> list[str]:
    return [n for n, ups in pending.items() if any(outcome.get(u) is False for u in ups)]


def _succeeded(future: Future[bool]) -> bool:
    error = future.exception()
    if error is not None:
        raise error
    return bool(future.result())
