"""Write a small XLSX (SpreadsheetML parts in a zip) directly: what the Excel form needs, fast.

openpyxl builds an object per cell and style and serialises through an XML tree: 17-25 ms for
one agency's form, 80-110 s for 4,500. The form only needs text and number cells, a handful of
styles, column widths, row heights, merged cells, frozen panes, list and input-message data
validations, one hyperlink, sheet and workbook protection, print setup and hidden sheets, so
this module writes those parts as strings (about a millisecond a form; benchmarks/README.md).

What it writes and why:
- Text as inline strings (``t="inlineStr"``) in UTF-8, XML-escaped; characters XML 1.0 cannot
  carry (C0 controls but tab and newline, lone surrogates, U+FFFE/U+FFFF) are dropped.
- Every style also gets a twin with ``quotePrefix``: text that starts like a formula ("=", "+",
  "-", "@") is shown and kept as text when the cell is edited.
- Parts are ordered as ECMA-376 requires (Excel repairs files whose elements are out of order);
  zip entries carry a fixed timestamp, so the same input gives the same bytes
  (``documents.xlsx_zip``, which also reuses parts compressed once).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from documents.xlsx_parts import (  # Font and Style are used by the form builders
    MAIN,
    REL,
    XML,
    Style,
    attribute,
    clean,
    core_xml,
    escape,
    package_parts,
    relationships,
    stylesheet,
    workbook_xml,
)
from documents.xlsx_zip import Piece, archive, cached_piece

QUOTED_START = ("=", "+", "-", "@", "\t", "\r")
# What a protected sheet still allows: selecting cells, resizing columns and rows (0 = allowed).
PROTECTION = (
    '<sheetProtection sheet="1" objects="0" scenarios="0" selectLockedCells="0" '
    'selectUnlockedCells="0" formatCells="1" formatColumns="{columns}" formatRows="{rows}" '
    'insertColumns="1" insertRows="1" insertHyperlinks="1" deleteColumns="1" deleteRows="1" '
    'sort="1" autoFilter="1" pivotTables="1"/>'
)


@dataclass(frozen=True)
class Validation:
    """A data validation: a drop-down list when ``choices`` is set, else an input message."""

    cells: tuple[str, ...]
    prompt_title: str
    prompt: str
    choices: tuple[str, ...] = ()
    error_title: str = ""
    error: str = ""

    def xml(self) -> str:
        refs = " ".join(self.cells)
        prompt = f'promptTitle="{attribute(self.prompt_title)}" prompt="{attribute(self.prompt)}"'
        if not self.choices:
            return (
                f'<dataValidation allowBlank="1" showInputMessage="1" showErrorMessage="0" '
                f'{prompt} sqref="{refs}"/>'
            )
        formula = escape(clean('"' + ",".join(self.choices) + '"'))
        return (
            f'<dataValidation type="list" allowBlank="1" showInputMessage="1" '
            f'showErrorMessage="1" errorTitle="{attribute(self.error_title)}" '
            f'error="{attribute(self.error)}" {prompt} sqref="{refs}">'
            f"<formula1>{formula}</formula1></dataValidation>"
        )


@functools.lru_cache(maxsize=256)
def column_index(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def split_ref(ref: str) -> tuple[int, int]:
    """'G12' -> (7, 12)."""
    letters = ref.rstrip("0123456789")
    return column_index(letters), int(ref[len(letters) :])


@dataclass
class Sheet:
    """One worksheet being built; cells may be set in any order."""

    name: str
    widths: dict[str, float]
    hidden_columns: tuple[str, ...] = ()
    state: str = "visible"  # or "veryHidden": only a program can show it again
    cells: dict[int, dict[int, tuple[object, Style]]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (cell, external URL)
    frozen_rows: int = 0  # rows kept in view above the scrolled part
    print_title_row: int | None = None  # repeated at the top of every printed page
    landscape: bool | None = None  # None: no page setup (a hidden sheet)
    footer: str = ""  # e.g. "&CTrang &P / &N"
    protected: bool = True  # sheet protection (the forms); a report's annex is left open
    xml: str | None = None  # the worksheet part already written (see ``render``), if any
    pieces: tuple[Piece, ...] | None = None  # or already compressed (``documents.xlsx_cache``)

    def set(self, ref: str, value: object, style: Style) -> None:
        column, row = split_ref(ref)
        self.cells.setdefault(row, {})[column] = (value, style)

    def set_row(self, row: int, values: Sequence[object], styles: Sequence[Style]) -> None:
        """Row ``row`` from column A: each value with its style (thousands of rows: no refs)."""
        self.cells[row] = {
            column: cell for column, cell in enumerate(zip(values, styles, strict=True), start=1)
        }


@functools.lru_cache(maxsize=256)
def letters_of(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_xml(ref: str, value: object, style: int, quoted_offset: int) -> str:
    if value is None:
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    text = clean(str(value))
    if text.startswith(QUOTED_START):
        style += quoted_offset
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def sheet_xml(sheet: Sheet, style_ids: dict[Style, int], quoted_offset: int) -> str:
    parts = [XML + f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">']
    if sheet.landscape is not None:
        parts.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
    rows = sorted(sheet.cells)
    last_column = max((max(c) for c in sheet.cells.values()), default=1)
    parts.append(f'<dimension ref="A1:{letters_of(last_column)}{max(rows, default=1)}"/>')
    top = f"A{sheet.frozen_rows + 1}"
    if sheet.frozen_rows:
        parts.append(
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{sheet.frozen_rows}" '
            f'topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
            "</sheetView></sheetViews>"
        )
    else:
        parts.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    parts.append('<sheetFormatPr defaultRowHeight="15"/><cols>')
    for letters, width in sorted(sheet.widths.items(), key=lambda item: column_index(item[0])):
        n = column_index(letters)
        hidden = ' hidden="1"' if letters in sheet.hidden_columns else ""
        parts.append(f'<col min="{n}" max="{n}" width="{width:g}" customWidth="1"{hidden}/>')
    parts.append("</cols><sheetData>")
    for row in rows:
        height = sheet.heights.get(row)
        attrs = f' ht="{height:g}" customHeight="1"' if height else ""
        parts.append(f'<row r="{row}"{attrs}>')
        for column, (value, style) in sorted(sheet.cells[row].items()):
            ref = f"{letters_of(column)}{row}"
            parts.append(cell_xml(ref, value, style_ids[style], quoted_offset))
        parts.append("</row>")
    parts.append("</sheetData>")
    if sheet.protected:
        protect_format = "0" if sheet.landscape is not None else "1"
        parts.append(PROTECTION.format(columns=protect_format, rows=protect_format))
    if sheet.merged:
        merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in sheet.merged)
        parts.append(f'<mergeCells count="{len(sheet.merged)}">{merges}</mergeCells>')
    if sheet.validations:
        rules = "".join(v.xml() for v in sheet.validations)
        parts.append(f'<dataValidations count="{len(sheet.validations)}">{rules}</dataValidations>')
    if sheet.link:
        parts.append(f'<hyperlinks><hyperlink ref="{sheet.link[0]}" r:id="rId1"/></hyperlinks>')
    if sheet.landscape is not None:
        orientation = "landscape" if sheet.landscape else "portrait"
        parts.append(
            '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" '
            f'footer="0.3"/><pageSetup paperSize="9" orientation="{orientation}" '
            'fitToWidth="1" fitToHeight="0"/>'
        )
        if sheet.footer:
            parts.append(
                f"<headerFooter><oddFooter>{escape(sheet.footer)}</oddFooter></headerFooter>"
            )
    parts.append("</worksheet>")
    return "".join(parts)


def render(sheet: Sheet, styles: Sequence[Style]) -> Sheet:
    """``sheet`` with its part written, for a workbook whose styles are exactly ``styles``.

    A sheet that many workbooks share (the same rows, only a name differs) can be written
    once and its XML reused: see ``documents.excel_form``.
    """
    style_ids = {style: number for number, style in enumerate(styles, start=1)}
    sheet.xml = sheet_xml(sheet, style_ids, len(styles))
    return sheet


def workbook_bytes(
    sheets: Sequence[Sheet],
    *,
    title: str,
    creator: str,
    styles: Sequence[Style] = (),
    lock_structure: bool = True,
    created: dt.datetime | None = None,
) -> bytes:
    """The XLSX file: sheets in order (the first one active), structure locked unless
    ``lock_structure`` is false; ``created`` is stamped as its creation and modification time.

    ``styles`` fixes the style table (needed when sheets were ``render``-ed beforehand);
    by default it is every style the cells use, in order of first use.
    """
    if not styles:
        used: dict[Style, None] = {}
        for sheet in sheets:
            for row in sheet.cells.values():
                for _, style in row.values():
                    used[style] = None
        styles = tuple(used)
    style_ids = {style: number for number, style in enumerate(styles, start=1)}
    shared = {
        **package_parts(len(sheets)),
        "xl/workbook.xml": workbook_xml(sheets, lock_structure=lock_structure),
    }
    shared["xl/styles.xml"] = stylesheet(tuple(styles))
    shared["docProps/core.xml"] = core_xml(title, creator, created)
    parts = [(name, (cached_piece(text),)) for name, text in shared.items()]
    for number, sheet in enumerate(sheets, start=1):
        pieces = sheet.pieces
        if pieces is None:
            xml = sheet.xml or sheet_xml(sheet, style_ids, len(styles))
            pieces = (Piece.of(xml.encode("utf-8")),)
        parts.append((f"xl/worksheets/sheet{number}.xml", pieces))
        if sheet.link:
            links = relationships([(f"{REL}/hyperlink", sheet.link[1], ' TargetMode="External"')])
            parts.append(
                (f"xl/worksheets/_rels/sheet{number}.xml.rels", (Piece.stored(links.encode()),))
            )
    return archive(parts)
