"""The package parts of an XLSX besides its worksheets: styles, workbook, relationships."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_BOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
DEFAULT_FONT = '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
ALIGNMENTS = {
    "wrap": '<alignment vertical="top" wrapText="1"/>',
    "middle": '<alignment vertical="center"/>',
    "center": '<alignment horizontal="center" vertical="center" wrapText="1"/>',
    "none": "",  # a title line running over the next cells
}
FIRST_CUSTOM_FORMAT = 164  # number format ids below are built in


@dataclass(frozen=True)
class Font:
    name: str = "Times New Roman"
    size: float = 12
    bold: bool = False
    color: str | None = None  # RRGGBB
    underline: bool = False
    italic: bool = False

    def xml(self) -> str:
        bold = '<b val="1"/>' if self.bold else ""
        bold += '<i val="1"/>' if self.italic else ""
        under = '<u val="single"/>' if self.underline else ""
        color = f'<color rgb="FF{self.color}"/>' if self.color else ""
        return (
            f'<font>{bold}{under}<sz val="{self.size:g}"/>{color}<name val="{self.name}"/></font>'
        )


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: share instances
class Style:
    font: Font
    align: str = "wrap"  # a key of ALIGNMENTS
    fill: str | None = None  # RRGGBB, solid
    border: str | None = None  # RRGGBB of a thin box around the cell
    text_format: bool = False  # number format "@": what is typed stays text
    number_format: str | None = None  # or a format code for numbers, e.g. "#,##0.####"
    unlocked: bool = False  # editable on a protected sheet


class SheetHead(Protocol):
    """What the workbook part needs of a worksheet (``documents.xlsx_writer.Sheet``)."""

    name: str
    state: str
    print_title_row: int | None


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return ILLEGAL_XML.sub("", text)


def escape(text: str) -> str:
    """Element text: &, < and > escaped; CR kept as a character reference (parsers drop it)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def attribute(text: str) -> str:
    """An attribute value."""
    return escape(clean(text)).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


@functools.lru_cache(maxsize=16)
def stylesheet(styles: tuple[Style, ...]) -> str:
    """styles.xml: the default style 0, then ``styles``, then each again with quotePrefix."""
    fonts: list = [None]  # the default font, Calibri 11
    fills, borders, xfs = [None, "gray125"], [None], []
    formats: list[str] = []
    for style in styles:
        for table, item in ((fonts, style.font), (fills, style.fill), (borders, style.border)):
            if item not in table:
                table.append(item)
        if style.number_format and style.number_format not in formats:
            formats.append(style.number_format)
    for quoted in ("0", "1"):
        for style in styles:
            protection = '<protection locked="0"/>' if style.unlocked else ""
            number_format = 49 if style.text_format else 0
            if style.number_format:
                number_format = FIRST_CUSTOM_FORMAT + formats.index(style.number_format)
            xfs.append(
                f'<xf numFmtId="{number_format}" '
                f'fontId="{fonts.index(style.font)}" fillId="{fills.index(style.fill)}" '
                f'borderId="{borders.index(style.border)}" xfId="0" applyFont="1" '
                f'applyNumberFormat="{int(number_format != 0)}" '
                f'applyAlignment="1" applyProtection="1" quotePrefix="{quoted}">'
                f"{ALIGNMENTS[style.align]}{protection}</xf>"
            )
    format_xml = "".join(
        f'<numFmt numFmtId="{FIRST_CUSTOM_FORMAT + n}" formatCode="{attribute(code)}"/>'
        for n, code in enumerate(formats)
    )
    if formats:
        format_xml = f'<numFmts count="{len(formats)}">{format_xml}</numFmts>'

    fill_xml = ['<fill><patternFill patternType="none"/></fill>']
    fill_xml.append('<fill><patternFill patternType="gray125"/></fill>')
    fill_xml += [
        f'<fill><patternFill patternType="solid"><fgColor rgb="FF{c}"/><bgColor indexed="64"/>'
        "</patternFill></fill>"
        for c in fills[2:]
    ]
    border_xml = ["<border><left/><right/><top/><bottom/><diagonal/></border>"]
    for color in borders[1:]:
        side = f'style="thin"><color rgb="FF{color}"/>'
        border_xml.append(
            f"<border><left {side}</left><right {side}</right><top {side}</top>"
            f"<bottom {side}</bottom><diagonal/></border>"
        )
    return (
        XML + f'<styleSheet xmlns="{MAIN}">{format_xml}'
        f'<fonts count="{len(fonts)}">{DEFAULT_FONT}{"".join(f.xml() for f in fonts[1:])}</fonts>'
        f'<fills count="{len(fills)}">{"".join(fill_xml)}</fills>'
        f'<borders count="{len(borders)}">{"".join(border_xml)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs) + 1}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        f'{"".join(xfs)}</cellXfs><cellStyles count="1">'
        '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )


def workbook_xml(sheets: Sequence[SheetHead], *, lock_structure: bool = True) -> str:
    entries, names = [], []
    for number, sheet in enumerate(sheets, start=1):
        state = "" if sheet.state == "visible" else f' state="{sheet.state}"'
        entries.append(
            f'<sheet name="{attribute(sheet.name)}" sheetId="{number}"{state} r:id="rId{number}"/>'
        )
        if sheet.print_title_row:
            quoted = "'" + sheet.name.replace("'", "''") + "'"
            row = sheet.print_title_row
            names.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{number - 1}">'
                f"{escape(quoted)}!${row}:${row}</definedName>"
            )
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
    protection = '<workbookProtection lockStructure="1"/>' if lock_structure else ""
    return (
        XML + f'<workbook xmlns="{MAIN}" '
        f'xmlns:r="{REL}"><workbookPr/>{protection}'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets>{"".join(entries)}</sheets>{defined}<calcPr calcId="191029"/></workbook>'
    )


