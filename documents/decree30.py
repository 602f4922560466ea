"""The layout of a Vietnamese administrative document (Decree 30/2020/NĐ-CP, Appendix I), in DOCX.

Reusable by any report (the yearly report, the mid-term and final evaluations): the content
modules call these functions in order on a python-docx ``Document``::

    doc = new_document()                                  # A4, margins, Times New Roman 14
    add_draft_mark(doc, "Tổng hợp ngày 05/12/2026")       # drafts only
    add_header(doc, Header.from_registry(registry_document, number=None, day=None))
    add_title(doc, "BÁO CÁO", "Kết quả thực hiện ... năm 2026")
    add_heading(doc, "I. KẾT QUẢ ...", 1); add_paragraph(doc, "..."); add_bullet(doc, "...")
    add_table(doc, ["STT", "Chỉ tiêu"], rows, widths_cm=[1.0, 15.5])
    add_picture(doc, png_bytes, width_cm=15)
    add_closing(doc, registry_document["recipients"], Signature.from_registry(...))
    data = to_bytes(doc)

What the decree fixes and where it is done here:
- A4 (210 x 297 mm); margins top 20, bottom 20, left 30, right 15 mm (within 20-25 / 20-25 /
  30-35 / 15-20); Times New Roman; body 14 pt, justified, first line indented 1,27 cm, 6 pt
  between paragraphs, single to 1,5 line spacing (:func:`new_document`, :func:`add_paragraph`).
- Top right, the national title in capitals 13 pt bold and the motto 14 pt bold with a solid
  rule under it as long as the motto; top left, the issuing body in capitals 13 pt bold with a
  rule 1/3-1/2 of its length; under them, "Số: 05/BC-UBND" (13 pt) on the left and the italic
  place-and-date line (14 pt) on the right (:func:`add_header`).
- The document type in capitals 14 pt bold, its summary 14 pt bold, a short rule under it
  (:func:`add_title`); parts numbered I, II... in bold capitals (:func:`add_heading`).
- "Nơi nhận:" 12 pt bold italic, recipients 11 pt, each "- ...;", the last "- Lưu: VT, ...."
  on the left; the signature block (authority, deputy, title in bold capitals, the name in
  bold) on the right (:func:`add_closing`).
- Page numbers centred at the top of every page but the first (different first page header,
  PAGE field) (:func:`new_document`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from documents import docx_parts as parts
from documents.docx_parts import (  # noqa: F401  (re-exported: the body of any document)
    BODY_PT,
    FONT,
    MARGINS_MM,
    PAGE_MM,
    TEXT_WIDTH_CM,
    TEXT_WIDTH_PT,
    add_bullet,
    add_heading,
    add_page_break,
    add_paragraph,
    add_picture,
    add_picture_grid,
    text_width_pt,
    to_bytes,
)
from documents.docx_tables import add_fitted_table, add_table  # noqa: F401  (re-exported)
from documents.letterhead import (  # noqa: F401  (re-exported: the letterhead of any document)
    Header,
    Signature,
    issuer_name,
    province_name,
)

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
HEADER_WIDTHS_CM = (6.3, 10.2)  # issuing body | national title


def set_properties(doc: DocxDocument, *, title: str, author: str, day: dt.date | None) -> None:
    """Title and author in the file's properties; its dates fixed (same input, same bytes)."""
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.revision = 1
    stamp = dt.datetime.combine(day or dt.date(2000, 1, 1), dt.time())
    props.created = props.modified = props.last_printed = stamp


def add_heading_centred(
    doc: DocxDocument, text: str, *, bold: bool = True, italic: bool = False
) -> Paragraph:
    """A centred line in body size (appendix titles, 'PHỤ LỤC')."""
    paragraph = parts.line(doc, text, bold=bold, italic=italic)
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def new_document(*, landscape: bool = False) -> DocxDocument:
    """An empty A4 document: Decree 30 margins and fonts, page numbers from page 2."""
    doc = Document()
    for name in ("Normal", "Header", "Footer", "Table Grid"):
        style = doc.styles[name]
        parts.set_fonts(style.element)
        if name != "Table Grid":
            style.font.name, style.font.size = FONT, Pt(BODY_PT)
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(0), 1.0
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    parts.add_field(paragraph, "PAGE", size=13)
    # A line ending in a line break (an agency's second text) is not stretched to the margin
    # in a justified paragraph (Word's and LibreOffice's "do not expand shift-return").
    compat = doc.settings.element.find(qn("w:compat"))
    if compat is None:
        compat = OxmlElement("w:compat")
        doc.settings.element.append(compat)
    compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))
    return doc


