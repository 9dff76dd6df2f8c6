"""The DAG executor: order, parallelism, and what a failure stops."""

from __future__ import annotations

import threading

import pytest

from jupyter_mlops.execute.executors.threads import run_dag


def test_runs_in_dependency_order_and_skips_everything_below_a_failure() -> None:
    upstream = {"a": [], "b": ["a"], "c": ["b"], "d": ["c"], "side": []}
    order: list[str] = []
    skipped: list[str] = []

    def task(name: str) -> bool:
        order.append(name)
        return name != "b"

    outcome = run_dag(upstream, task, workers=2, on_skipped=skipped.append)
    assert outcome == {"a": True, "side": True, "b": False, "c": False, "d": False}
    assert order.index("a") < order.index("b")
    assert skipped == ["c", "d"]


def test_independent_tasks_overlap() -> None:
    barrier = threading.Barrier(2, timeout=10)

    def task(name: str) -> bool:
        barrier.wait()  # only passes when both branches run at the same time
        return True

    assert run_dag({"x": [], "y": []}, task, workers=2) == {"x": True, "y": True}


def test_unexpected_errors_propagate_and_unknown_upstream_is_refused() -> None:
    def boom(name: str) -> bool:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        run_dag({"a": []}, boom, workers=1)
    with pytest.raises(ValueError, match="outside the graph"):
        run_dag({"a": ["ghost"]}, lambda name: True, workers=1)
