"""A report annex's sheets: a heading, the report it goes with, then a ruled table whose
header row repeats on every printed page, numbers kept as numbers, and every wrapped row as tall
as its text (LibreOffice draws a wrapped cell over the rows below a row of default height).

Used by the yearly annex (``documents.content_xlsx``) and the evaluation's (``documents.evaluation_annex``),
written with ``documents.xlsx_writer``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from documents.xlsx_parts import Font, Style
from documents.xlsx_writer import Sheet, letters_of, workbook_bytes

FONT = "Times New Roman"
HEADER_ROW = 4  # rows 1-2: title and reference; row 4: column names; data from row 5
NUMBER_FORMAT = "#,##0.####"
INTEGER_FORMAT = "#,##0"  # the format above shows a whole number with a trailing separator
TITLE = Style(Font(FONT, 13, bold=True), align="none")
REFERENCE = Style(Font(FONT, 11, italic=True), align="none")
HEADER = Style(Font(FONT, 11, bold=True), align="center", border="000000")
TEXT = Style(Font(FONT, 11), align="wrap", border="000000")
NUMBER = Style(Font(FONT, 11), align="wrap", border="000000", number_format=NUMBER_FORMAT)
INTEGER = Style(Font(FONT, 11), align="wrap", border="000000", number_format=INTEGER_FORMAT)
LINE_HEIGHT_PT = 15  # one line of 11 pt Times New Roman, with its leading
CHARACTERS_PER_WIDTH = 1.4  # Times New Roman 11 pt: ~1.4 Vietnamese letters per width unit
def lines_in(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` units wide (each of its own
    lines wrapped at word boundaries, as the spreadsheet does)."""
    per_line = max(int(width * CHARACTERS_PER_WIDTH) - 1, 1)
    count = 0
    for paragraph in str(text).split("\n"):
        used, lines = 0, 1
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > per_line:
                lines, used = lines + 1, size
            else:
                used += size + (1 if used else 0)
            while used > per_line:  # a word longer than the column
                lines, used = lines + 1, used - per_line
        count += lines
    return count


def row_height(values: Sequence[object], widths: Sequence[float]) -> float | None:
    """The height a row needs for its longest wrapped cell (None: one line is enough).
    LibreOffice draws a wrapped cell over the rows below when the row keeps its default
    height; Excel and LibreOffice both honour a set height."""
    lines = max(
        (lines_in(v, w) for v, w in zip(values, widths, strict=False) if isinstance(v, str)),
        default=1,
    )
    return None if lines <= 1 else lines * LINE_HEIGHT_PT + 2


def _cell(value: object) -> tuple[object, Style]:
    """The value as the sheet stores it (a Decimal as a float, yes/no in words), with its
    style."""
    if isinstance(value, bool):
        return ("Có" if value else "Không"), TEXT
    if not isinstance(value, Decimal | float | int):
        return value, TEXT
    number = float(value) if isinstance(value, Decimal) else value
    return number, INTEGER if float(number).is_integer() else NUMBER


def table_sheet(
    title: str,
    heading: str,
    reference: str,
    columns: Sequence[tuple[str, float]],
    rows: Sequence[Sequence[object]],
) -> Sheet:
    """A sheet of an annex: ``heading`` (bold) and ``reference`` (which report it goes with,
    italic) above a ruled table of ``columns`` (name, width) repeated on every printed page;
    numbers stay numbers."""
    sheet = Sheet(
        title,
        widths={letters_of(n): width for n, (_, width) in enumerate(columns, start=1)},
        frozen_rows=HEADER_ROW,
        print_title_row=HEADER_ROW,
        landscape=True,
        footer="&CTrang &P / &N",
        protected=False,
    )
    sheet.set("A1", heading, TITLE)
    sheet.set("A2", reference, REFERENCE)
    widths = [width for _, width in columns]
    names = [name for name, _ in columns]
    sheet.set_row(HEADER_ROW, names, [HEADER] * len(columns))
    if height := row_height(names, widths):
        sheet.heights[HEADER_ROW] = height
    for r, values in enumerate(rows, start=HEADER_ROW + 1):
        cells = [_cell(value) for value in values]
        sheet.set_row(r, [value for value, _ in cells], [style for _, style in cells])
        if height := row_height(values, widths):
            sheet.heights[r] = height
    return sheet


def annex_bytes(sheets: Sequence[Sheet], *, title: str, created: dt.date | None) -> bytes:
    """The workbook of a report's annex, open to editing, dated the day of the report (a draft:
    01/01/2000), so that the same report gives the same bytes."""
    return workbook_bytes(
        sheets,
        title=title,
        creator="r42-reporting",
        lock_structure=False,
        created=dt.datetime.combine(created or dt.date(2000, 1, 1), dt.time()),
    )
