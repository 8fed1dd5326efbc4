"""Server-side SVG charts: horizontal bars, a line and a histogram.

Pure module (no Flask, no database): each function returns SVG markup as a string with
every text escaped. Colours come from classes styled in hr.css (no style attributes, so
the strict Content-Security-Policy holds); each chart on a page has a data table beside it.
"""

from __future__ import annotations

from html import escape

WIDTH = 640
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 220


def _svg(width: int, height: int, title: str, body: list[str], css_class: str) -> str:
    title = escape(title)
    return (
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{title}" xmlns="http://www.w3.org/2000/svg" focusable="false">'
        f"<title>{title}</title>{''.join(body)}</svg>"
    )


def _shorten(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(items: list[tuple[str, float, str]], title: str) -> str:
    """Horizontal bars of percentages: items are (label, percent 0–100, value text)."""
    height = max(1, len(items)) * (BAR_HEIGHT + BAR_GAP) + 30
    plot = WIDTH - LABEL_WIDTH - 70
    body = []
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + plot * tick / 100
        body.append(f'<line class="grid" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}"/>')
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{height - 5}" text-anchor="middle">{tick}%</text>'
        )
    for i, (label, percent, value) in enumerate(items):
        y = i * (BAR_HEIGHT + BAR_GAP) + 4
        percent = max(0.0, min(100.0, percent))
        width = plot * percent / 100
        body.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'text-anchor="end">{escape(_shorten(label))}</text>'
        )
        body.append(
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
            f'height="{BAR_HEIGHT}"><title>{escape(label)}: {escape(value)}</title></rect>'
        )
        body.append(
            f'<text class="value" x="{LABEL_WIDTH + width + 6:.1f}" '
            f'y="{y + BAR_HEIGHT * 0.7:.1f}">{escape(value)}</text>'
        )
    return _svg(WIDTH, height, title, body, "chart-bars")


def _nice_max(value: float) -> int:
    """A round upper bound for an axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def line_chart(points: list[tuple[str, int]], title: str) -> str:
    """A line over labelled points (e.g. completions per month)."""
    height, left, bottom, top = 240, 50, 40, 12
    plot_w, plot_h = WIDTH - left - 16, height - bottom - top
    top_value = _nice_max(max((v for _, v in points), default=0))
    body = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        body.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
        )
        label = f"{top_value * fraction:g}"
        body.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    step = plot_w / max(1, len(points) - 1)
    coords = []
    for i, (label, value) in enumerate(points):
        x = left + i * step
        y = top + plot_h * (1 - value / top_value)
        coords.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
            f"<title>{escape(label)}: {value}</title></circle>"
        )
        if len(points) <= 12 or i % 2 == 0:
            body.append(
                f'<text class="tick" x="{x:.1f}" y="{height - 18}" text-anchor="middle">'
                f"{escape(label[2:] if len(label) == 7 else label)}</text>"
            )
    if coords:
        body.insert(0, f'<polyline class="line" points="{" ".join(coords)}"/>')
    return _svg(WIDTH, height, title, body, "chart-line")


def histogram(bins: list[tuple[str, int]], title: str) -> str:
    """Vertical bars of counts per bin."""
    height, left, bottom, top = 240, 50, 40, 12
    plot_w, plot_h = WIDTH - left - 16, height - bottom - top
    top_value = _nice_max(max((n for _, n in bins), default=0))
    body = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        body.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
        )
        body.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{top_value * fraction:g}</text>"
        )
    slot = plot_w / max(1, len(bins))
    for i, (label, count) in enumerate(bins):
        bar_h = plot_h * count / top_value
        x = left + i * slot + 2
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{slot - 4:.1f}" height="{bar_h:.1f}"><title>{escape(label)}: {count}</title></rect>'
        )
        body.append(
            f'<text class="tick" x="{x + (slot - 4) / 2:.1f}" y="{height - 18}" '
            f'text-anchor="middle">{escape(label.split("–")[0])}</text>'
        )
    return _svg(WIDTH, height, title, body, "chart-histogram")
