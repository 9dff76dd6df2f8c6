"""Small deterministic SVG charts for the monitoring report: histograms, lines, stacked bars.

Pure Python, no plotting library: every chart is a string of inline SVG with axes, ticks,
labels, a legend and a ``<title>`` per mark (the browser shows it on hover). Numbers are
formatted with a fixed number of digits, so the same input gives the same bytes. Missing
values (None, NaN, infinities) are left out: a gap in a line, no bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 560
HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 34, 42
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11"'
_AXIS = "#4a4f57"
_GRID = "#e3e5e8"
_THRESHOLD = "#b00020"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")


@dataclass(frozen=True)
class Series:
    """One named sequence of values; ``hollow`` marks points drawn as open circles."""

    name: str
    values: Sequence[float | None]
    color: str
    hollow: Sequence[bool] = ()


def finite(value: object) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def fmt(value: object) -> str:
    """A fixed-format number for labels and tables; ``n/a`` when missing."""
    number = finite(value)
    if number is None:
        return "n/a"
    if number == int(number) and abs(number) < 1e6:
        return str(int(number))
    size = abs(number)
    if size >= 1e6 or size < 1e-3:
        return f"{number:.2e}"
    if size >= 100:
        return f"{number:.1f}"
    return f"{number:.3f}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (about ``count`` of them)."""
    if not high > low:
        low, high = (low - 0.5, high + 0.5) if low != 0 else (0.0, 1.0)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) + 0.0 for i in range(first, last + 1)]


def _tick_label(value: float, ticks: Sequence[float]) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = len(f"{step:.6f}".rstrip("0").split(".")[1])
    text = f"{value:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text


