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

    A missing value (``None``) leaves the row with its label and text only.
    """
    row, top = 20, 4
    height = top + row * max(len(bars), 1)
    text_width = 74
    plot = width - label_width - text_width
    scale = max([b.maximum or 0 for b in bars] + [b.value or 0 for b in bars] + [1e-9])
    body = []
    for index, bar in enumerate(bars):
        y = top + index * row
        body.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" fill="{INK}">{escape(bar.label)}</text>')
        if bar.maximum:
            body.append(f'<rect x="{label_width}" y="{y + 3}" width="{plot * bar.maximum / scale:.1f}" height="13" fill="{TRACK}"/>')
        if bar.value is not None and bar.value > 0:
            body.append(f'<rect x="{label_width}" y="{y + 3}" width="{plot * bar.value / scale:.1f}" height="13" fill="{color}"/>')
        body.append(f'<text x="{width - text_width + 4}" y="{y + 13}" fill="{MUTED}">{escape(bar.text)}</text>')
    return _svg(width, height, body, title)


def pareto_curve(points: Sequence[tuple[float, float]], mark: tuple[float, float] | None, title: str,
                 x_label: str, y_label: str) -> Markup:
    """Cumulative value share against customer share, with the equality diagonal and
    the marked point (e.g. 20% of customers) drawn with its guide lines."""
    width, height, left, bottom, pad = 420, 260, 44, 34, 12
    plot_w, plot_h = width - left - pad, height - bottom - pad

    def x(share: float) -> float:
        return left + share * plot_w

    def y(share: float) -> float:
        return pad + (1 - share) * plot_h

    body = _grid(x, y, left, pad, plot_w, plot_h)
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
        body.append(f'<text x="{x(mx) + 6:.1f}" y="{y(my) + 14:.1f}" fill="{ALERT}" font-weight="bold">'
                    f'{mx * 100:.0f}% → {my * 100:.1f}%</text>')
    body += _axis_titles(width, height, left, pad, plot_h, x_label, y_label)
    return _svg(width, height, body, title)


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    group: int


def scatter(points: Sequence[ScatterPoint], groups: Sequence[str], cuts: tuple[float | None, float | None], title: str,
            x_label: str, y_label: str) -> Markup:
    """Customers as dots by their two axis values, coloured by cell, with the cut lines.

    An axis whose values are mostly positive and span more than three orders of
    magnitude is drawn on a log scale (values at or below zero then sit on its edge).
    """
    width, height, left, bottom, pad, legend = 420, 280, 44, 34, 12, 16
    plot_w, plot_h = width - left - pad, height - bottom - pad - legend
    xs = [p.x for p in points] + [c for c in cuts[:1] if c is not None]
    ys = [p.y for p in points] + [c for c in cuts[1:] if c is not None]
    fx, fy = _scale(xs, left, left + plot_w), _scale(ys, pad + legend + plot_h, pad + legend)
    body = [f'<rect x="{left}" y="{pad + legend}" width="{plot_w}" height="{plot_h}" fill="none" stroke="{GRID}"/>']
    step = max(1, len(points) // 3000)
    for point in points[::step]:
        body.append(f'<circle cx="{fx(point.x):.1f}" cy="{fy(point.y):.1f}" r="2.2" '
                    f'fill="{PALETTE[point.group % len(PALETTE)]}" fill-opacity="0.7"/>')
    if cuts[0] is not None:
        body.append(f'<line x1="{fx(cuts[0]):.1f}" y1="{pad + legend}" x2="{fx(cuts[0]):.1f}" y2="{pad + legend + plot_h}" '
                    f'stroke="{INK}" stroke-dasharray="4 2"/>')
    if cuts[1] is not None:
        body.append(f'<line x1="{left}" y1="{fy(cuts[1]):.1f}" x2="{left + plot_w}" y2="{fy(cuts[1]):.1f}" '
                    f'stroke="{INK}" stroke-dasharray="4 2"/>')
    cursor, drawn = left, {point.group for point in points}
    for index, name in enumerate(groups):
        if index not in drawn:
            continue
        body.append(f'<circle cx="{cursor + 4}" cy="{pad + 4}" r="4" fill="{PALETTE[index % len(PALETTE)]}"/>')
        body.append(f'<text x="{cursor + 11}" y="{pad + 8}" fill="{INK}">{escape(name)}</text>')
        cursor += 22 + 7 * _text_width(name)
    body += _axis_titles(width, height, left, pad + legend, plot_h, x_label, y_label)
    return _svg(width, height, body, title)


def _grid(x, y, left, top, plot_w, plot_h) -> list[str]:
    body = []
    for tick in range(0, 101, 20):
        share = tick / 100
        body.append(f'<line x1="{x(share):.1f}" y1="{top}" x2="{x(share):.1f}" y2="{top + plot_h}" stroke="{GRID}"/>')
        body.append(f'<line x1="{left}" y1="{y(share):.1f}" x2="{left + plot_w}" y2="{y(share):.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{x(share):.1f}" y="{top + plot_h + 13}" text-anchor="middle" fill="{MUTED}">{tick}%</text>')
        body.append(f'<text x="{left - 4}" y="{y(share) + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}%</text>')
    return body


def _axis_titles(width, height, left, top, plot_h, x_label: str, y_label: str) -> list[str]:
    return [
        f'<text x="{(left + width) / 2:.0f}" y="{height - 4}" text-anchor="middle" fill="{INK}">{escape(x_label)}</text>',
        f'<text x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{escape(y_label)}</text>',
    ]


def _scale(values: Sequence[float], start: float, end: float):
    """A function from value to coordinate, linear or (for wide positive ranges) log."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    positive = [v for v in finite if v > 0]
    if positive and len(positive) * 2 >= len(finite) and max(positive) / min(positive) > 1000:
        low, high = math.log10(min(positive)), math.log10(max(positive))

        def transform(value: float) -> float:
            return math.log10(value) if value > 0 else low
    else:
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)

        def transform(value: float) -> float:
            return value
    span = (high - low) or 1.0
    return lambda value: start + (transform(value) - low) / span * (end - start)


def _text_width(text: str) -> float:
    """Rough width in ems-at-11px units: CJK characters count double."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text) * 0.9
