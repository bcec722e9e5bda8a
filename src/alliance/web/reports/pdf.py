"""The look of every PDF report: page, fonts, styles, header and footer, tables, figures.

ReportLab's platypus lays the text out (paragraphs flow and tables split across pages).
The fonts are DejaVu Sans from matplotlib's own data, so the charts and the text share one
typeface and every character the web shows (→, –, “ ”) prints; nothing is installed
outside pip. A4, generous margins, one accent colour (the web's), a header with the clinic,
the report's title and the date on every page, and "Page n of N" at the foot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
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
        if isinstance(value, Flowable):
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
           width: float = WIDTH) -> Flowable:
    """A chart drawn at high resolution, scaled to `width` with its proportions kept."""
    height = width * height_inches / width_inches
    stream = _png_stream(png)
    if stream is None:
        return Image(io.BytesIO(png), width=width, height=height)
    return _PngFigure(stream, width, height)


@dataclass(frozen=True)
class _PngStream:
    width: int    # pixels
    height: int
    data: bytes   # the PNG's compressed pixels (its IDAT chunks)


def _png_stream(png: bytes) -> _PngStream | None:
    """The compressed pixels of an 8-bit RGB PNG without interlacing (what `charts` writes);
    None for any other PNG."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    at, header, parts = 8, None, []
    while at + 8 <= len(png):
        length = int.from_bytes(png[at:at + 4], "big")
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            parts.append(data)
        elif kind == b"IEND":
            break
        at += 12 + length
    # Bit depth 8, colour type 2 (RGB), interlace 0.
    if header is None or not parts or header[8] != 8 or header[9] != 2 or header[12] != 0:
        return None
    return _PngStream(int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big"),
                      b"".join(parts))


class _PngXObject(pdfdoc.PDFImageXObject):
    """A PNG's pixels as a PDF image as they are: PDF reads PNG's compressed stream with its
    row filters (FlateDecode with predictor 15). ReportLab's own images decode the PNG and
    compress the pixels again, which took a third of the clinic report's time."""

    def __init__(self, name: str, stream: _PngStream):
        super().__init__(name)
        self.width, self.height = stream.width, stream.height
        self.bitsPerComponent = 8
        self.colorSpace = "DeviceRGB"
        self.streamContent = stream.data
        self._filters = ("FlateDecode",)
        self.mask = None

    def format(self, document):
        content = pdfdoc.PDFStream(content=self.streamContent)
        entries = content.dictionary
        entries["Type"] = pdfdoc.PDFName("XObject")
        entries["Subtype"] = pdfdoc.PDFName("Image")
        entries["Width"] = self.width
        entries["Height"] = self.height
        entries["BitsPerComponent"] = 8
        entries["ColorSpace"] = pdfdoc.PDFName("DeviceRGB")
        entries["Filter"] = pdfdoc.PDFName("FlateDecode")
        entries["DecodeParms"] = pdfdoc.PDFDictionary({
            "Predictor": 15, "Colors": 3, "BitsPerComponent": 8, "Columns": self.width})
        entries["Length"] = len(self.streamContent)
        return content.format(document)


class _PngFigure(Flowable):
    """A chart on the page, drawn as an image XObject the way `Canvas.drawImage` does."""

    def __init__(self, stream: _PngStream, width: float, height: float):
        super().__init__()
        self.stream, self.drawWidth, self.drawHeight = stream, width, height
        self.hAlign = "CENTER"

    def wrap(self, available_width, available_height):
        return self.drawWidth, self.drawHeight

    def draw(self):
        canvas, document = self.canv, self.canv._doc
        name = hashlib.sha1(self.stream.data).hexdigest()
        registered = document.getXObjectName(name)
        if registered not in document.idToObject:
            image = _PngXObject(name, self.stream)
            canvas._setXObjects(image)
            document.Reference(image, registered)
            document.addForm(name, image)
        canvas._currentPageHasImages = 1
        canvas.saveState()
        canvas.scale(self.drawWidth, self.drawHeight)
        canvas._code.append(f"/{registered} Do")
        canvas.restoreState()
        canvas._formsinuse.append(name)


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
