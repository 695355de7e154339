"""Inline SVG charts for printed pages: horizontal bars, the Pareto curve, a scatter.

No JavaScript and no image files: each function returns SVG markup (escaped text,
``Markup`` so that autoescaping templates embed it as is) that WeasyPrint and
browsers draw alike.  Sizes are in a fixed ``viewBox`` and scale with the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# The same stack as the page CSS: SVG text does not always inherit it in print engines.
FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'WenQuanYi Micro Hei', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'DejaVu Sans', sans-serif"
INK, MUTED, GRID, TRACK, ACCENT, ALERT = "#1f2937", "#6b7280", "#e5e7eb", "#eef2f7", "#2563eb", "#dc2626"
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#dc2626", "#0891b2", "#64748b", "#db2777")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and, when known, the most it could be."""

    label: str
    value: float | None
    maximum: float | None = None
    text: str = ""


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{FONT}" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def hbars(bars: Sequence[Bar], title: str, width: int = 360, label_width: int = 110, color: str = ACCENT) -> Markup:
    """Horizontal bars, one per row; a bar with a maximum is drawn over its grey track.

    A missing value (``None``) leaves the row with its label and text only; a label
    too long for its column is cut with "…" (the whole label is the row's tooltip).
    """
    row, top = 20, 4
    height = top + row * max(len(bars), 1)
    text_width = 74
    plot = width - label_width - text_width
    scale = max([b.maximum or 0 for b in bars] + [b.value or 0 for b in bars] + [1e-9])
    body = []
    for index, bar in enumerate(bars):
        y = top + index * row
        body.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" fill="{INK}">'
                    f'<title>{escape(bar.label)}</title>{escape(fit_text(bar.label, label_width - 8))}</text>')
        if bar.maximum:
            body.append(f'<rect x="{label_width}" y="{y + 3}" width="{plot * bar.maximum / scale:.1f}" height="13" fill="{TRACK}"/>')
        if bar.value is not None and bar.value > 0:
            body.append(f'<rect x="{label_width}" y="{y + 3}" width="{plot * bar.value / scale:.1f}" height="13" fill="{color}"/>')
        body.append(f'<text x="{width - text_width + 4}" y="{y + 13}" fill="{MUTED}">{escape(fit_text(bar.text, text_width - 6))}</text>')
    return _svg(width, height, body, title)


