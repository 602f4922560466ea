"""The building blocks of the Decree 30 layout on python-docx: page-wide constants, text
measurement, borders and rules, body paragraphs, headings, ruled tables and pictures.

:mod:`documents.decree30` puts them together into the document layout (header blocks, title,
closing) and re-exports the body functions, so content modules import only ``decree30``.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Sequence
from functools import lru_cache

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.oxml.text.paragraph import CT_P
from docx.oxml.text.parfmt import CT_PPr
from docx.oxml.text.run import CT_R
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from documents.docx_text import NO_BREAK_HYPHEN, keep_whole, no_break_hyphens, token_width_pt

FONT = "Times New Roman"
BODY_PT = 14
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
PAGE_MM = (210, 297)
TEXT_WIDTH_CM = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10  # 16,5 cm
TEXT_WIDTH_PT = TEXT_WIDTH_CM / 2.54 * 72
FIRST_LINE_INDENT = Cm(1.27)
ZIP_DATE = (2000, 1, 1, 0, 0, 0)
CELL_MARGIN_CM = 0.19  # Word's default left and right cell margin
TABLE_CELL_MARGIN_CM = 0.1  # in ruled tables


def text_width_pt(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in Times New Roman's metrics (Liberation Serif is metric-compatible),
    from its letters' unhinted advances (``documents.docx_text``)."""
    return token_width_pt(text, size, bold)


def set_fonts(element, size: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """Times New Roman for every script slot of a style's or a run's properties."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        if attribute.endswith("Theme"):
            del fonts.attrib[attribute]
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)


def add_field(paragraph: Paragraph, instruction: str, *, size: float) -> None:
    """A Word field (begin / instruction / separate / result / end) in ``paragraph``."""
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None),
                       (None, "2"), ("end", None)):  # fmt: skip
        run = paragraph.add_run()
        run.font.size = Pt(size)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text.startswith(" "):
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text


def border(paragraph: Paragraph, side: str, *, size: int = 6, space: int = 1) -> None:
    """A solid single border on one side of ``paragraph`` (size in eighths of a point)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", str(space)),
                       ("color", "000000")):  # fmt: skip
        line.set(qn(f"w:{key}"), value)
    borders.append(line)


def line(
    container, text: str, *, size: float = BODY_PT, bold=False, italic=False, align="center"
) -> Paragraph:  # type: ignore[no-untyped-def]
    paragraph = container.add_paragraph()
    paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, align.upper())
    run = paragraph.add_run(keep_whole(text))
    no_break_hyphens(run._r)
    run.font.size, run.bold, run.italic = Pt(size), bold, italic
    return paragraph


def rule(cell_or_doc, width_pt: float, available_pt: float, *, under: Paragraph | None = None):  # type: ignore[no-untyped-def]
    """A centred solid rule ``width_pt`` long: under ``under`` (its bottom border, when the
    paragraph's text is that long) or as its own thin paragraph."""
    indent = Pt(max(0.0, (available_pt - width_pt) / 2))
    if under is not None:
        paragraph = under
    else:
        paragraph = cell_or_doc.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(1)
        paragraph.paragraph_format.line_spacing = Pt(1)
        paragraph.add_run().font.size = Pt(1)
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = indent
    border(paragraph, "bottom", size=6, space=1)
    return paragraph


def cell_text_pt(cell_cm: float) -> float:
    return (cell_cm - 2 * CELL_MARGIN_CM) / 2.54 * 72


