"""Charts drawn on the server by matplotlib, as SVG.

matplotlib's object-oriented API only: every chart is its own `Figure` with an SVG
canvas, so nothing touches pyplot's global state and requests in parallel threads do
not share a figure. No GUI backend is ever loaded.

Look: calm colours that keep at least 3:1 contrast against white (WCAG 1.4.11 for
graphics), a 0–10 score axis, session numbers along the bottom, and never colour alone:
each line has its own marker or dash, ruptures are a dotted line with a ▼, missed
sessions a grey ×. Every chart on a page also has a table with the same numbers.

SVG options are process-wide matplotlib settings, set once here: text is kept as text
(small, selectable, read by the browser's own fonts) and element ids are salted with a
fixed string, so the same data always gives the same bytes.
"""

from __future__ import annotations

import base64
import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator

from alliance.web.dashboards.series import SCALE_MAX, SCALE_MIN, SUBSCALES, CaseSeries

matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "alliance"

# The generic family resolves through matplotlib's own list (DejaVu Sans first, which it ships);
# the SVG names the whole list, so browsers without DejaVu use a similar sans-serif.
FONT_FAMILY = ["sans-serif"]

INK = "#1c2725"
MUTED = "#56625e"
GRID = "#e3e8e5"
SPINE = "#b9c3be"


@dataclass(frozen=True)
class Style:
    """How one series is drawn: colour, line, marker. Every series differs in more than colour."""

    label: str
    color: str
    linewidth: float
    linestyle: str | tuple = "-"
    marker: str = "o"
    markersize: float = 4.0
    hollow: bool = False

    def kwargs(self) -> dict:
        return {"color": self.color, "linewidth": self.linewidth, "linestyle": self.linestyle,
                "marker": self.marker, "markersize": self.markersize,
                "markerfacecolor": "white" if self.hollow else self.color,
                "markeredgecolor": self.color, "markeredgewidth": 1.3 if self.hollow else 0.8,
                "solid_capstyle": "round", "solid_joinstyle": "round"}


STYLES = {
    "alliance": Style("Alliance (client)", "#1f5f5b", 2.6, marker="o", markersize=6),
    "bond": Style("Bond", "#3b6ea5", 1.3, marker="s", markersize=4),
    "goals": Style("Goals", "#a0632a", 1.3, marker="^", markersize=4.6),
    "tasks": Style("Tasks", "#7b4f9d", 1.3, marker="D", markersize=3.6),
    "therapist": Style("Therapist's rating", "#5f6b69", 1.8, linestyle=(0, (5, 3)),
                       marker="o", markersize=5, hollow=True),
    "wellbeing": Style("Wellbeing", "#2c5d8a", 2.6, marker="o", markersize=6),
    "expected": Style("Expected course", "#6b8fb0", 1.3, linestyle=(0, (1.5, 2.5)),
                      marker="", markersize=0),
}
RUPTURE_COLOR = "#b54a33"
BELOW_COLOR = "#b54a33"
BAND_COLOR = "#d9e6f1"
MISSED_COLOR = "#8a9592"


@dataclass(frozen=True)
class Size:
    width: float   # inches
    height: float
    font: float    # points
    legend_columns: int


WIDE = Size(9.0, 3.7, 10.0, 4)
NARROW = Size(4.6, 5.0, 11.0, 2)


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=FONT_FAMILY, size=size, weight=weight)


def _figure(size: Size) -> Figure:
    figure = Figure(figsize=(size.width, size.height), facecolor="white")
    FigureCanvasSVG(figure)
    return figure


# No creation date (the same data give the same bytes) and no creator block.
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _svg(figure: Figure, facecolor: str = "white") -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", facecolor=facecolor, metadata=_METADATA)
    return buffer.getvalue()