def _n(value: float) -> str:
    """A coordinate with at most one decimal."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class _Frame:
    """The plot area of one chart and its value-to-pixel mapping on the y axis."""

    def __init__(self, y_ticks: Sequence[float], width: int = WIDTH, height: int = HEIGHT) -> None:
        self.width, self.height = width, height
        self.x0, self.x1 = _LEFT, width - _RIGHT
        self.y0, self.y1 = height - _BOTTOM, _TOP
        self.ticks = list(y_ticks)
        self.low, self.high = self.ticks[0], self.ticks[-1]

    def y(self, value: float) -> float:
        clipped = min(max(value, self.low), self.high)
        return self.y0 - (clipped - self.low) / (self.high - self.low) * (self.y0 - self.y1)

    def grid(self, y_label: str) -> list[str]:
        out = []
        for tick in self.ticks:
            y = _n(self.y(tick))
            out.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{y}" y2="{y}" stroke="{_GRID}"/>')
            out.append(
                f'<text x="{self.x0 - 6}" y="{y}" text-anchor="end" dominant-baseline="middle" '
                f'fill="{_AXIS}">{_tick_label(tick, self.ticks)}</text>'
            )
        out.append(
            f'<line class="axis" x1="{self.x0}" x2="{self.x1}" y1="{self.y0}" y2="{self.y0}" '
            f'stroke="{_AXIS}"/>'
        )
        out.append(
            f'<text x="12" y="{_n((self.y0 + self.y1) / 2)}" text-anchor="middle" fill="{_AXIS}" '
            f'transform="rotate(-90 12 {_n((self.y0 + self.y1) / 2)})">{escape(y_label)}</text>'
        )
        return out

    def x_label(self, x: float, text: str) -> str:
        return (
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{self.y0}" y2="{self.y0 + 4}" stroke="{_AXIS}"/>'
            f'<text x="{_n(x)}" y="{self.y0 + 16}" text-anchor="middle" fill="{_AXIS}">'
            f"{escape(text)}</text>"
        )

    def x_title(self, text: str) -> str:
        return (
            f'<text x="{_n((self.x0 + self.x1) / 2)}" y="{self.height - 6}" text-anchor="middle" '
            f'fill="{_AXIS}">{escape(text)}</text>'
        )


def _svg(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" {_FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _legend(entries: Sequence[tuple[str, str, str]], x: int = _LEFT) -> list[str]:
    """Swatches along the top: (name, fill, stroke)."""
    out = []
    for name, fill, stroke in entries:
        out.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.5"/><text x="{x + 17}" y="14" dominant-baseline="middle" '
            f'fill="{_AXIS}">{escape(name)}</text>'
        )
        x += 30 + 7 * len(name)
    return out


def _spread(count: int, x0: float, x1: float) -> list[float]:
    """Centres of ``count`` equal slots between x0 and x1."""
    slot = (x1 - x0) / max(count, 1)
    return [x0 + slot * (i + 0.5) for i in range(count)]


def _thinned(labels: Sequence[str], room: float) -> list[int]:
    """Which x labels to draw so that they do not overlap: every k-th, from the first."""
    label_width = 6.5 * max((len(label) for label in labels), default=0) + 12
    every = max(1, math.ceil(len(labels) * label_width / max(room, 1)))
    return list(range(0, len(labels), every))


def _short(value: object) -> str:
    """A bin edge: at most four significant digits."""
    number = finite(value)
    return "n/a" if number is None else f"{number:.4g}"


def _value_ticks(values: Sequence[float | None], floor_zero: bool) -> list[float]:
    present = [v for v in (finite(x) for x in values) if v is not None]
    if not present:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    low, high = min(present), max(present)
    if floor_zero:
        low = min(low, 0.0)
    return nice_ticks(low, high)


def histogram_chart(histogram: dict, title: str) -> str:
    """Reference (outlined) next to current (filled) shares per bin or category (the
    contract's histogram dict: numeric with ``edges``, else ``categories``)."""
    reference = list(histogram.get("reference") or [])
    current = list(histogram.get("current") or [])
    categorical = histogram.get("kind") != "numeric"  # "binary" is drawn as categorical
    edges = [] if categorical else [_short(e) for e in histogram.get("edges") or []]
    if categorical:
        labels = [str(c) for c in histogram.get("categories") or []]
    else:
        labels = [f"{edges[i]} to {edges[i + 1]}" for i in range(len(edges) - 1)]
    count = max(len(labels), len(reference), len(current))
    labels += [""] * (count - len(labels))
    frame = _Frame(_value_ticks(reference + current, floor_zero=True))
    body = frame.grid("share of rows")
    body += _legend([("reference", "#ffffff", PALETTE[0]), ("current", PALETTE[1], PALETTE[1])])
    centres = _spread(count, frame.x0, frame.x1)
    half = min(0.4 * (frame.x1 - frame.x0) / max(count, 1), 40)
    for i, centre in enumerate(centres):
        for name, values, x, fill, stroke in (
            ("reference", reference, centre - half, "#ffffff", PALETTE[0]),
            ("current", current, centre, PALETTE[1], PALETTE[1]),
        ):
            value = finite(values[i]) if i < len(values) else None
            if value is None:
                continue
            top = frame.y(value)
            body.append(
                f'<rect class="bar" data-series="{name}" data-value="{fmt(value)}" '
                f'x="{_n(x)}" y="{_n(top)}" width="{_n(half)}" height="{_n(frame.y0 - top)}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"><title>'
                f"{escape(labels[i])}: {name} {fmt(value)}</title></rect>"
            )
    if categorical:
        clipped = [_clip(label, 16) for label in labels]
        body += [
            frame.x_label(centres[i], clipped[i]) for i in _thinned(clipped, frame.x1 - frame.x0)
        ]
    else:
        slot = (frame.x1 - frame.x0) / max(count, 1)
        body += [
            frame.x_label(frame.x0 + slot * i, edges[i])
            for i in _thinned(edges, frame.x1 - frame.x0)
        ]
        body.append(frame.x_title("value (bin edges)"))
    return _svg(title, body)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    threshold: tuple[float, str] | None = None,
    y_range: tuple[float, float] | None = None,
) -> str:
    """One line per series over equally spaced windows, a dashed threshold line if given."""
    values = [v for s in series for v in s.values] + ([threshold[0]] if threshold else [])
    ticks = nice_ticks(*y_range) if y_range else _value_ticks(values, floor_zero=False)
    frame = _Frame(ticks)
    body = frame.grid(y_label)
    legend = [(s.name, s.color, s.color) for s in series]
    legend += [(f"{s.name} (estimated)", "#ffffff", s.color) for s in series if _estimated(s)]
    if threshold:
        legend.append((threshold[1], "#ffffff", _THRESHOLD))
    body += _legend(legend)
    xs = _spread(len(x_labels), frame.x0, frame.x1)
    if threshold and finite(threshold[0]) is not None:
        y = _n(frame.y(threshold[0]))
        body.append(
            f'<line class="threshold" x1="{frame.x0}" x2="{frame.x1}" y1="{y}" y2="{y}" '
            f'stroke="{_THRESHOLD}" stroke-width="1.5" stroke-dasharray="6 4">'
            f"<title>{escape(threshold[1])}: {fmt(threshold[0])}</title></line>"
        )
    for line in series:
        body += _line(frame, xs, x_labels, line)
    body += [frame.x_label(xs[i], x_labels[i]) for i in _thinned(x_labels, frame.x1 - frame.x0)]
    body.append(frame.x_title("window start (UTC)"))
    return _svg(title, body)


