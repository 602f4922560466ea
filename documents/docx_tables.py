"""Ruled tables of the report documents: header row repeated on every page, fixed widths that
Word and LibreOffice both respect, and rows copied from a prepared first one (a table of every
commune has thousands)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table

from documents.docx_parts import BODY_PT, TABLE_CELL_MARGIN_CM, line, set_run_text, set_widths


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
            run = paragraph.add_run(str(value))
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
