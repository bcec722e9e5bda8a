"""The look of every PDF report: page, fonts, styles, header and footer, tables, figures.

ReportLab's platypus lays the text out (paragraphs flow and tables split across pages).
The fonts are DejaVu Sans from matplotlib's own data, so the charts and the text share one
typeface and every character the web shows (→, –, “ ”) prints; nothing is installed
outside pip. A4, generous margins, one accent colour (the web's), a header with the clinic,
the report's title and the date on every page, and "Page n of N" at the foot.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from alliance.web import localtime

FONT = "AllianceSans"
BOLD = "AllianceSans-Bold"
ITALIC = "AllianceSans-Oblique"

INK = colors.HexColor("#1c2725")
MUTED = colors.HexColor("#56625e")
ACCENT = colors.HexColor("#1f5f5b")
RULE = colors.HexColor("#c9d3ce")
TINT = colors.HexColor("#eef3f1")
WARM = colors.HexColor("#b54a33")

PAGE = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 26 * mm
MARGIN_BOTTOM = 20 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, folder / "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, folder / "DejaVuSans-Bold.ttf"))
    pdfmetrics.registerFont(TTFont(ITALIC, folder / "DejaVuSans-Oblique.ttf"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC,
                                  boldItalic=BOLD)


_register_fonts()


def _style(name: str, **kw) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 9.2, "leading": 13.2, "textColor": INK,
            "alignment": TA_LEFT}
    return ParagraphStyle(name, **{**base, **kw})


STYLES = {
    "title": _style("title", fontName=BOLD, fontSize=19, leading=24, spaceAfter=2),
    "subtitle": _style("subtitle", fontSize=10, leading=14, textColor=MUTED, spaceAfter=10),
    "h2": _style("h2", fontName=BOLD, fontSize=12.5, leading=16, textColor=ACCENT,
                 spaceBefore=12, spaceAfter=5),
    "h3": _style("h3", fontName=BOLD, fontSize=10, leading=13.5, spaceBefore=6, spaceAfter=2),
    "body": _style("body", spaceAfter=4),
    "small": _style("small", fontSize=8, leading=11, textColor=MUTED, spaceAfter=3),
    "quote": _style("quote", fontName=ITALIC, leftIndent=10, borderPadding=(2, 0, 2, 6),
                    spaceAfter=4),
    "cell": _style("cell", fontSize=8.2, leading=11),
    "cell_head": _style("cell_head", fontName=BOLD, fontSize=8, leading=10.5, textColor=MUTED),
    "cell_head_num": _style("cell_head_num", fontName=BOLD, fontSize=8, leading=10.5,
                            textColor=MUTED, alignment=2),
    "cell_num": _style("cell_num", fontSize=8.2, leading=11, alignment=2),
    "fact_label": _style("fact_label", fontSize=8.5, leading=12, textColor=MUTED),
    "fact": _style("fact", fontSize=9.2, leading=12.5),
}


def text(value) -> str:
    """Plain text made safe for a Paragraph (its markup is a small XML)."""
    return escape("" if value is None else str(value))


def para(value, style: str = "body", *, markup: bool = False) -> Paragraph:
    return Paragraph(value if markup else text(value), STYLES[style])


def heading(value: str) -> Paragraph:
    return para(value, "h2")


def facts(rows: list[tuple[str, str]], label_width: float = 42 * mm) -> Table:
    """Label–value pairs in two columns, e.g. the case's facts."""
    table = Table([[para(label, "fact_label"), para(value, "fact")] for label, value in rows],
                  colWidths=[label_width, WIDTH - label_width], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
    ]))
    return table


CELL_PADDING = 4


def table(header: list[str], rows: list[list], widths: list[float], *,
          numeric: set[int] = frozenset()) -> Table:
    """A calm data table: a tinted header row repeated on every page, hairlines between rows.

    Text that fits its column on one line is drawn as a plain string in the cell style;
    longer text is wrapped in a paragraph so that it wraps inside its column instead of
    running over the page (a paragraph per cell made a table of a hundred sessions most
    of a report's time); `numeric` columns are right-aligned.
    """
    scale = WIDTH / sum(widths) if sum(widths) > WIDTH else 1.0
    widths = [w * scale for w in widths]
    body = STYLES["cell"]

    def cell(value, i):
        if isinstance(value, (Paragraph, Image)):
            return value
        plain = "" if value is None else str(value)
        if "\n" not in plain and pdfmetrics.stringWidth(plain, body.fontName, body.fontSize) \
                <= widths[i] - 2 * CELL_PADDING:
            return plain
        return para(value, "cell_num" if i in numeric else "cell")

    data = [[para(h, "cell_head_num" if i in numeric else "cell_head")
             for i, h in enumerate(header)]]
    data += [[cell(v, i) for i, v in enumerate(row)] for row in rows]
    result = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    result.setStyle(TableStyle([
        ("FONT", (0, 1), (-1, -1), body.fontName, body.fontSize, body.leading),
        ("TEXTCOLOR", (0, 1), (-1, -1), body.textColor),
        *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i in sorted(numeric)],
    ]))
    result.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), TINT),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    return result


def figure(png: bytes, width_inches: float, height_inches: float,
           width: float = WIDTH) -> Image:
    """A chart drawn at high resolution, scaled to `width` with its proportions kept."""
    return Image(io.BytesIO(png), width=width, height=width * height_inches / width_inches)


def keep(*flowables) -> KeepTogether:
    return KeepTogether(list(flowables))


def space(height: float = 4) -> Spacer:
    return Spacer(1, height)


@dataclass(frozen=True)
class Page:
    """What every page of one report says around its content."""

    clinic: str
    title: str
    date: dt.date
    footer: str = ""


def _numbered_canvas(page: Page):
    """A canvas that draws the header and footer once it knows the number of pages."""

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = PAGE
            top = height - 14 * mm
            self.saveState()
            self.setFont(BOLD, 8.5)
            self.setFillColor(ACCENT)
            self.drawString(MARGIN_X, top, page.clinic)
            self.setFont(FONT, 8.5)
            self.setFillColor(MUTED)
            self.drawRightString(width - MARGIN_X, top,
                                 f"{page.title} · {localtime.format_date(page.date)}")
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, top - 3.2 * mm, width - MARGIN_X, top - 3.2 * mm)
            bottom = 11 * mm
            self.setFont(FONT, 7.5)
            if page.footer:
                self.drawString(MARGIN_X, bottom, page.footer)
            self.drawRightString(width - MARGIN_X, bottom,
                                 f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def build(story: list, page: Page, *, subject: str = "") -> bytes:
    """The PDF of `story` with the page's header and footer on every page."""
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=page.title,
        author=page.clinic, subject=subject, creator="Alliance")
    # A frame without padding: text, tables and the header rule share the same edges.
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    document.build(story, canvasmaker=_numbered_canvas(page))
    return buffer.getvalue()
