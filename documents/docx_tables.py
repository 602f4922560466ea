"""Ruled tables of the report documents: header row repeated on every page, fixed widths that
Word and LibreOffice both respect, and rows copied from a prepared first one (a table of every
commune has thousands)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table

from documents.docx_parts import (
    BODY_PT,
    MARGINS_MM,
    PAGE_MM,
    TABLE_CELL_MARGIN_CM,
    TEXT_WIDTH_CM,
    line,
    set_run_text,
    set_widths,
)
from documents.docx_text import keep_whole, line_width_pt, longest_token_pt, no_break_hyphens

SLACK_PT = 1.5  # rounding in the layout engines
TABLE_PT = 11  # the least size a printed table is read at
LANDSCAPE_TEXT_WIDTH_CM = (PAGE_MM[1] - MARGINS_MM["left"] - MARGINS_MM["right"]) / 10  # 25,2


def _column_needs(
    columns: Sequence[str], rows: Sequence[Sequence[str]], size: float
) -> tuple[list[float], list[float]]:
    """Per column, in points: its widest unbreakable token and its widest line, with margins."""
    margin = 2 * TABLE_CELL_MARGIN_CM / 2.54 * 72 + SLACK_PT
    texts = [[keep_whole(str(row[c])) for row in rows] for c in range(len(columns))]
    least = [
        max([longest_token_pt(name, size, bold=True)] + [longest_token_pt(t, size) for t in col])
        + margin
        for name, col in zip(columns, texts, strict=True)
    ]
    most = [
        max([line_width_pt(name, size, bold=True)] + [line_width_pt(t, size) for t in col])
        + margin
        for name, col in zip(columns, texts, strict=True)
    ]
    return least, most


def content_widths(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    size: float,
    total_cm: float,
    wide: int | None = None,
) -> list[float] | None:
    """Column widths from their content, filling ``total_cm``: each column at least as wide as
    its widest unbreakable token (so no word is cut: "ST" / "T"), the room left shared in
    proportion to how far each column is from fitting its widest line unbroken (what remains
    then goes to the ``wide`` column, by default the one with the widest text).
    None when the tokens alone need more than ``total_cm`` (a landscape page, then)."""
    least, most = _column_needs(columns, rows, size)
    total = total_cm / 2.54 * 72
    if sum(least) > total:
        return None
    wide = most.index(max(most)) if wide is None else wide
    spare = total - sum(least)
    wants = [m - w for m, w in zip(most, least, strict=True)]
    if sum(wants) <= spare:  # every line fits unbroken: the rest to the ``wide`` column
        widths = list(most)
        widths[wide] += total - sum(most)
    else:  # the spare room shared in proportion to what each column lacks
        widths = [w + spare * want / sum(wants) for w, want in zip(least, wants, strict=True)]
    return [w / 72 * 2.54 for w in widths]


def _cell_margins(table: Table, margin_cm: float) -> None:
    """Left and right cell margins of the whole table (narrow columns keep their words whole)."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(round(margin_cm / 2.54 * 1440)))
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    table._tbl.tblPr.append(margins)


def _repeat_header(row) -> None:  # type: ignore[no-untyped-def]
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def add_table(
    doc: DocxDocument,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths_cm: Sequence[float],
    align: Sequence[str] | None = None,
    size: float = 11,
    caption: str | None = None,
) -> Table:
    """A ruled table: bold header row repeated on every page, ``align`` per column."""
    if caption:
        line(doc, caption, size=BODY_PT, italic=True).paragraph_format.space_before = Pt(6)
    align = align or ["left"] * len(columns)
    # The header and the first data row are built through python-docx; later rows are copies
    # of that first row with their texts replaced (the API costs ~0.2 ms a cell: seconds for a
    # table of every commune).
    table = doc.add_table(rows=1 + min(len(rows), 1), cols=len(columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    set_widths(table, widths_cm)
    _cell_margins(table, TABLE_CELL_MARGIN_CM)
    _repeat_header(table.rows[0])
    for r, (row, values) in enumerate(zip(table.rows, [list(columns), *rows[:1]], strict=True)):
        for c, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            paragraph.alignment = getattr(
                WD_ALIGN_PARAGRAPH, "CENTER" if r == 0 else align[c].upper()
            )
            run = paragraph.add_run(keep_whole(str(value)))
            no_break_hyphens(run._r)
            run.font.size, run.bold = Pt(size), r == 0
    if len(rows) > 1:
        template = table.rows[1]._tr
        for values in rows[1:]:
            tr = copy.deepcopy(template)
            runs = [tc.find(f"{qn('w:p')}/{qn('w:r')}") for tc in tr.tc_lst]
            for run_element, value in zip(runs, values, strict=True):
                set_run_text(run_element, str(value))
            table._tbl.append(tr)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    return table


def start_section(doc: DocxDocument, *, landscape: bool) -> None:
    """What follows on a new page, landscape or portrait (Decree 30 margins; page numbers go on,
    at the top of the section's first page too)."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    width, height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.different_first_page_header_footer = False


def add_fitted_table(
    doc: DocxDocument,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    align: Sequence[str],
    wide: int = 1,
    caption: str | None = None,
) -> bool:
    """A ruled table at 11 pt with its column widths from content (:func:`content_widths`);
    on landscape pages of its own when its unbreakable tokens do not fit the portrait width.
    Returns whether it went landscape."""
    widths = content_widths(columns, rows, size=TABLE_PT, total_cm=TEXT_WIDTH_CM, wide=wide)
    landscape = widths is None
    if landscape:
        start_section(doc, landscape=True)
        widths = content_widths(
            columns, rows, size=TABLE_PT, total_cm=LANDSCAPE_TEXT_WIDTH_CM, wide=wide
        )
        if widths is None:  # still too many columns: their least widths, scaled to the page
            least, _ = _column_needs(columns, rows, TABLE_PT)
            widths = [w * LANDSCAPE_TEXT_WIDTH_CM / sum(least) for w in least]
    add_table(doc, columns, rows, widths_cm=widths, align=align, size=TABLE_PT, caption=caption)
    if landscape:
        start_section(doc, landscape=False)
    return landscape
