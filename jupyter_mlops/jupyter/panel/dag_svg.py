"""The in-notebook panel's DAG: the JupyterLab panel's look in plain SVG (core, no widgets).

One box per step, layers top to bottom, each box with its state's icon and colour (the steps
table's look, ``html.STATUS``; cached boxes dashed), each edge labelled with the variables it
carries. An edge that skips layers runs down a lane right of the boxes it passes, never
behind them. Colours are JupyterLab's CSS variables with fallbacks, set in ``style`` attributes
(SVG presentation attributes take no ``var()``), so both themes read well.
"""

from __future__ import annotations

from html import escape

from jupyter_mlops.jupyter.panel.html import COLORS, FG, STATUS
from jupyter_mlops.jupyter.panel.rows import StepRow
from jupyter_mlops.pipeline import dag

CHAR_WIDTH = 7.4  # monospace advance at FONT_SIZE
FONT_SIZE = 12
LABEL_SIZE = 10
BOX_HEIGHT = 28
ICON_SPACE = 22
GAP_X = 22
GAP_Y = 46
MARGIN = 10
EDGE = "var(--jp-border-color1, #9e9e9e)"
BOX_FILL = "var(--jp-layout-color2, #eeeeee)"
LABEL_FILL = "var(--jp-layout-color1, #ffffff)"
LANE_GAP = 14  # between the boxes an edge passes and its lane, and between lanes
CODE = "var(--jp-code-font-family, ui-monospace, monospace)"


def box_width(name: str) -> int:
    """A box fits its icon and its name."""
    return int(len(name) * CHAR_WIDTH) + ICON_SPACE + 16


def ordered_layers(rows: list[StepRow]) -> list[list[str]]:
    """The steps by depth, each layer ordered by its dependencies' mean position."""
    graph = [(row.name, sorted(set(row.inputs.values()))) for row in rows]
    deps = dict(dag.normalize(graph))
    position: dict[str, float] = {}
    result = []
    for layer in dag.layers(graph):
        keyed = sorted(
            enumerate(layer),
            key=lambda item: (
                sum(position.get(d, 0.0) for d in deps[item[1]]) / max(len(deps[item[1]]), 1),
                item[0],
            ),
        )
        ordered = [name for _, name in keyed]
        position.update({name: float(i) for i, name in enumerate(ordered)})
        result.append(ordered)
    return result


Boxes = dict[str, tuple[int, int, int]]  # step -> (x, y, width)


def _boxes(layers: list[list[str]]) -> tuple[Boxes, int, int]:
    """Each step's (x, y, width), and the picture's width and height."""
    widths = [sum(box_width(n) for n in row) + GAP_X * (len(row) - 1) for row in layers]
    width = max(widths, default=60) + 2 * MARGIN
    height = len(layers) * BOX_HEIGHT + max(len(layers) - 1, 0) * GAP_Y + 2 * MARGIN
    boxes: Boxes = {}
    for r, row in enumerate(layers):
        x = MARGIN + (width - 2 * MARGIN - widths[r]) // 2
        y = MARGIN + r * (BOX_HEIGHT + GAP_Y)
        for name in row:
            boxes[name] = (x, y, box_width(name))
            x += box_width(name) + GAP_X
    return boxes, width, height


def label_width(variables: list[str]) -> int:
    return int(len(", ".join(variables)) * LABEL_SIZE * 0.62) + 6 if variables else 0


def _label(x: int, y: int, variables: list[str]) -> str:
    """The variables an edge carries, centred on (x, y) over a background."""
    if not variables:
        return ""
    lw = label_width(variables)
    lx, ly = x - lw // 2, y - 7
    return (
        f'<g class="edge-label"><rect x="{lx}" y="{ly}" width="{lw}" height="14" rx="2" '
        f'style="fill: {LABEL_FILL}; opacity: 0.9;"/>'
        f'<text x="{lx + lw // 2}" y="{ly + 7}" text-anchor="middle" dominant-baseline="central" '
        f'style="fill: {FG}; font-family: {CODE}; font-size: {LABEL_SIZE}px;">'
        f"{escape(', '.join(variables))}</text></g>"
    )


def _path(d: str, names: str) -> str:
    return (
        f'<path d="{d}" style="fill: none; stroke: {EDGE}; stroke-width: 1.2;" '
        f'marker-end="url(#mlops-panel-arrow)"><title>{escape(names)}</title></path>'
    )


def _lane_edge(
    start: tuple[int, int],
    end: tuple[int, int],
    lane: tuple[int, int, int],
    variables: list[str],
    names: str,
) -> str:
    """An edge that skips layers: out of the source, down the lane at x ``lane[0]``, into the
    target. ``lane[1]`` of ``lane[2]`` lanes side by side: its label goes right of the lanes
    after it, a line lower than the one before."""
    (x1, y1), (x2, y2), (x, index, count) = start, end, lane
    top, bottom = y1 + GAP_Y // 2, y2 - GAP_Y // 2
    d = (
        f"M {x1} {y1} C {x1} {top} {x1} {top} {x} {top} L {x} {bottom} "
        f"C {x2} {bottom} {x2} {bottom} {x2} {y2 - 2}"
    )
    label_y = (top + bottom) // 2 + 16 * index
    label_x = x + LANE_GAP * (count - 1 - index) + label_width(variables) // 2 + 4
    return _path(d, names) + _label(label_x, label_y, variables)


