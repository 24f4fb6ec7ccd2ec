"""A report as a PDF (fpdf2, from PyPI alone): title, caption, the chart as vector graphics, and the table rounded
as on screen. The chart is the report's Vega-Lite spec rendered to SVG by vl-convert, drawn by fpdf2 as paths."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from contactgroup.domain import text
from contactgroup.io.chart_svg import chart_svg
from contactgroup.reports.document import ROUNDING_NOTE, Kind, Report, shown

SVG = "{http://www.w3.org/2000/svg}"
# DejaVu Sans Condensed (as wide as Helvetica), a subset holding Latin, Greek and Cyrillic (assets/fonts/README.md),
# embedded in every PDF: a name in the members' or the recipient's scripts prints as written. A character outside it
# is shown as "?", marked rather than dropped or failing the whole report.
FONT = "dejavu"
FONTS = Path(__file__).parent / "assets" / "fonts"
FONT_FILES = {"": FONTS / "DejaVuSansCondensed.ttf", "B": FONTS / "DejaVuSansCondensed-Bold.ttf"}
NUMERIC = frozenset({Kind.NUMBER, Kind.UNITS, Kind.MONEY, Kind.SHARE, Kind.PERCENT, Kind.DAYS})


@cache
def _glyphs() -> frozenset[int]:
    """The code points both faces of the font can set."""
    from fontTools.ttLib import TTFont

    faces = [set(TTFont(path).getBestCmap()) for path in FONT_FILES.values()]
    return frozenset(set.intersection(*faces))


def printable(value: str) -> str:
    """Text as the page can set it: control characters written out, characters outside the font as "?"."""
    glyphs = _glyphs()
    return "".join(c if ord(c) in glyphs else "?" for c in text.visible(value, multiline=False))


def svg_size(svg: bytes) -> tuple[float, float]:
    """The drawing's width and height in its own units (vl-convert writes both on the root element)."""
    root = ET.fromstring(svg)
    return float(root.get("width", "1")), float(root.get("height", "1"))


def for_fpdf(svg: str) -> bytes:
    """The SVG as fpdf2's converter reads it: empty paths (Vega's hidden hit areas) dropped, a line's omitted
    coordinates written as their SVG default 0, text set in the page's font."""
    ET.register_namespace("", SVG[1:-1])
    root = ET.fromstring(svg)  # our own renderer's output, not a file from outside
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{SVG}path" and not child.get("d", "").strip():
                parent.remove(child)
        if parent.tag == f"{SVG}line":
            for coordinate in ("x1", "y1", "x2", "y2"):
                parent.attrib.setdefault(coordinate, "0")
        if parent.tag == f"{SVG}text":
            parent.set("font-family", FONT)
            parent.text = printable(parent.text or "")
    return bytes(ET.tostring(root, encoding="utf-8"))


def _table(pdf: Any, report: Report) -> None:
    from fpdf.fonts import FontFace

    # Each column as wide as its widest cell or heading (prose at most 40 characters, folding beyond): fpdf2
    # scales the widths to the page.
    widths = [min(max(len(f.heading), *(len(shown(f.kind, r.get(f.key))) for r in report.rows)), 40) + 2
              for f in report.fields]
    align = tuple("RIGHT" if f.kind in NUMERIC else "LEFT" for f in report.fields)
    with pdf.table(col_widths=tuple(widths), text_align=align, line_height=4.2, padding=0.8,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                   repeat_headings=1) as table:
        table.row([printable(f.heading) for f in report.fields])
        for record in report.rows:
            table.row([printable(shown(f.kind, record.get(f.key))) for f in report.fields])


def report_pdf(report: Report) -> bytes:
    """The PDF's bytes: A4 landscape, the chart on the first page, then the table, then the definitions."""
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, path)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(printable(report.title))
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, printable(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    caption = "; ".join(p for p in (report.caption, *report.notes, ROUNDING_NOTE) if p)
    pdf.multi_cell(0, 4, printable(caption), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if report.chart is not None and report.chart.shown_rows(report.rows):
        drawing = for_fpdf(chart_svg(report.chart, report.rows))
        width, height = svg_size(drawing)
        room = pdf.h - pdf.b_margin - pdf.get_y()  # the chart is scaled into what is left of the first page
        w = min(pdf.epw * 0.85, room * width / height)
        pdf.image(io.BytesIO(drawing), x=pdf.l_margin, w=w, h=w * height / width)
        pdf.set_y(pdf.h - pdf.b_margin)
        pdf.ln(2)
    pdf.set_font(FONT, "", 7)
    if report.rows:
        _table(pdf, report)
    else:
        pdf.cell(0, 5, "(nothing to report)", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5, "Definitions", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 7)
    for field, meaning in report.definitions():
        pdf.multi_cell(0, 3.6, printable(f"{field}: {meaning}"), new_x="LMARGIN", new_y="NEXT")
    data: bytes = bytes(pdf.output())
    return data
