"""One figure of a practice page as a small chart: an estimate with its interval beside the
clinic's spread. Drawn by matplotlib like the other charts (`alliance.web.dashboards.charts`:
the same colours, fonts and SVG settings), and shown with a table of the same numbers.

Only one therapist is ever drawn: the clinic appears as its mean and the band where the
middle 80 % of its therapists lie, never as other therapists' points.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from alliance.web.dashboards.charts import (
    GRID,
    INK,
    MUTED,
    SPINE,
    STYLES,
    _figure,
    _font,
    _svg,
    Size,
    data_uri,
)

SIZE = Size(6.4, 1.5, 9.5, 1)
#: For phones (a <picture> source): narrower, taller, the same text size on screen.
NARROW = Size(3.6, 1.9, 9.0, 1)
YOU = STYLES["alliance"].color
BAND = "#dfe8e4"


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def interval_chart(*, estimate: float | None, lower: float, upper: float, centre: float,
                   spread: tuple[float, float], axis: tuple[float, float] | None = None,
                   percent: bool = False, narrow: bool = False) -> str:
    """An SVG data: URI: "You" (estimate and interval) above "Clinic" (mean and spread).

    Without `estimate` (the clinic's own page), the upper row is the clinic's mean with
    its interval (`lower`, `upper`).
    """
    if not _finite(lower, upper, centre, *spread):
        return ""
    size = NARROW if narrow else SIZE
    figure: Figure = _figure(size)
    axes = figure.add_axes((0.36, 0.26, 0.6, 0.68) if narrow else (0.25, 0.3, 0.71, 0.64))
    you_label = "You" if estimate is not None else "Clinic mean"
    point = estimate if estimate is not None else centre
    axes.barh(0, spread[1] - spread[0], left=spread[0], height=0.5, color=BAND,
              edgecolor=SPINE, linewidth=0.8)
    axes.plot([centre, centre], [-0.3, 1.3], color=MUTED, linewidth=1.1,
              linestyle=(0, (3, 2)))
    # The clinic's mean on its own row too, so the row is never empty (a zero spread).
    axes.plot([centre], [0], marker="D", markersize=5, color=MUTED, linestyle="")
    axes.plot([lower, upper], [1, 1], color=YOU, linewidth=2.4, solid_capstyle="butt")
    axes.plot([lower, lower], [0.85, 1.15], color=YOU, linewidth=1.4)
    axes.plot([upper, upper], [0.85, 1.15], color=YOU, linewidth=1.4)
    axes.plot([point], [1], marker="o", markersize=7, color=YOU, markeredgecolor="white",
              markeredgewidth=1.0)
    axes.set_yticks([0, 1], ["Clinic, middle 80%", you_label],
                    fontproperties=_font(size.font))
    axes.set_ylim(-0.6, 1.6)
    values = [lower, upper, centre, *spread, point]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.15, 1e-6)
    if axis is not None:
        low, high = max(axis[0], low - pad), min(axis[1], high + pad)
        pad = 0
    axes.set_xlim(low - pad, high + pad)
    axes.xaxis.set_major_locator(MaxNLocator(4 if narrow else 6))
    if percent:
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    for label in axes.get_xticklabels():
        label.set_fontproperties(_font(size.font))
    axes.tick_params(colors=INK, length=3)
    axes.grid(axis="x", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(SPINE)
    return data_uri(_svg(figure))
