"""Month-series charts as inline SVG, drawn by the server: no JavaScript, no CDN.

Pure functions returning an ``<svg>`` string to put straight into a page (it is already
escaped; mark it safe in the template). Each chart has a ``<title>`` and a ``<desc>`` that
lists the figures, so a screen reader reads the numbers a sighted reader sees, and each
bar or point carries its own ``<title>`` (a hover tooltip without script).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape
from itertools import count

from babel.numbers import format_decimal

__all__ = ["bar_chart", "line_chart", "nice_max"]

#: Colour-blind-safe palette (Okabe–Ito), enough for a dozen packages before repeating.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#882255", "#44AA99", "#117733")
_ids = count(1)


def nice_max(value: float) -> float:
    """The smallest 1/2/5 × 10^n at or above ``value`` (an axis that reads well)."""
    if value <= 0:
        return 1
    exp: float = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exp >= value:
            return step * exp
    return 10 * exp  # pragma: no cover


def _fmt(v: float, lang: str) -> str:
    """A figure in the page language's convention: "1.234" and "2,50" in Vietnamese,
    "1,234" and "2.50" in English (once integers were Vietnamese and decimals English)."""
    pattern = "#,##0" if float(v).is_integer() else "#,##0.00"
    return str(format_decimal(v, format=pattern, locale=lang))


def _month_label(m: dt.date) -> str:
    return f"{m.month:02d}/{m.year}"


def _frame(kind: str, months: Sequence[dt.date], series: Mapping[str, Sequence[float]], *,
           title: str, desc: str, width: int, height: int, stacked: bool, lang: str
           ) -> tuple[list[str], float, int, int, int, int]:
    """The chart's opening lines (title, description, grid, month labels, legend), then
    its scale and plot area: (lines, y maximum, left, top, plot width, plot height)."""
    ident = f"lh-chart-{next(_ids)}"
    values = [v for s in series.values() for v in s]
    if stacked and series:
        top = max((sum(s[i] for s in series.values()) for i in range(len(months))), default=0)
    else:
        top = max(values, default=0)
    ymax = nice_max(float(top))
    left, right, top_pad, legend_h = 56, 12, 16, 22 * ((len(series) + 3) // 4)
    bottom = 40 + legend_h
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lh-chart lh-chart-{kind}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc or _describe(months, series, lang))}</desc>',
    ]
    for i in range(5):  # horizontal grid and y labels
        v = ymax * i / 4
        y = top_pad + plot_h - plot_h * i / 4
        lines.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'stroke="#ddd" stroke-width="1"/>')
        lines.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{escape(_fmt(v, lang))}</text>')
    n = max(len(months), 1)
    step = max(1, math.ceil(n / 12))  # at most a dozen month labels
    for i, m in enumerate(months):
        if i % step == 0:
            x = left + plot_w * (i + 0.5) / n
            lines.append(f'<text x="{x:.1f}" y="{top_pad + plot_h + 16}" text-anchor="middle" '
                         f'font-size="11">{escape(_month_label(m))}</text>')
    for i, name in enumerate(series):
        lx = left + (i % 4) * (plot_w / 4)
        ly = height - legend_h + 22 * (i // 4) + 4
        colour = PALETTE[i % len(PALETTE)]
        lines.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        lines.append(f'<text x="{lx + 16:.1f}" y="{ly + 10}" font-size="12">'
                     f'{escape(name)}</text>')
    return lines, ymax, left, top_pad, plot_w, plot_h


def _describe(months: Sequence[dt.date], series: Mapping[str, Sequence[float]],
              lang: str) -> str:
    parts = []
    for name, values in series.items():
        pairs = ", ".join(f"{_month_label(m)}: {_fmt(v, lang)}" for m, v in zip(months, values,
                                                                        strict=False))
        parts.append(f"{name} — {pairs}")
    return "; ".join(parts)


def bar_chart(months: Sequence[dt.date], series: Mapping[str, Sequence[float]], *,
              title: str, desc: str = "", width: int = 720, height: int = 320,
              stacked: bool = True, lang: str = "vi") -> str:
    """Bars per month, one colour per series, stacked (default) or side by side; figures
    written in ``lang``'s convention."""
    lines, ymax, left, top, pw, ph = _frame("bar", months, series, title=title, desc=desc,
                                            width=width, height=height, stacked=stacked,
                                            lang=lang)
    n, k = max(len(months), 1), max(len(series), 1)
    slot = pw / n
    for i, m in enumerate(months):
        base = 0.0
        for j, (name, values) in enumerate(series.items()):
            v = float(values[i]) if i < len(values) else 0.0
            h = ph * v / ymax
            if stacked:
                x, w, y = left + slot * i + slot * 0.15, slot * 0.7, top + ph - base - h
                base += h
            else:
                w = slot * 0.8 / k
                x, y = left + slot * i + slot * 0.1 + w * j, top + ph - h
            lines.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)}, '
                f'{escape(_month_label(m))}: {escape(_fmt(v, lang))}</title></rect>')
    lines.append("</svg>")
    return "\n".join(lines)


def line_chart(months: Sequence[dt.date], series: Mapping[str, Sequence[float | None]], *,
               title: str, desc: str = "", width: int = 720, height: int = 320,
               lang: str = "vi") -> str:
    """One line per series (None values leave a gap), with a dot per month; figures
    written in ``lang``'s convention."""
    clean = {k: [v or 0 for v in vs] for k, vs in series.items()}
    lines, ymax, left, top, pw, ph = _frame("line", months, clean, title=title, desc=desc,
                                            width=width, height=height, stacked=False,
                                            lang=lang)
    n = max(len(months), 1)
    for j, (name, values) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        path: list[str] = []
        dots: list[str] = []
        for i, m in enumerate(months):
            v = values[i] if i < len(values) else None
            if v is None:
                path.append("")  # a gap: the next point starts a new segment
                continue
            x, y = left + pw * (i + 0.5) / n, top + ph - ph * float(v) / ymax
            path.append(f"{'M' if not path or path[-1] == '' else 'L'}{x:.1f},{y:.1f}")
            dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                        f'{escape(name)}, {escape(_month_label(m))}: {escape(_fmt(float(v), lang))}'
                        f'</title></circle>')
        d = " ".join(p for p in path if p)
        if d:
            lines.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lines.extend(dots)
    lines.append("</svg>")
    return "\n".join(lines)
