"""Server-side SVG charts for the admin dashboards (no JavaScript, nothing from a CDN).

Pure functions from numbers to SVG markup; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

BAR_COLOR = "#417690"
REPLY_COLOR = "#e07b39"


def funnel_svg(stages: Sequence[tuple[str, int]], *, width: int = 520, bar_height: int = 22) -> SafeString:
    """Horizontal bars, one per funnel stage, scaled to the largest stage."""
    label_width, gap = 130, 6
    biggest = max((n for _, n in stages), default=0) or 1
    height = len(stages) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Lead funnel" class="reporting-chart">'
    ]
    usable = width - label_width - 60
    for i, (label, n) in enumerate(stages):
        y = gap + i * (bar_height + gap)
        w = round(usable * n / biggest)
        parts.append(
            f'<text x="0" y="{y + bar_height * 0.7:.0f}" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w}" height="{bar_height}" fill="{BAR_COLOR}">'
            f"<title>{escape(label)}: {n}</title></rect>"
            f'<text x="{label_width + w + 4}" y="{y + bar_height * 0.7:.0f}" font-size="12">{n}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def trend_svg(days: Sequence[tuple[str, int, int]], *, width: int = 620, height: int = 180) -> SafeString:
    """Daily sends (bars) and replies (line) for a run of days: (label, sent, replied)."""
    left, bottom, top = 36, 22, 10
    plot_w, plot_h = width - left - 6, height - bottom - top
    biggest = max((max(s, r) for _, s, r in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Sends and replies per day" class="reporting-chart">',
        f'<text x="0" y="{top + 10}" font-size="11">{biggest}</text>',
        f'<text x="0" y="{top + plot_h}" font-size="11">0</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    points = []
    for i, (label, sent, replied) in enumerate(days):
        x = left + i * step
        h = plot_h * sent / biggest
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="{BAR_COLOR}"><title>{escape(label)}: {sent} sent, {replied} replies</title></rect>'
        )
        points.append(f"{x + step / 2:.1f},{top + plot_h - plot_h * replied / biggest:.1f}")
        if i % 7 == 0 or i == len(days) - 1:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{escape(label)}</text>')
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{REPLY_COLOR}" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