def add_draft_mark(doc: DocxDocument, note: str) -> None:
    """'DỰ THẢO' in a box above the header, and a note on what the draft is."""
    mark = parts.line(doc, "DỰ THẢO", size=13, bold=True, align="left")
    mark.runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    mark.paragraph_format.right_indent = Cm(TEXT_WIDTH_CM - 3.0)
    for side in ("top", "left", "bottom", "right"):
        parts.border(mark, side, size=12, space=2)
    parts.line(doc, note, size=11, italic=True, align="left").paragraph_format.space_after = Pt(6)


def add_header(doc: DocxDocument, header: Header) -> Table:
    """Issuing body and number (left), national title, motto and place-date (right)."""
    left_cm, right_cm = HEADER_WIDTHS_CM
    table = parts.borderless_table(doc, 2, HEADER_WIDTHS_CM)
    body = parts.first_cell(table.cell(0, 0))
    if header.parent_body:
        parts.line(body, header.parent_body.upper(), size=13)
    for text in header.issuing_body:
        parts.line(body, text, size=13, bold=True)
    widest = max(text_width_pt(t, 13, bold=True) for t in header.issuing_body)
    parts.rule(body, widest * 0.4, parts.cell_text_pt(left_cm))
    title = parts.first_cell(table.cell(0, 1))
    parts.line(title, NATIONAL_TITLE, size=13, bold=True)
    parts.line(title, MOTTO, size=14, bold=True)
    # A rule of its own, as long as the motto: as the motto's bottom border, the indents that
    # shorten the border would also squeeze the motto onto two lines.
    parts.rule(title, text_width_pt(MOTTO, 14, bold=True), parts.cell_text_pt(right_cm))
    number = parts.line(parts.first_cell(table.cell(1, 0)), header.number_line, size=13)
    date = parts.line(
        parts.first_cell(table.cell(1, 1)), header.place_date_line, size=14, italic=True
    )
    for paragraph in (number, date):
        paragraph.paragraph_format.space_before = Pt(6)
    return table


def add_title(doc: DocxDocument, kind: str, summary: str) -> None:
    """'BÁO CÁO' and its summary line (bold, centred), with a short rule under the summary."""
    parts.line(doc, kind.upper(), bold=True).paragraph_format.space_before = Pt(18)
    line = parts.line(doc, summary, bold=True)
    widest = min(text_width_pt(summary, BODY_PT, bold=True), TEXT_WIDTH_PT)
    parts.rule(doc, widest * 0.4, TEXT_WIDTH_PT)
    line.paragraph_format.keep_with_next = True
    parts.last_paragraph(doc).paragraph_format.space_after = Pt(12)


def add_closing(doc: DocxDocument, recipients: Sequence[str], signature: Signature) -> Table:
    """'Nơi nhận:' and its lines (left), the signature block (right).

    ``recipients`` are the lines without the leading '- ' (as in the registry), the last one
    'Lưu: VT, ...'; each ends with ';' and the last with '.', added when missing.
    """
    if not recipients or not recipients[-1].startswith("Lưu"):
        raise ValueError("the recipients must end with the 'Lưu: VT, ...' line")
    closing_sentence = parts.last_paragraph(doc)
    if closing_sentence is not None:  # it goes to the next page with the signature
        closing_sentence.paragraph_format.keep_with_next = True
    spacer = doc.add_paragraph().paragraph_format
    spacer.space_before, spacer.keep_with_next = Pt(6), True
    table = parts.borderless_table(doc, 1, (7.0, TEXT_WIDTH_CM - 7.0))
    left = parts.first_cell(table.cell(0, 0))
    parts.line(left, "Nơi nhận:", size=12, bold=True, italic=True, align="left")
    for index, text in enumerate(recipients):
        end = "." if index == len(recipients) - 1 else ";"
        parts.line(left, f"- {text.rstrip(';.')}{end}", size=11, align="left")
    right = parts.first_cell(table.cell(0, 1))
    for text in (signature.authority, signature.deputy, signature.title):
        if text:
            parts.line(right, text.upper(), bold=True)
    for _ in range(4):
        parts.line(right, "")
    parts.line(right, signature.name or "", bold=True)
    parts.last_paragraph(doc).paragraph_format.keep_with_next = True
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    return table