@dataclass(frozen=True)
class Frame:
    """A plot area inside a chart's viewBox, with room for tick labels left and below and
    for the axis titles: the left margin holds the rotated y title and tick labels of
    five characters (see :func:`_short`), the right margin half of the last x tick label."""

    width: int
    height: int
    top: int
    left: int = 62
    right: int = 20
    bottom: int = 36

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def pareto_curve(points: Sequence[tuple[float, float]], mark: tuple[float, float] | None, title: str,
                 x_label: str, y_label: str) -> Markup:
    """Cumulative value share against customer share, with the equality diagonal and
    the marked point (e.g. 20% of customers) drawn with its guide lines."""
    frame = Frame(420, 260, top=12)

    def x(share: float) -> float:
        return frame.left + share * frame.plot_w

    def y(share: float) -> float:
        return frame.top + (1 - share) * frame.plot_h

    shares = [tick / 100 for tick in range(0, 101, 20)]
    body = _grid(frame, [(x(share), f"{share:.0%}") for share in shares], [(y(share), f"{share:.0%}") for share in shares])
    body.append(f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="{MUTED}" stroke-dasharray="3 3"/>')
    step = max(1, len(points) // 400)
    kept = list(points[::step])
    if points and kept[-1] != points[-1]:
        kept.append(points[-1])
    path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in kept)
    body.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    if mark is not None:
        mx, my = mark
        body.append(f'<line x1="{x(mx):.1f}" y1="{y(0)}" x2="{x(mx):.1f}" y2="{y(my):.1f}" stroke="{ALERT}" stroke-dasharray="4 2"/>')
        body.append(f'<line x1="{x(0)}" y1="{y(my):.1f}" x2="{x(mx):.1f}" y2="{y(my):.1f}" stroke="{ALERT}" stroke-dasharray="4 2"/>')
        body.append(f'<circle cx="{x(mx):.1f}" cy="{y(my):.1f}" r="4" fill="{ALERT}"/>')
        right = mx > 0.5  # the figure reads leftwards from a point in the right half
        body.append(f'<text x="{x(mx) + (-6 if right else 6):.1f}" y="{min(y(my) + 14, y(0) - 4):.1f}" '
                    f'text-anchor="{"end" if right else "start"}" fill="{ALERT}" font-weight="bold">'
                    f'{mx * 100:.0f}% → {my * 100:.1f}%</text>')
    body += _axis_titles(frame, x_label, y_label)
    return _svg(frame.width, frame.height, body, title)


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    group: int


def scatter(points: Sequence[ScatterPoint], groups: Sequence[str], cuts: tuple[float | None, float | None], title: str,
            x_label: str, y_label: str) -> Markup:
    """Customers as dots by their two axis values, coloured by cell, with the cut lines,
    ticks on both axes and each cell's name in its corner, in its colour.

    An axis whose values are mostly positive and span more than three orders of
    magnitude is drawn on a log scale (values at or below zero then sit on its edge).
    """
    frame = Frame(420, 280, top=12)
    bottom_y, top_y = frame.top + frame.plot_h, frame.top
    xs = [p.x for p in points] + [c for c in cuts[:1] if c is not None]
    ys = [p.y for p in points] + [c for c in cuts[1:] if c is not None]
    fx, fy = _Axis(xs, frame.left, frame.left + frame.plot_w), _Axis(ys, bottom_y, top_y)
    body = _grid(frame, [(fx(v), _short(v)) for v in fx.ticks], [(fy(v), _short(v)) for v in fy.ticks])
    step = max(1, len(points) // 3000)
    for point in points[::step]:
        body.append(f'<circle cx="{fx(point.x):.1f}" cy="{fy(point.y):.1f}" r="2.2" '
                    f'fill="{PALETTE[point.group % len(PALETTE)]}" fill-opacity="0.7"/>')
    if cuts[0] is not None:
        body.append(f'<line x1="{fx(cuts[0]):.1f}" y1="{top_y}" x2="{fx(cuts[0]):.1f}" y2="{bottom_y}" stroke="{INK}" stroke-dasharray="4 2"/>')
    if cuts[1] is not None:
        body.append(f'<line x1="{frame.left}" y1="{fy(cuts[1]):.1f}" x2="{frame.left + frame.plot_w}" y2="{fy(cuts[1]):.1f}" '
                    f'stroke="{INK}" stroke-dasharray="4 2"/>')
    body += _corner_names(frame, points, groups, cuts)
    body += _axis_titles(frame, x_label, y_label)
    return _svg(frame.width, frame.height, body, title)


def _corner_names(frame: Frame, points: Sequence[ScatterPoint], groups: Sequence[str], cuts) -> list[str]:
    """Each cell's name in the plot corner where most of its points lie (high x right,
    high y up), in the cell's colour; cells sharing a corner stack."""
    corners: dict[tuple[bool, bool], list[int]] = {}
    for index in sorted({point.group for point in points}):
        mine = [p for p in points if p.group == index]
        right = cuts[0] is not None and sum(p.x >= cuts[0] for p in mine) * 2 >= len(mine)
        up = cuts[1] is not None and sum(p.y >= cuts[1] for p in mine) * 2 >= len(mine)
        corners.setdefault((right, up), []).append(index)
    body = []
    for (right, up), indices in corners.items():
        for line, index in enumerate(indices):
            name = fit_text(groups[index], frame.plot_w / 2 - 8)
            x = frame.left + frame.plot_w - 4 if right else frame.left + 4
            y = frame.top + 13 + 13 * line if up else frame.top + frame.plot_h - 5 - 13 * line
            anchor = "end" if right else "start"
            body.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="bold" '
                        f'fill="{PALETTE[index % len(PALETTE)]}">{escape(name)}</text>')
    return body


def _grid(frame: Frame, x_ticks: Sequence[tuple[float, str]], y_ticks: Sequence[tuple[float, str]]) -> list[str]:
    """The frame, grid lines at the ticks and their labels outside the plot."""
    bottom = frame.top + frame.plot_h
    body = [f'<rect x="{frame.left}" y="{frame.top}" width="{frame.plot_w}" height="{frame.plot_h}" fill="none" stroke="{GRID}"/>']
    for x, text in x_ticks:
        body.append(f'<line x1="{x:.1f}" y1="{frame.top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>')
        body.append(f'<text x="{x:.1f}" y="{bottom + 13}" text-anchor="middle" fill="{MUTED}">{escape(text)}</text>')
    for y, text in y_ticks:
        body.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{frame.left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{escape(text)}</text>')
    return body


def _axis_titles(frame: Frame, x_label: str, y_label: str) -> list[str]:
    """The x title under the tick labels, the y title turned up the left edge; each cut
    to what its side holds."""
    middle = frame.top + frame.plot_h / 2
    return [
        f'<text x="{frame.left + frame.plot_w / 2:.0f}" y="{frame.height - 4}" text-anchor="middle" fill="{INK}">'
        f'{escape(fit_text(x_label, frame.plot_w))}</text>',
        f'<text x="12" y="{middle:.0f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 12 {middle:.0f})">{escape(fit_text(y_label, frame.plot_h))}</text>',
    ]


class _Axis:
    """A function from value to coordinate, linear or (for wide positive ranges) log,
    with its ``ticks``: round values across the range (powers of ten on a log scale)."""

    def __init__(self, values: Sequence[float], start: float, end: float):
        finite = [v for v in values if v is not None and math.isfinite(v)]
        positive = [v for v in finite if v > 0]
        self.log = bool(positive) and len(positive) * 2 >= len(finite) and max(positive) / min(positive) > 1000
        if self.log:
            self.low, self.high = math.log10(min(positive)), math.log10(max(positive))
            self.ticks = [10.0 ** power for power in range(math.ceil(self.low), math.floor(self.high) + 1)]
        else:
            self.low, self.high = (min(finite), max(finite)) if finite else (0.0, 1.0)
            self.ticks = _round_ticks(self.low, self.high)
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        position = (math.log10(value) if value > 0 else self.low) if self.log else value
        return self.start + (position - self.low) / ((self.high - self.low) or 1.0) * (self.end - self.start)


def _round_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values (1, 2 or 5 × 10ⁿ apart) from ``low`` to ``high``, at most ``most``."""
    if high <= low:
        return [low]
    raw = (high - low) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(multiple * power for multiple in (1, 2, 5, 10) if multiple * power >= raw)
    first = math.ceil(low / step) * step
    return [first + index * step for index in range(int((high - first) / step + 1e-9) + 1)]


def _short(value: float) -> str:
    """A tick value in at most five characters: 1.2k, 35M, 0.25."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def fit_text(text: str, room: float, size: float = 11) -> str:
    """``text`` cut with "…" to fit ``room`` units of ``size``-unit type."""
    if text_length(text, size) <= room:
        return text
    while text and text_length(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def text_length(text: str, size: float = 11) -> float:
    """How long ``text`` runs in ``size``-unit type, on the wide side of the fonts the
    charts name (DejaVu Sans: digits 0.64 em, % 0.95 em; a CJK character 1 em)."""
    return size * sum(_advance(char) for char in text)


def _advance(char: str) -> float:
    if ord(char) > 0x2E80:
        return 1.0
    if char.isdigit():
        return 0.64
    if char in "%MWmw@":
        return 0.95
    return 0.72 if char.isupper() else 0.6
