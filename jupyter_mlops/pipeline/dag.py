"""Render a step DAG as text (terminals, logs) or as a small deterministic SVG picture.

Input everywhere: ``[(step, [steps it depends on]), ...]`` in pipeline order. Dependencies on
names not in the list and self-loops are ignored; a cycle (possible only with hand-written
input) is broken at the edge that closes it, so rendering never fails.
No graphviz or matplotlib: a layered layout of our own (layer = longest path from a root).
"""

from __future__ import annotations

from html import escape

StepGraph = list[tuple[str, list[str]]]

# Layout constants (SVG user units ~ px).
_FONT_SIZE = 13
_CHAR_WIDTH = 7.8  # monospace advance at _FONT_SIZE
_BOX_HEIGHT = 30
_BOX_PAD_X = 12
_MIN_BOX_WIDTH = 60
_GAP_X = 24
_GAP_Y = 40
_MARGIN = 12

# Theme-neutral: light boxes with dark text read on light and dark backgrounds; mid-gray edges.
_BOX_FILL = "#e8eef7"
_BOX_STROKE = "#5b7db1"
_TEXT_FILL = "#1b1f24"
_EDGE = "#8c8c8c"


def normalize(steps: StepGraph) -> StepGraph:
    """Drop unknown and duplicate dependencies, self-loops and cycle-closing edges."""
    names = [name for name, _ in steps]
    known = set(names)
    deps = {
        name: [d for d in dict.fromkeys(upstream) if d in known and d != name]
        for name, upstream in steps
    }
    kept: dict[str, list[str]] = {}
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done

    def visit(node: str) -> None:
        state[node] = 1
        kept[node] = []
        for dep in deps[node]:
            if state.get(dep) == 1:
                continue  # closes a cycle: drop this edge
            if dep not in state:
                visit(dep)
            kept[node].append(dep)
        state[node] = 2

    for name in names:
        if name not in state:
            visit(name)
    return [(name, kept[name]) for name in dict.fromkeys(names)]


def layers(steps: StepGraph) -> list[list[str]]:
    """Steps grouped by depth (longest path from a step with no dependencies)."""
    graph = normalize(steps)
    deps = dict(graph)
    depth: dict[str, int] = {}

    def level(node: str) -> int:
        if node not in depth:
            depth[node] = 1 + max((level(d) for d in deps[node]), default=-1)
        return depth[node]

    result: list[list[str]] = []
    for name, _ in graph:
        d = level(name)
        while len(result) <= d:
            result.append([])
        result[d].append(name)
    return result


def render_text(steps: StepGraph) -> str:
    """One line per step, layer by layer: ``train  ← split, features``."""
    graph = normalize(steps)
    if not graph:
        return "(no steps)"
    deps = dict(graph)
    ordered = [name for layer in layers(graph) for name in layer]
    width = max(len(name) for name in ordered)
    lines = []
    for name in ordered:
        upstream = deps[name]
        lines.append(f"{name.ljust(width)}  ← {', '.join(upstream)}" if upstream else name)
    edges = sum(len(d) for d in deps.values())
    lines.append(
        f"({len(ordered)} step{'s' * (len(ordered) != 1)}, "
        f"{edges} dependenc{'ies' if edges != 1 else 'y'})"
    )
    return "\n".join(lines)


def _box_width(name: str) -> int:
    return max(_MIN_BOX_WIDTH, round(len(name) * _CHAR_WIDTH) + 2 * _BOX_PAD_X)


def _order_layers(graph: StepGraph) -> list[list[str]]:
    """Order each layer by the mean position of its dependencies (fewer crossings)."""
    deps = dict(graph)
    ordered: list[list[str]] = []
    position: dict[str, float] = {}
    for layer in layers(graph):

        def key(item: tuple[int, str]) -> tuple[float, int]:
            index, name = item
            ups = [position[d] for d in deps[name] if d in position]
            return (sum(ups) / len(ups) if ups else float(index), index)

        row = [name for _, name in sorted(enumerate(layer), key=key)]
        for i, name in enumerate(row):
            position[name] = float(i)
        ordered.append(row)
    return ordered


def render_svg(steps: StepGraph) -> str:
    """A deterministic SVG: one box per step, layers top to bottom, arrows along dependencies."""
    graph = normalize(steps)
    rows = _order_layers(graph)
    row_widths = [sum(_box_width(n) for n in row) + _GAP_X * (len(row) - 1) for row in rows]
    width = max(row_widths, default=_MIN_BOX_WIDTH) + 2 * _MARGIN
    height = len(rows) * _BOX_HEIGHT + max(len(rows) - 1, 0) * _GAP_Y + 2 * _MARGIN
    if not rows:
        height = _BOX_HEIGHT + 2 * _MARGIN
    boxes: dict[str, tuple[int, int, int]] = {}  # name -> (x, y, w)
    for r, row in enumerate(rows):
        x = _MARGIN + (width - 2 * _MARGIN - row_widths[r]) // 2
        y = _MARGIN + r * (_BOX_HEIGHT + _GAP_Y)
        for name in row:
            w = _box_width(name)
            boxes[name] = (x, y, w)
            x += w + _GAP_X

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="step dependency graph" '
        f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
        f'font-size="{_FONT_SIZE}">',
        "<defs>"
        '<marker id="mlops-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{_EDGE}"/></marker></defs>',
    ]
    if not rows:
        out.append(
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" '
            f'dominant-baseline="central" fill="{_EDGE}">no steps</text>'
        )
    for name, upstream in graph:
        tx, ty, tw = boxes[name]
        for dep in upstream:
            sx, sy, sw = boxes[dep]
            x1, y1 = sx + sw // 2, sy + _BOX_HEIGHT
            x2, y2 = tx + tw // 2, ty
            mid = (y1 + y2) // 2
            out.append(
                f'<path class="edge" d="M {x1} {y1} C {x1} {mid} {x2} {mid} {x2} {y2}" '
                f'fill="none" stroke="{_EDGE}" stroke-width="1.5" '
                f'marker-end="url(#mlops-arrow)"><title>{escape(dep)} → {escape(name)}</title>'
                "</path>"
            )
    for name, _ in graph:
        x, y, w = boxes[name]
        label = escape(name)
        out.append(
            f'<g class="step"><title>{label}</title>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{_BOX_HEIGHT}" rx="5" '
            f'fill="{_BOX_FILL}" stroke="{_BOX_STROKE}" stroke-width="1.2"/>'
            f'<text x="{x + w // 2}" y="{y + _BOX_HEIGHT // 2}" text-anchor="middle" '
            f'dominant-baseline="central" fill="{_TEXT_FILL}">{label}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out)
