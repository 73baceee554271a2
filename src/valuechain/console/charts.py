"""Server-rendered SVG charts: bars over days, with each value in a ``<title>`` (hover without JS).

Each chart's data is also a table on its page (CSV/JSON twin), so the picture never is the only copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 640, 160, 28


def bars(points: Sequence[tuple[str, float]], *, label: str, unit: str = "") -> str:
    """A bar per point (``(x label, value)``), scaled to the largest; an empty series draws an axis only."""
    n = max(len(points), 1)
    top = max((v for _, v in points), default=0) or 1
    step = (WIDTH - 2 * PAD) / n
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
        f'<text x="{PAD}" y="14" class="label">{escape(label)} (max {_num(top)}{escape(unit)})</text>',
    ]
    for i, (x, value) in enumerate(points):
        h = (HEIGHT - 2 * PAD) * (value / top)
        left = PAD + i * step
        parts.append(
            f'<rect x="{left + 1:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(x)}: {_num(value)}{escape(unit)}</title></rect>'
        )
    if points:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}" class="tick">{escape(points[0][0])}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">'
            f"{escape(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def line(points: Sequence[tuple[float, float]], *, label: str, x_label: str = "step") -> str:
    """A polyline through ``(x, y)`` points (a loss over steps), y from 0 to the largest value; a point
    per value with its ``<title>``; an empty series draws an axis only."""
    left_x = min((x for x, _ in points), default=0)
    span_x = (max((x for x, _ in points), default=1) - left_x) or 1
    top = max((y for _, y in points), default=0) or 1

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            PAD + (WIDTH - 2 * PAD) * (x - left_x) / span_x,
            HEIGHT - PAD - (HEIGHT - 2 * PAD) * (y / top),
        )

    coords = [at(x, y) for x, y in points]
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
        f'<text x="{PAD}" y="14" class="label">{escape(label)} (max {_num(top)})</text>',
    ]
    if coords:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        parts.append(f'<polyline points="{path}" class="series" fill="none"/>')
        for (x, y), (cx, cy) in zip(points, coords, strict=True):
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2" class="point">'
                f"<title>{escape(x_label)} {_num(x)}: {y:.4f}</title></circle>"
            )
        parts.append(
            f'<text x="{PAD}" y="{HEIGHT - 8}" class="tick">{escape(x_label)} {_num(points[0][0])}</text>'
        )
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">'
            f"{escape(x_label)} {_num(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
