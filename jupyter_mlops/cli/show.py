"""Human-readable rendering of a pipeline: a steps table and the DAG, for terminals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlops.cli.gc import human_bytes
from jupyter_mlops.pipeline.dag import render_text
from jupyter_mlops.pipeline.model import Pipeline, Step

if TYPE_CHECKING:
    from jupyter_mlops.artifacts.gc import StoreUsage

_HEADERS = ("step", "cell", "inputs (← step)", "outputs", "params")


def render_pipeline(
    pipeline: Pipeline, models: dict[str, str] | None = None, store: StoreUsage | None = None
) -> str:
    """The steps table, the DAG, the registered models (``--model`` step → model name),
    the artifact store's size (of an extracted pipeline) and any warnings, as plain text."""
    params = ", ".join(f"{k}={v!r}" for k, v in pipeline.params.items()) or "(none)"
    lines = [f"Pipeline {pipeline.name}  (from {pipeline.notebook})", f"Parameters: {params}", ""]
    lines += render_table([_row(step) for step in pipeline.steps])
    lines += ["", "DAG:", render_text([(s.name, s.upstream()) for s in pipeline.steps])]
    if models:
        lines += ["", "Registered models:"]
        lines += [
            f"  {name}  (step {step}, variable {pipeline.step(step).model})"
            for step, name in models.items()
        ]
    kept = [f"  {s.name}: {', '.join(s.results)}" for s in pipeline.steps if s.results]
    if kept:
        lines += ["", "Results kept (sink steps: no later step reads them):", *kept]
    if pipeline.left_out:
        cells = ", ".join(str(c) for c in pipeline.left_out)
        lines += ["", f"Left out of the pipeline: cells {cells}"]
    if store is not None:
        lines += [
            "",
            f"Artifact store: {store.objects} objects, {human_bytes(store.bytes)} "
            "(`jupyter mlops gc` prunes it)",
        ]
    lines += [f"warning: {w}" for w in pipeline.warnings]
    return "\n".join(lines)


def _row(step: Step) -> tuple[str, ...]:
    inputs = ", ".join(f"{var} ← {producer}" for var, producer in step.inputs.items())
    return (
        step.name,
        str(step.cell) if step.cell else "",
        inputs or "-",
        ", ".join(step.outputs) or "-",
        ", ".join(step.params) or "-",
    )


def render_table(rows: list[tuple[str, ...]], headers: tuple[str, ...] = _HEADERS) -> list[str]:
    """Left-aligned columns separated by two spaces, with a header rule."""
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()

    return [line(headers), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]
