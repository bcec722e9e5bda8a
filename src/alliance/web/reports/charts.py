"""Charts for the PDF reports, as high-resolution PNG.

The case report draws the case page's own charts (`alliance.web.dashboards.charts`) at
print resolution; the clinic report adds histograms and the caterpillar plot of therapist
effects in the same look (colours, type, thin grid, no chart junk). Each function returns
the PNG with its size in inches, so the PDF keeps the proportions.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from alliance.core.benchmarking import TherapistComparison
from alliance.web.dashboards import charts as case_charts
from alliance.web.dashboards.charts import GRID, INK, MUTED, SPINE, STYLES

#: Print resolution: crisp at the report's width (about 7 in) and small enough to mail.
DPI = 220
#: zlib level of the charts' pixels (1–9): 1 is three times as fast as 6 and the report
#: about a third larger (0.5 MB for a clinic of 50 therapists).
PNG_COMPRESSION = 1


@dataclass(frozen=True)
class Png:
    data: bytes
    width: float   # inches
    height: float


def _png(figure: Figure) -> Png:
    figure.set_dpi(DPI)
    figure.patch.set_facecolor("white")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = figure.get_size_inches()
    return Png(png_rgb(np.asarray(canvas.buffer_rgba())), float(width), float(height))


def png_rgb(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of `pixels` (height × width × 3 or 4; alpha is dropped), rows
    unfiltered and lightly compressed.

    The PDF takes these compressed pixels as they are (`pdf.figure`), so they are never
    decoded again. A chart is mostly flat colour: Pillow's adaptive row filters made its
    PNG no smaller and took three times as long as compressing the rows as they are."""
    rows_count, columns = pixels.shape[:2]
    rows = np.empty((rows_count, 1 + 3 * columns), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:].reshape(rows_count, columns, 3)[:] = pixels[:, :, :3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", columns, rows_count, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESSION)) + chunk(b"IEND", b""))


def alliance(series) -> Png:
    return case_charts.alliance_chart(series, output=_png)


def wellbeing(series, band=None) -> Png:
    return case_charts.wellbeing_chart(series, band, output=_png)


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=case_charts.FONT_FAMILY, size=size, weight=weight)


def _axes(figure: Figure, rect):
    axes = figure.add_axes(rect)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(SPINE)
    axes.tick_params(colors=MUTED, labelcolor=INK, labelsize=9, length=3)
    return axes