def set_widths(table: Table, widths_cm: Sequence[float]) -> None:
    """Fixed column widths, in the grid (LibreOffice reads) and on every cell (Word reads)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def borderless_table(doc: DocxDocument, rows: int, widths_cm: Sequence[float]) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths_cm)
    return table


def first_cell(cell: _Cell) -> _Cell:
    """The cell with its initial empty paragraph removed (content is then added)."""
    cell._tc.remove(cell.paragraphs[0]._p)
    return cell


def add_heading(doc: DocxDocument, text: str, level: int = 1) -> Paragraph:
    """A numbered heading: level 1 'I. ...' bold capitals, 2 '1. ...' bold, 3 bold italic."""
    paragraph = line(doc, text.upper() if level == 1 else text, bold=True, italic=level >= 3,
                      align="justify")  # fmt: skip
    fmt = paragraph.paragraph_format
    fmt.first_line_indent, fmt.space_before, fmt.keep_with_next = FIRST_LINE_INDENT, Pt(6), True
    return paragraph


@lru_cache(maxsize=1)
def _body_format() -> CT_PPr:
    """The body paragraph's properties, built once and copied (python-docx's setters cost
    ~0.3 ms a paragraph)."""
    paragraph = Paragraph(OxmlElement("w:p"), None)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt = paragraph.paragraph_format
    fmt.first_line_indent, fmt.space_before, fmt.line_spacing = FIRST_LINE_INDENT, Pt(6), 1.15
    return paragraph._p.pPr


def _append_to_body(doc: DocxDocument, p: CT_P) -> Paragraph:
    """``p`` added at the end of the body, without ``doc.add_paragraph()``'s scan of the whole
    body for the section properties (quadratic over the thousands of lines a report of every
    commune has)."""
    body = doc.element.body
    try:
        last = body[-1]  # found from the end; len(body) would count every child
    except IndexError:
        last = None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(p)
    else:
        body.append(p)
    return Paragraph(p, doc._body)


def last_paragraph(doc: DocxDocument) -> Paragraph | None:
    """``doc.paragraphs[-1]`` without listing every paragraph of the body first."""
    for child in doc.element.body.iterchildren(qn("w:p"), reversed=True):
        return Paragraph(child, doc._body)
    return None


def set_run_text(run: CT_R, text: str) -> None:
    """``CT_R.text = text`` for a run that holds one ``w:t``, without its cost (python-docx
    looks at every character for tabs and breaks, and clears the run by XPath: ~0.1 ms a run,
    seconds for a report of every commune). Text with tabs or breaks still goes through it."""
    text = keep_whole(text)
    t = run.find(qn("w:t"))
    if t is None or "\t" in text or "\n" in text or "\r" in text or NO_BREAK_HYPHEN in text:
        run.text = text
        no_break_hyphens(run)
        return
    t.text = text
    if len(text.strip()) < len(text):
        t.set(qn("xml:space"), "preserve")
    else:
        t.attrib.pop(qn("xml:space"), None)


@lru_cache(maxsize=4)
def _paragraph_template(lead: bool, italic: bool) -> CT_P:
    """A body paragraph with its runs (a bold lead, then the text), built once through
    python-docx and copied for each paragraph."""
    paragraph = Paragraph(OxmlElement("w:p"), None)
    paragraph._p.insert(0, copy.deepcopy(_body_format()))
    if lead:
        paragraph.add_run("-").bold = True
    paragraph.add_run("-").italic = italic
    return paragraph._p


def add_paragraph(
    doc: DocxDocument, text: str, *, lead: str | None = None, italic: bool = False
) -> Paragraph:
    """A body paragraph (justified, indented first line); ``lead`` in bold before the text."""
    p = copy.deepcopy(_paragraph_template(bool(lead), italic))
    for run, value in zip(p.iterchildren(qn("w:r")), [lead, text] if lead else [text], strict=True):
        set_run_text(run, value)
    return _append_to_body(doc, p)


def add_bullet(doc: DocxDocument, text: str, *, lead: str | None = None) -> Paragraph:
    """A '- ' item as Vietnamese documents write lists (no Word bullets): '- Lead: text'."""
    if lead:
        return add_paragraph(doc, text, lead=f"- {lead}: ")
    return add_paragraph(doc, f"- {text}")


def add_picture(
    doc: DocxDocument, png: bytes, *, width_cm: float, caption: str | None = None
) -> None:
    """A centred picture, with an italic caption under it."""
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))
    if caption:
        line(doc, caption, size=13, italic=True).paragraph_format.space_after = Pt(6)


def add_picture_grid(doc: DocxDocument, pngs: Sequence[bytes], *, columns: int = 2) -> Table:
    """Pictures side by side, ``columns`` per row, in a borderless table filling the width."""
    width = TEXT_WIDTH_CM / columns
    table = borderless_table(doc, (len(pngs) + columns - 1) // columns, [width] * columns)
    # Drawing ids numbered from one look-up: python-docx's ``add_picture`` searches the whole
    # document for the ids in use at every picture (seconds after a table of every commune).
    first_id = doc.part.next_id
    for index, png in enumerate(pngs):
        paragraph = table.cell(index // columns, index % columns).paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        r_id, image = doc.part.get_or_add_image(io.BytesIO(png))
        cx, cy = image.scaled_dimensions(Cm(width - 2 * CELL_MARGIN_CM), None)
        inline = CT_Inline.new_pic_inline(first_id + index, r_id, image.filename, cx, cy)
        paragraph.add_run()._r.add_drawing(inline)
    return table


def add_page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def repack_zip(data: bytes) -> bytes:
    """The zip ``data`` with every entry dated 01/01/2000, so that the same document gives the
    same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(zipfile.ZipInfo(item.filename, ZIP_DATE), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def to_bytes(doc: DocxDocument) -> bytes:
    """The DOCX bytes; the same document gives the same bytes."""
    saved = io.BytesIO()
    doc.save(saved)
    return repack_zip(saved.getvalue())
