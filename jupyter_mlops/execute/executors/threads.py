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
    """
    outcome: dict[str, bool] = {}
    pending = dict(upstream)
    running: dict[Future[bool], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mlops-step") as pool:
        while pending or running:
            while skippable := _skippable(pending, outcome):
                for name in skippable:
                    del pending[name]
                    outcome[name] = False
                    on_skipped(name)
            for name in [n for n, ups in pending.items() if all(outcome.get(u) for u in ups)]:
                del pending[name]
                running[pool.submit(task, name)] = name
            if not running:
                if pending:
                    raise ValueError(f"steps waiting on steps outside the graph: {sorted(pending)}")
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                outcome[name] = _succeeded(future)
    return outcome


def _skippable(pending: Mapping[str, Sequence[str]], outcome: Mapping[str, bool]) -> list[str]:
    return [n for n, ups in pending.items() if any(outcome.get(u) is False for u in ups)]


def _succeeded(future: Future[bool]) -> bool:
    error = future.exception()
    if error is not None:
        raise error
    return bool(future.result())
