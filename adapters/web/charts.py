"""Small horizontal bar charts as inline SVG, drawn on the server: no script, no library, no CDN.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>``; each bar carries a ``<title>``
with its label, series and value (a tooltip, and what a screen reader reads). Colours are presentation
attributes, so the page's strict style policy (no inline CSS) holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Bar colours, one per series: the desk's brand blue, a light blue and a dark orange (distinct in greyscale too).
PALETTE = ("#0b4f8a", "#7aa6d1", "#b5521b")
INK = "#1b1f24"
GRID = "#c9ced6"
_WIDTH = 640
_LABEL_WIDTH = 180
_VALUE_ROOM = 70
_BAR = 16
_GAP = 4
_GROUP_GAP = 12
_TOP = 8


@dataclass(frozen=True, slots=True)
class Series:
    """One set of bars: its name (legend and tooltips) and one value per label (None: nothing measured)."""

    name: str
    values: Sequence[float | None]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _show(value: float | None, digits: int, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}"


def _legend(series: Sequence[Series], y: int) -> str:
    items, x = [], _LABEL_WIDTH
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        items.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 10}" font-size="12" fill="{INK}">{_e(one.name)}</text>'
        )
        x += 24 + 8 * len(one.name)
    return f'<g class="legend" aria-hidden="true">{"".join(items)}</g>'


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    digits: int = 0,
    scale_max: float | None = None,
) -> str:
    """An SVG of horizontal bars: one group per label, one bar per series, the value written after each bar."""
    measured = [v for one in series for v in one.values if v is not None]
    top = scale_max if scale_max is not None else max(measured, default=0.0)
    top = top or 1.0
    room = _WIDTH - _LABEL_WIDTH - _VALUE_ROOM
    legend_height = 20 if len(series) > 1 else 0
    group = len(series) * (_BAR + _GAP) - _GAP
    y = _TOP + legend_height
    parts = [_legend(series, _TOP)] if legend_height else []
    for row, label in enumerate(labels):
        label_y = y + group / 2 + 4
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{label_y:.0f}" font-size="13" text-anchor="end" fill="{INK}">'
            f"{_e(label)}</text>"
        )
        for index, one in enumerate(series):
            value = one.values[row]
            bar_y = y + index * (_BAR + _GAP)
            width = 0.0 if value is None else max(0.0, min(value, top)) / top * room
            shown = _show(value, digits, unit)
            colour = PALETTE[index % len(PALETTE)]
            name = f"{label}, {one.name}: {shown}" if len(series) > 1 else f"{label}: {shown}"
            parts.append(
                f'<g class="bar"><title>{_e(name)}</title>'
                f'<rect x="{_LABEL_WIDTH}" y="{bar_y}" width="{width:.1f}" height="{_BAR}" fill="{colour}"/>'
                f'<text x="{_LABEL_WIDTH + width + 6:.1f}" y="{bar_y + _BAR - 4}" font-size="12" fill="{INK}">'
                f"{_e(shown)}</text></g>"
            )
        y += group + _GROUP_GAP
    height = y - _GROUP_GAP + _TOP
    axis = f'<line x1="{_LABEL_WIDTH}" y1="{_TOP + legend_height - 4}" x2="{_LABEL_WIDTH}" y2="{height - 4}" '
    axis += f'stroke="{GRID}"/>'
    return (
        f'<svg id="{_e(chart_id)}" class="chart" role="img" aria-labelledby="{_e(chart_id)}-title" '
        f'aria-describedby="{_e(chart_id)}-desc" '
        f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title><desc id="{_e(chart_id)}-desc">{_e(description)}</desc>'
        f"{axis}{''.join(parts)}</svg>"
    )
