"""Members' amounts under several policies as an inline SVG chart (pure), in the style of
:mod:`resolver.usage.charts`: drawn by the server, no script, nothing from elsewhere.

Horizontal bars, one group per member and one bar per policy: member names are long
("Đại học Quốc gia Thành phố Hồ Chí Minh"), so each group's name is written above its bars
rather than beside them, and the chart keeps its full width for the bars. The SVG has a
``viewBox`` and scales down to a phone's width. It has a ``<title>`` and a ``<desc>``
listing every figure, and each bar its own ``<title>``, as the month charts do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from itertools import count

from babel.numbers import format_decimal

from resolver.usage.charts import PALETTE, nice_max

__all__ = ["member_bars"]

_ids = count(1)
BAR, GAP, NAME = 14, 2, 18  # a bar's height, between bars, a group's name line


def _fmt(value: float, digits: int, lang: str) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=lang))


def member_bars(members: Sequence[str], series: Mapping[str, Sequence[float | None]], *,
                title: str, unit: str, digits: int = 0, width: int = 720,
                lang: str = "vi") -> str:
    """Bars of each member (``members``: names, in order) under each series (a policy's
    name -> one amount per member, None where the policy gave none), amounts in ``unit``
    (e.g. "USD") written with ``digits`` decimals in ``lang``'s convention."""
    ident = f"lh-share-{next(_ids)}"
    names = list(series)
    top = max((v for vs in series.values() for v in vs if v is not None), default=0.0)
    xmax = nice_max(float(top))
    left, right, legend = 8, 150, 22 * ((len(names) + 2) // 3)
    plot_w = width - left - right
    group = NAME + len(names) * (BAR + GAP) + 10
    height = legend + 8 + group * max(len(members), 1)
    def said(value: float | None) -> str:
        return "—" if value is None else f"{_fmt(value, digits, lang)} {unit}"

    desc = "; ".join(
        f"{member}: " + ", ".join(f"{name} {said(vs[i] if i < len(vs) else None)}"
                                  for name, vs in series.items())
        for i, member in enumerate(members))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lh-chart lh-chart-members" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    for j, name in enumerate(names):  # the legend, three to a line
        lx, ly = left + (j % 3) * (plot_w / 3), 4 + 22 * (j // 3)
        out.append(f'<rect x="{lx:.1f}" y="{ly}" width="12" height="12" '
                   f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 16:.1f}" y="{ly + 10}" font-size="12">{escape(name)}</text>')
    for i, member in enumerate(members):
        y = legend + 8 + group * i
        out.append(f'<text x="{left}" y="{y + 13}" font-size="13" font-weight="bold">'
                   f'{escape(member)}</text>')
        for j, (name, values) in enumerate(series.items()):
            value = values[i] if i < len(values) else None
            by = y + NAME + j * (BAR + GAP)
            w = 0.0 if value is None else plot_w * float(value) / xmax
            label = said(value)
            out.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{BAR}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(member)}, '
                       f'{escape(name)}: {escape(label)}</title></rect>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{by + BAR - 3}" font-size="11">'
                       f'{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