def relationships(targets: Iterable[tuple[str, str, str]]) -> str:
    """A .rels part from (type URL, target, extra attributes)."""
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="{attribute(target)}"{extra}/>'
        for n, (kind, target, extra) in enumerate(targets, start=1)
    )
    return XML + f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>'


@functools.lru_cache(maxsize=16)
def package_parts(count: int) -> dict[str, str]:
    """The parts that depend only on the number of sheets."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{CT_SHEET}"/>'
        for n in range(1, count + 1)
    )
    content_types = (
        XML + '<Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType='
        '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{CT_BOOK}"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/>'
        f'<Override PartName="/docProps/core.xml" ContentType="{CT_CORE}"/>{overrides}</Types>'
    )
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    book_rels = [
        (f"{office}/worksheet", f"worksheets/sheet{n}.xml", "") for n in range(1, count + 1)
    ]
    book_rels.append((f"{office}/styles", "styles.xml", ""))
    return {
        "[Content_Types].xml": content_types,
        "_rels/.rels": relationships(
            [
                (f"{office}/officeDocument", "xl/workbook.xml", ""),
                (f"{PKG_REL}/metadata/core-properties", "docProps/core.xml", ""),
            ]
        ),
        "xl/_rels/workbook.xml.rels": relationships(book_rels),
    }


def core_xml(title: str, creator: str, created: dt.datetime | None = None) -> str:
    """docProps/core.xml; ``created`` (naive, UTC) is also the time of last modification."""
    stamps = ""
    if created is not None:
        w3c = f"{created:%Y-%m-%dT%H:%M:%SZ}"
        stamps = "".join(
            f'<dcterms:{name} xsi:type="dcterms:W3CDTF">{w3c}</dcterms:{name}>'
            for name in ("created", "modified")
        )
    return (
        XML + "<cp:coreProperties xmlns:cp="
        '"http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(clean(title))}</dc:title><dc:creator>{escape(clean(creator))}"
        f"</dc:creator>{stamps}</cp:coreProperties>"
    )