def _compact(svg: str) -> str:
    """The SVG without its XML prolog and layout whitespace: sparklines go inline, per row."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r">\s+<", "><", svg)
    return re.sub(r"\s*\n\s*", " ", svg).strip()


def _score_axes(figure: Figure, series: CaseSeries, size: Size, legend_rows: int,
                scale: tuple[float, float] = (SCALE_MIN, SCALE_MAX)):
    # Leave room under the plot for the tick labels, the axis label and the legend.
    line = size.font / 72  # one line of text, inches
    bottom = (2.9 * line + 0.15 + 1.75 * line * legend_rows) / size.height
    left = (4.2 * line + 0.1) / size.width
    axes = figure.add_axes((left, bottom, 1 - left - 0.2 / size.width,
                            1 - bottom - 0.2 / size.height))
    low, high = scale
    span = high - low
    axes.set_ylim(low - 0.03 * span, high + 0.05 * span)
    if (low, high) == (0.0, 10.0):
        axes.yaxis.set_major_locator(FixedLocator([0, 2, 4, 6, 8, 10]))
    else:
        axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
    numbers = [s.number for s in series.sessions] or [1]
    first, last = min(numbers), max(numbers)
    axes.set_xlim(first - 0.6, last + 0.6)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12 if size is WIDE else 7,
                                             min_n_ticks=1))
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(SPINE)
    axes.tick_params(colors=MUTED, labelcolor=INK, labelsize=size.font, length=3,
                     labelfontfamily=FONT_FAMILY)
    axes.set_xlabel("Session", fontproperties=_font(size.font), color=MUTED, labelpad=3)
    axes.set_ylabel(f"Score ({low:g}–{high:g})", fontproperties=_font(size.font), color=MUTED,
                    labelpad=4)
    return axes


def _plot(axes, series: CaseSeries, measure: str, style: Style | None = None, **extra):
    rated = series.rated(measure)
    if not rated:
        return None
    style = style or STYLES[measure]
    (line,) = axes.plot([s.number for s in rated], [getattr(s, measure) for s in rated],
                        label=style.label, gid=f"series-{measure}",
                        **{**style.kwargs(), **extra})
    return line


def _missed(axes, series: CaseSeries, low: float):
    missed = [s.number for s in series.sessions if not s.attended]
    if not missed:
        return None
    (line,) = axes.plot(missed, [low] * len(missed), linestyle="none", marker="x",
                        markersize=5.5, markeredgewidth=1.4, color=MISSED_COLOR,
                        label="Missed or cancelled", clip_on=False, gid="missed")
    return line


def row_wise(items: list, columns: int) -> list:
    """`items` reordered so that a legend filled column by column reads row by row.

    matplotlib fills a legend's columns top to bottom, the first (n mod columns) columns
    one entry longer: exactly the columns of a grid filled row by row whose last row is
    short. So the entry at row i, column j of that grid goes to position j·rows + i.
    """
    columns = max(1, min(columns, len(items)))
    rows = -(-len(items) // columns)
    return [items[i * columns + j] for j in range(columns) for i in range(rows)
            if i * columns + j < len(items)]


def _legend(figure: Figure, handles: list, size: Size, columns: int) -> None:
    handles = [h for h in handles if h is not None]
    if not handles:
        return
    # Read across: the series in their order on the first row, then the markers.
    handles = row_wise(handles, columns)
    figure.legend(handles=handles, loc="lower center", ncol=min(columns, len(handles)),
                  frameon=False, prop=_font(size.font - 0.5), handlelength=2.6,
                  columnspacing=1.8, borderaxespad=0.2, labelspacing=0.45, labelcolor=INK)


def _empty(axes, size: Size, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center",
              color=MUTED, fontproperties=_font(size.font + 0.5))


def _rows(count: int, columns: int) -> int:
    return max(1, -(-count // columns))


def alliance_chart(series: CaseSeries, *, narrow: bool = False, output=None):
    """Client-rated alliance (total, bond, goals, tasks) with the therapist's own rating.

    SVG text by default; `output` (a function of the figure) renders it otherwise, e.g.
    as a high-resolution PNG for a PDF report.

    Ruptures (from the case's rupture signals) are dotted vertical lines with a ▼ at the
    top (an open ▽ once repaired); missed or cancelled sessions a grey × on the bottom line.
    """
    size = NARROW if narrow else WIDE
    scale = series.measures.alliance_scale if series.measures else (SCALE_MIN, SCALE_MAX)
    measures = ["alliance", *SUBSCALES]
    if series.measures is None or series.measures.therapist_comparable:
        measures.append("therapist")
    present = [m for m in measures if series.rated(m)]
    ruptures = [s for s in series.sessions if s.has_rupture]
    open_ruptures = [s.number for s in ruptures if not s.rupture_repaired]
    repaired = [s.number for s in ruptures if s.rupture_repaired]
    missed = any(not s.attended for s in series.sessions)
    entries = len(present) + bool(open_ruptures) + bool(repaired) + missed
    columns = size.legend_columns
    figure = _figure(size)
    axes = _score_axes(figure, series, size, _rows(entries, columns), scale)
    handles = []
    top = scale[1] + 0.025 * (scale[1] - scale[0])
    for session in ruptures:
        axes.axvline(session.number, color=RUPTURE_COLOR, linewidth=1.1,
                     linestyle=(0, (1.2, 2.2)), zorder=1)
    # A filled ▼ while the rupture is not (yet) repaired, an open ▽ once it is.
    for numbers, label, face, gid in (
            (open_ruptures, "Possible rupture", RUPTURE_COLOR, "ruptures"),
            (repaired, "Rupture, repaired", "white", "ruptures-repaired")):
        if numbers:
            axes.plot(numbers, [top] * len(numbers), linestyle="none", marker="v", markersize=8,
                      color=RUPTURE_COLOR, markerfacecolor=face, markeredgewidth=1.3,
                      clip_on=False, zorder=5, gid=gid)
            handles.append(Line2D([], [], color=RUPTURE_COLOR, linestyle=(0, (1.2, 2.2)),
                                  marker="v", markersize=7, markerfacecolor=face,
                                  markeredgewidth=1.3, label=label))
    # Subscales first and thin, so that the total and the therapist's line sit on top.
    lines = {m: _plot(axes, series, m, zorder=3) for m in SUBSCALES}
    if "therapist" in measures:
        lines["therapist"] = _plot(axes, series, "therapist", zorder=4)
    lines["alliance"] = _plot(axes, series, "alliance", zorder=6)
    handles = [lines.get(m) for m in measures] + handles + [_missed(axes, series, scale[0])]
    if not present:
        _empty(axes, size, "No alliance check-ins answered yet")
    _legend(figure, handles, size, columns)
    return (output or _svg)(figure)


@dataclass(frozen=True)
class BandSeries:
    """The clinic's expected wellbeing range for one case, session by session."""

    sessions: Sequence[float]
    lower: Sequence[float]
    expected: Sequence[float]
    upper: Sequence[float]
    coverage: float

    @property
    def label(self) -> str:
        return f"Expected range ({round(self.coverage * 100)}% of similar clients)"


def wellbeing_chart(series: CaseSeries, band: BandSeries | None = None, *,
                    narrow: bool = False, output=None):
    """Wellbeing with the clinic's expected range shaded, when the clinic has a model.

    `output` as for `alliance_chart`.

    Sessions with a not-on-track signal get a ▲ just below the point (▼ above it for an
    outcome where lower is better).
    """
    size = NARROW if narrow else WIDE
    measures = series.measures
    scale = measures.outcome_scale if measures else (SCALE_MIN, SCALE_MAX)
    title = measures.outcome_title if measures else "Wellbeing"
    higher_is_better = measures.outcome_higher_is_better if measures else True
    below = [s for s in series.sessions if s.below_expected and s.wellbeing is not None]
    missed = any(not s.attended for s in series.sessions)
    has_band = band is not None and len(band.sessions) > 0
    entries = 1 + 2 * has_band + bool(below) + missed
    # Longer labels than the alliance chart: fewer columns.
    columns = 1 if narrow else 3
    figure = _figure(size)
    axes = _score_axes(figure, series, size, _rows(entries, columns), scale)
    handles = []
    if has_band:
        axes.fill_between(band.sessions, band.lower, band.upper, color=BAND_COLOR, linewidth=0,
                          zorder=1, gid="expected-range")
        handles.append(Patch(facecolor=BAND_COLOR, edgecolor="none", label=band.label))
        (mid,) = axes.plot(band.sessions, band.expected, zorder=2, gid="expected-course",
                           label=STYLES["expected"].label, **STYLES["expected"].kwargs())
        handles.append(mid)
    style = STYLES["wellbeing"]
    handles.insert(0, _plot(axes, series, "wellbeing", Style(title, style.color, style.linewidth,
                                                             style.linestyle, style.marker,
                                                             style.markersize), zorder=5))
    if below:
        # A marker just outside the point, on the side where it left the range.
        offset = 0.075 * (scale[1] - scale[0]) * (-1 if higher_is_better else 1)
        (mark,) = axes.plot([s.number for s in below], [s.wellbeing + offset for s in below],
                            linestyle="none", marker="^" if higher_is_better else "v",
                            markersize=7.5, color=BELOW_COLOR, zorder=6,
                            label="Outside the expected range", gid="outside-expected")
        handles.append(mark)
    handles.append(_missed(axes, series, scale[0]))
    if not series.rated("wellbeing"):
        _empty(axes, size, f"No {title.lower()} check-ins answered yet")
    _legend(figure, handles, size, columns)
    return (output or _svg)(figure)


# --- sparklines ----------------------------------------------------------------------

SPARK_WIDTH, SPARK_HEIGHT = 1.25, 0.38   # inches
SPARK_COLORS = {"alliance": STYLES["alliance"].color, "wellbeing": STYLES["wellbeing"].color}

_local = threading.local()


def _spark_parts():
    # One small figure per thread, re-used: building a figure costs more than drawing it.
    parts = getattr(_local, "spark", None)
    if parts is None:
        figure = _figure(Size(SPARK_WIDTH, SPARK_HEIGHT, 8, 1))
        axes = figure.add_axes((0.03, 0.1, 0.94, 0.8))
        axes.axis("off")
        # A faint middle line, so that a flat line reads as high or low at a glance.
        middle = axes.axhline(5, color=GRID, linewidth=0.8, zorder=1)
        (line,) = axes.plot([], [], linewidth=1.6, solid_capstyle="round",
                            solid_joinstyle="round", zorder=2, gid="sparkline")
        (last,) = axes.plot([], [], linestyle="none", marker="o", markersize=3.6, zorder=3)
        parts = _local.spark = (figure, axes, line, last, middle)
    return parts


@lru_cache(maxsize=1024)
def _sparkline(kind: str, points: tuple[tuple[float, float], ...],
               scale: tuple[float, float], span: tuple[float, float] | None) -> str:
    figure, axes, line, last, middle = _spark_parts()
    axes.set_ylim(*scale)
    middle.set_ydata([(scale[0] + scale[1]) / 2] * 2)
    color = SPARK_COLORS[kind]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    line.set_data(xs, ys)
    line.set_color(color)
    last.set_data(xs[-1:], ys[-1:])
    last.set_color(color)
    if span is None and xs:
        span = (min(xs), max(xs))
    if span is not None:
        axes.set_xlim(span[0] - 0.4, span[1] + 0.4)
    return _compact(_svg(figure, facecolor="none"))


def sparkline(kind: str, sessions: Sequence[int], values: Sequence[float | None],
              scale: tuple[float, float] = (SCALE_MIN, SCALE_MAX),
              span: tuple[int, int] | None = None) -> str:
    """A small line of one measure ("alliance" or "wellbeing") over recent sessions.

    The vertical axis is the whole scale (0–10 for the bundled check-ins), so that lines
    of different clients compare; `span` (first and last session number) fixes the
    horizontal axis, e.g. to the last eight sessions whether rated or not.

    Only rated sessions are drawn; the last one has a dot. The result depends only on the
    numbers, so it is remembered for the same numbers.
    """
    if kind not in SPARK_COLORS:
        raise ValueError(f"no sparkline for {kind!r}")
    points = tuple((float(s), float(v)) for s, v in zip(sessions, values) if v is not None)
    return _sparkline(kind, points, (float(scale[0]), float(scale[1])),
                      None if span is None else (float(span[0]), float(span[1])))


def data_uri(svg: str) -> str:
    """An SVG as a data: URI for `<img src>` (the page's policy allows data: images)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
