"""Step graph helpers: topological order and cycle detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(upstream: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a], or None. ``upstream`` maps step → its inputs' steps."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for parent in upstream.get(node, ()):
            if state.get(parent) == 1:
                return path[path.index(parent) :] + [parent]
            if parent not in state:
                cycle = visit(parent)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in upstream:
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle[::-1]
    return None


def topological_order(upstream: Mapping[str, Sequence[str]]) -> list[str]:
    """Steps ordered so each comes after its upstream steps; ties keep the mapping's order."""
    order: list[str] = []
    done: set[str] = set()
    remaining = list(upstream)
    while remaining:
        ready = [n for n in remaining if all(p in done for p in upstream[n])]
        if not ready:
            raise ValueError(f"dependency cycle among {remaining}")
        order.extend(ready)
        done.update(ready)
        remaining = [n for n in remaining if n not in done]
    return order