def _edge(
    start: tuple[int, int],
    end: tuple[int, int],
    variables: list[str],
    names: str,
    near_source: bool = False,
) -> str:
    """An edge between adjacent layers. Its label sits on the curve near the target (t = 0.7),
    so the labels of edges fanning out of one step stay apart; near the source (t = 0.3)
    for edges fanning into one step."""
    (x1, y1), (x2, y2) = start, end
    mid = (y1 + y2) // 2
    d = f"M {x1} {y1} C {x1} {mid} {x2} {mid} {x2} {y2 - 2}"
    a, b = (0.784, 0.216) if near_source else (0.216, 0.784)
    c, e = (0.343, 0.027) if near_source else (0.027, 0.343)
    x, y = round(a * x1 + b * x2), round(c * y1 + 0.63 * mid + e * y2)
    return _path(d, names) + _label(x, y, variables)


def _box(row: StepRow, x: int, y: int, w: int) -> str:
    icon, word, colour = STATUS.get(row.status, ("?", row.status, "muted"))
    stroke = COLORS[colour] if icon else EDGE
    dashed = " stroke-dasharray: 4 2;" if row.status == "cached" else ""
    said = f", {word}" if word else ""
    return (
        f'<g class="step" data-step="{escape(row.name)}" data-status="{escape(row.status)}">'
        f"<title>{escape(row.name + said)}</title>"
        f'<rect x="{x}" y="{y}" width="{w}" height="{BOX_HEIGHT}" rx="4" '
        f'style="fill: {BOX_FILL}; stroke: {stroke}; stroke-width: {2 if icon else 1};{dashed}"/>'
        f'<text x="{x + 13}" y="{y + BOX_HEIGHT // 2}" text-anchor="middle" '
        f'dominant-baseline="central" aria-hidden="true" '
        f'style="fill: {COLORS[colour]}; font-weight: 700;">{escape(icon)}</text>'
        f'<text x="{x + (w + ICON_SPACE) // 2}" y="{y + BOX_HEIGHT // 2}" text-anchor="middle" '
        f'dominant-baseline="central" style="fill: {FG};">{escape(row.name)}</text></g>'
    )


def _edges(rows: list[StepRow], layers: list[list[str]], boxes: Boxes) -> tuple[list[str], int]:
    """Every edge drawn, and the x the rightmost lane's label reaches."""
    depth = {name: d for d, layer in enumerate(layers) for name in layer}
    skips = sum(
        1
        for row in rows
        for producer in set(row.inputs.values())
        if producer in depth and depth[row.name] - depth[producer] > 1
    )
    drawn, lanes, right = [], 0, 0
    for row in rows:
        tx, ty, tw = boxes[row.name]
        for producer in sorted(set(row.inputs.values())):
            if producer not in boxes or producer == row.name:
                continue
            sx, sy, sw = boxes[producer]
            variables = sorted(v for v, p in row.inputs.items() if p == producer)
            start, end = (sx + sw // 2, sy + BOX_HEIGHT), (tx + tw // 2, ty)
            names = f"{producer} → {row.name}"
            passed = [
                name for layer in layers[depth[producer] + 1 : depth[row.name]] for name in layer
            ]
            if not passed:
                fan_in = len(set(row.inputs.values())) > 1
                drawn.append(_edge(start, end, variables, names, near_source=fan_in))
                continue
            lane = max(boxes[n][0] + boxes[n][2] for n in passed) + LANE_GAP * (lanes + 1)
            lanes += 1
            right = max(right, lane + LANE_GAP * skips + label_width(variables) + 8)
            drawn.append(_lane_edge(start, end, (lane, lanes - 1, skips), variables, names))
    return drawn, right


def dag_svg(rows: list[StepRow]) -> str:
    """The steps' graph as SVG with their states; '' when there is no step."""
    if not rows:
        return ""
    layers = ordered_layers(rows)
    boxes, width, height = _boxes(layers)
    edges, right = _edges(rows, layers, boxes)
    width = max(width, right + MARGIN)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jupyter-mlops-dag" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="step graph: {len(rows)} steps" '
        f'style="max-width: 100%; height: auto; font-family: {CODE}; font-size: {FONT_SIZE}px;">'
        '<defs><marker id="mlops-panel-arrow" viewBox="0 0 8 8" refX="8" refY="4" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L8,4 L0,8 z" style="fill: {EDGE};"/></marker></defs>',
        *edges,
    ]
    out.extend(_box(row, *boxes[row.name]) for row in rows)
    out.append("</svg>")
    return "".join(out)