def _estimated(series: Series) -> bool:
    """Whether any of the series' drawn points is hollow."""
    pairs = zip(series.hollow, series.values, strict=False)
    return any(hollow and finite(value) is not None for hollow, value in pairs)


def _line(frame: _Frame, xs: Sequence[float], x_labels: Sequence[str], line: Series) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    points: list[str] = []
    for i, x in enumerate(xs):
        value = finite(line.values[i]) if i < len(line.values) else None
        if value is None:
            run = _flush(out, run, line.color)
            continue
        run.append(f"{_n(x)},{_n(frame.y(value))}")
        hollow = i < len(line.hollow) and line.hollow[i]
        points.append(
            f'<circle class="point" data-series="{escape(line.name)}" data-value="{fmt(value)}" '
            f'cx="{_n(x)}" cy="{_n(frame.y(value))}" r="4" '
            f'fill="{"#ffffff" if hollow else line.color}" stroke="{line.color}" '
            f'stroke-width="2"><title>{escape(x_labels[i])}: {escape(line.name)} {fmt(value)}'
            f"{' (estimated)' if hollow else ''}</title></circle>"
        )
    _flush(out, run, line.color)
    return out + points


def _flush(out: list[str], run: list[str], color: str) -> list[str]:
    if len(run) > 1:
        out.append(
            f'<polyline class="line" points="{" ".join(run)}" fill="none" stroke="{color}" '
            f'stroke-width="2"/>'
        )
    return []


def stacked_bar_chart(
    title: str, x_labels: Sequence[str], stacks: Sequence[Series], y_label: str
) -> str:
    """Bars per window, one segment per series stacked bottom-up."""
    totals = [
        sum(finite(s.values[i]) or 0.0 for s in stacks if i < len(s.values))
        for i in range(len(x_labels))
    ]
    frame = _Frame(_value_ticks(totals, floor_zero=True))
    body = frame.grid(y_label)
    body += _legend([(s.name, s.color, s.color) for s in stacks])
    xs = _spread(len(x_labels), frame.x0, frame.x1)
    width = min(0.7 * (frame.x1 - frame.x0) / max(len(x_labels), 1), 60)
    for i, x in enumerate(xs):
        base = 0.0
        for stack in stacks:
            value = finite(stack.values[i]) if i < len(stack.values) else None
            if not value:
                continue
            top, bottom = frame.y(base + value), frame.y(base)
            body.append(
                f'<rect class="bar" data-series="{escape(stack.name)}" data-value="{fmt(value)}" '
                f'x="{_n(x - width / 2)}" y="{_n(top)}" width="{_n(width)}" '
                f'height="{_n(bottom - top)}" fill="{stack.color}" stroke="#ffffff">'
                f"<title>{escape(x_labels[i])}: {escape(stack.name)} {fmt(value)}</title></rect>"
            )
            base += value
    body += [frame.x_label(xs[i], x_labels[i]) for i in _thinned(x_labels, frame.x1 - frame.x0)]
    body.append(frame.x_title("window start (UTC)"))
    return _svg(title, body)