def histogram(values: Sequence[float], *, bins: Sequence[float], xlabel: str,
              color: str, marker: float | None = None, marker_label: str = "",
              ylabel: str = "Cases", size: tuple[float, float] = (4.4, 2.7)) -> Png:
    """Counts per bin (of cases, or what `ylabel` says), with an optional dashed reference
    line (e.g. no change)."""
    figure = Figure(figsize=size, facecolor="white")
    FigureCanvasAgg(figure)
    # Margins in inches (room for the tick labels and the axis labels) whatever the size.
    width, height = size
    left, bottom = 0.616 / width, 0.54 / height
    axes = _axes(figure, (left, bottom, 1 - left - 0.176 / width, 1 - bottom - 0.216 / height))
    counts, edges = np.histogram(np.asarray(values, dtype=float), bins=np.asarray(bins))
    axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=color,
             edgecolor="white", linewidth=1.0, alpha=0.9)
    axes.set_xlim(edges[0], edges[-1])
    axes.set_ylim(0, max(1, counts.max()) * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_xlabel(xlabel, fontproperties=_font(9), color=MUTED)
    axes.set_ylabel(ylabel, fontproperties=_font(9), color=MUTED)
    if marker is not None:
        axes.axvline(marker, color=MUTED, linewidth=1.1, linestyle=(0, (4, 3)))
        if marker_label:
            axes.text(marker, axes.get_ylim()[1], f" {marker_label}", color=MUTED,
                      fontproperties=_font(8), va="top", ha="left")
    return _png(figure)


#: Therapists per caterpillar chart: a chart of this many fits on one page with its heading.
CATERPILLAR_ROWS = 24


def caterpillars(comparison: TherapistComparison, names: dict[str, str], *,
                 xlabel: str) -> list[Png]:
    """The caterpillar chart in parts of at most `CATERPILLAR_ROWS` therapists, on one
    shared scale, so that a clinic of any size prints (one tall chart would not fit a page)."""
    rows = sorted(comparison.therapists, key=lambda t: names.get(t.therapist, t.therapist))
    low = min(min(r.adjusted_lower for r in rows), comparison.intercept)
    high = max(max(r.adjusted_upper for r in rows), comparison.intercept)
    pad = max(0.25, 0.08 * (high - low))
    return [caterpillar(comparison, names, xlabel=xlabel,
                        rows=rows[start:start + CATERPILLAR_ROWS], xlim=(low - pad, high + pad))
            for start in range(0, len(rows), CATERPILLAR_ROWS)]


def caterpillar(comparison: TherapistComparison, names: dict[str, str], *,
                xlabel: str, rows=None, xlim: tuple[float, float] | None = None) -> Png:
    """Each therapist's adjusted outcome with its interval, and the clinic mean.

    Therapists are listed alphabetically by name (never by effect: an ordered list reads
    as a ranking that the intervals do not support). `rows` draws only these therapists,
    on the scale `xlim` (the parts of `caterpillars`).
    """
    if rows is None:
        rows = sorted(comparison.therapists, key=lambda t: names.get(t.therapist, t.therapist))
    # Room for the legend above the plot and the axis label below it.
    height = 1.0 + 0.36 * len(rows)
    figure = Figure(figsize=(7.2, height), facecolor="white")
    FigureCanvasAgg(figure)
    left, bottom, top = 1.9 / 7.2, 0.55 / height, 0.32 / height
    axes = _axes(figure, (left, bottom, 1 - left - 0.25 / 7.2, 1 - bottom - top))
    ys = np.arange(len(rows))[::-1]
    color = STYLES["wellbeing"].color
    axes.axvline(comparison.intercept, color=MUTED, linewidth=1.1, linestyle=(0, (4, 3)),
                 zorder=1)
    # All intervals as one collection and all dots as one line: one artist each, not two
    # per therapist.
    axes.add_collection(LineCollection(
        [[(r.adjusted_lower, y), (r.adjusted_upper, y)] for y, r in zip(ys, rows)],
        colors=color, linewidths=2.0, capstyle="round", zorder=2))
    axes.plot([r.adjusted for r in rows], ys, linestyle="none", marker="o", markersize=6,
              color=color, markeredgecolor="white", markeredgewidth=0.8, zorder=3)
    # Names as written: a "$" pair would otherwise be read as mathematics (and bad
    # mathematics stops the report).
    axes.set_yticks(ys, [f"{names.get(r.therapist, r.therapist)} ({r.n_cases})" for r in rows],
                    parse_math=False)
    axes.tick_params(axis="y", length=0, labelsize=9)
    axes.spines["left"].set_visible(False)
    axes.set_ylim(-0.7, len(rows) - 0.3)
    if xlim is None:
        low = min(r.adjusted_lower for r in rows)
        high = max(r.adjusted_upper for r in rows)
        pad = max(0.25, 0.08 * (high - low))
        xlim = (min(low, comparison.intercept) - pad, max(high, comparison.intercept) + pad)
    axes.set_xlim(*xlim)
    axes.grid(axis="x", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_xlabel(xlabel, fontproperties=_font(9), color=MUTED)
    handles = [Line2D([], [], color=color, linewidth=2.0, marker="o", markersize=5,
                      label=f"Adjusted figure, {round(comparison.level * 100)}% interval"),
               Line2D([], [], color=MUTED, linewidth=1.1, linestyle=(0, (4, 3)),
                      label="Clinic mean")]
    figure.legend(handles=handles, loc="upper right", ncol=2, frameon=False,
                  prop=_font(8.5), bbox_to_anchor=(1 - 0.25 / 7.2, 1.0), labelcolor=INK,
                  borderaxespad=0.1)
    return _png(figure)

