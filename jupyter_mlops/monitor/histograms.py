"""Reference-versus-current distributions of one column, for the monitoring report."""

from __future__ import annotations

from typing import Any

OTHER = "(other)"


def histogram(reference: Any, current: Any, kind: str, bins: int = 20) -> dict[str, Any]:
    """Fractions of each side per bin: ``{"kind": "numeric", "edges", "reference", "current"}``
    (``bins`` equal-width bins over both sides' finite values) or ``{"kind": "categorical",
    "categories", "reference", "current"}`` (the ``bins`` most frequent categories of both
    sides, the rest pooled as "(other)"); ``kind`` "binary" is drawn as categorical."""
    if kind == "numeric":
        return _numeric(reference, current, bins)
    return _categorical(reference, current, bins)


def _numeric(reference: Any, current: Any, bins: int) -> dict[str, Any]:
    from jupyter_mlops.monitor import stattests

    ref, cur = stattests.sorted_finite(reference), stattests.sorted_finite(current)
    if len(ref) == 0 and len(cur) == 0:
        return {"kind": "numeric", "edges": [], "reference": [], "current": []}
    edges = stattests.bin_edges(ref if len(ref) else cur, cur if len(cur) else ref, bins)
    return {
        "kind": "numeric",
        "edges": [float(edge) for edge in edges],
        "reference": _fractions(ref, edges),
        "current": _fractions(cur, edges),
    }


def _fractions(values_sorted: Any, edges: Any) -> list[float]:
    from jupyter_mlops.monitor import stattests

    if len(values_sorted) == 0:
        return [0.0] * (len(edges) - 1)
    return [float(fraction) for fraction in stattests.bin_fractions(values_sorted, edges)]


def _categorical(reference: Any, current: Any, bins: int) -> dict[str, Any]:
    import numpy as np

    from jupyter_mlops.monitor import stattests

    categories, ref_counts, cur_counts = stattests.category_counts(reference, current)
    ref_share = ref_counts / max(ref_counts.sum(), 1.0)
    cur_share = cur_counts / max(cur_counts.sum(), 1.0)
    order = np.argsort(-(ref_share + cur_share), kind="stable")
    shown, rest = order[:bins], order[bins:]
    names = [_plain(categories[index]) for index in shown]
    reference_fractions = [float(ref_share[index]) for index in shown]
    current_fractions = [float(cur_share[index]) for index in shown]
    if len(rest):
        names.append(OTHER)
        reference_fractions.append(float(ref_share[rest].sum()))
        current_fractions.append(float(cur_share[rest].sum()))
    return {
        "kind": "categorical",
        "categories": names,
        "reference": reference_fractions,
        "current": current_fractions,
    }


def _plain(value: Any) -> Any:
    """A JSON-ready category: numpy scalars become Python ones, anything else a string."""
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    return value if isinstance(value, str | int | float | bool) else str(value)
