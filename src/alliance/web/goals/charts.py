"""A small chart of progress ratings on one goal: the client's and the therapist's.

Drawn like the case page's charts (`alliance.web.dashboards.charts`: matplotlib's
object-oriented API on an SVG canvas, the same colours, fonts and 0–10 axis, never colour
alone: the client's line is solid with filled circles, the therapist's dashed with open
circles) and embedded as a `data:` image, with the same numbers in a table beside it.
"""

from __future__ import annotations

from functools import lru_cache

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from alliance.web.dashboards import charts as style

CLIENT = style.Style("Client", style.STYLES["alliance"].color, 2.2, marker="o", markersize=5.5)
THERAPIST = style.STYLES["therapist"]
SIZE = style.Size(4.6, 2.2, 9.0, 2)


@lru_cache(maxsize=512)
def _chart(client: tuple, therapist: tuple) -> str:
    figure = Figure(figsize=(SIZE.width, SIZE.height), facecolor="white")
    FigureCanvasSVG(figure)
    line = SIZE.font / 72
    bottom = (2.6 * line + 0.1 + 1.6 * line) / SIZE.height
    left = (3.4 * line + 0.1) / SIZE.width
    axes = figure.add_axes((left, bottom, 1 - left - 0.15 / SIZE.width,
                            1 - bottom - 0.15 / SIZE.height))
    numbers = [n for n, _ in client + therapist] or [1]
    axes.set_xlim(min(numbers) - 0.6, max(numbers) + 0.6)
    axes.set_ylim(-0.3, 10.5)
    axes.yaxis.set_major_locator(FixedLocator([0, 5, 10]))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6, min_n_ticks=1))
    axes.grid(axis="y", color=style.GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(style.SPINE)
    axes.tick_params(colors=style.MUTED, labelcolor=style.INK, labelsize=SIZE.font, length=3,
                     labelfontfamily=style.FONT_FAMILY)
    axes.set_xlabel("Session", fontproperties=style._font(SIZE.font), color=style.MUTED,
                    labelpad=2)
    handles = []
    for points, look, gid in ((therapist, THERAPIST, "therapist"), (client, CLIENT, "client")):
        if points:
            (drawn,) = axes.plot([n for n, _ in points], [r for _, r in points],
                                 label=look.label, gid=f"progress-{gid}", zorder=4,
                                 **look.kwargs())
            handles.append(drawn)
    handles.reverse()
    style._legend(figure, handles, SIZE, SIZE.legend_columns)
    return style.data_uri(style._svg(figure))


def progress_chart(client: list[tuple[int, float]],
                   therapist: list[tuple[int, float]]) -> str:
    """The chart as a `data:` URI: (session, rating) pairs of each side, in session order.

    The same numbers always give the same image (remembered per process).
    """
    return _chart(tuple(client), tuple(therapist))
