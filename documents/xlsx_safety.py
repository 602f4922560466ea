"""Checks a spreadsheet passes before any XML parser sees it: size, zip bombs, XML bombs."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from typing import NoReturn

from openpyxl import Workbook, load_workbook

from documents.vietnamese import format_number

NOT_XLSX = (
    "Tệp không phải là tệp Excel (.xlsx). Vui lòng mở tệp bằng Excel hoặc LibreOffice rồi lưu "
    "lại dưới dạng .xlsx (Excel Workbook) và tải lên lại."
)
ODS = (
    "Tệp là bảng tính OpenDocument (.ods), không phải tệp Excel. Vui lòng mở bằng LibreOffice "
    "hoặc Excel, chọn Lưu thành (Save As) và lưu lại dưới dạng .xlsx (Excel Workbook)."
)
UNSAFE = "Tệp có nội dung không an toàn ({what}) nên không được xử lý; vui lòng dùng biểu mẫu gốc."
CORRUPT = (
    "Tệp bị hỏng, không đọc được. Vui lòng tải lại biểu mẫu từ đường dẫn trong thư, điền lại "
    "rồi tải lên (hoặc mở tệp bằng Excel, lưu lại dưới dạng .xlsx rồi gửi lại)."
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or an .xlsx encrypted with a password
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
MAX_MEMBERS, MAX_RATIO, RATIO_FLOOR = 1000, 200, 1_000_000
CHUNK = 64 * 1024
# What a form can hold, with a margin: its sheets have at most a few hundred rows and a dozen
# columns (the review round's form a column a year). Past this a sheet is refused while it is
# streamed, before openpyxl builds a cell of it (3 million cells in one row cost 1.7 GB there).
MAX_SHEET_ROWS, MAX_SHEET_COLUMNS = 2000, 60
MAX_SHEET_CELLS = 60_000
TOO_MANY_CELLS = (
    "Trang tính «{part}» có quá nhiều ô ({what}), vượt xa những gì biểu mẫu có "
    "(tối đa {rows} dòng, {columns} cột). Vui lòng dùng biểu mẫu gốc và chỉ điền vào các ô "
    "của biểu mẫu."
)
CELL_TAGS = re.compile(rb"<(?:\w{1,8}:)?(row|c|dimension)[\s>/]")
DIMENSION = re.compile(
    rb'<(?:\w{1,8}:)?dimension\s+ref="([A-Za-z]{1,3})(\d{1,7})(?::([A-Za-z]{1,3})(\d{1,7}))?"'
)
CELL_REF = re.compile(rb'\sr="([A-Za-z]{1,3})(\d{1,7})"')
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, OSError, EOFError)
# What openpyxl raises on a damaged workbook, opening it or reading a sheet (parsed lazily).
READ_ERRORS = (*ZIP_ERRORS, ValueError, KeyError, TypeError, IndexError, SyntaxError)


class ExcelFormError(ValueError):
    """The file was refused; ``errors`` says why in Vietnamese, naming cells. Nothing stored."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def refuse(*errors: str) -> NoReturn:
    raise ExcelFormError(list(errors))


def megabytes(size: int) -> str:
    return f"{format_number(round(Decimal(size) / 1_000_000, 1))} MB"


def check_archive(data: bytes, *, max_bytes: int, max_unpacked: int) -> None:
    """Refuse what openpyxl should never parse: empty, too big, not a zip, bombs, DTDs."""
    if not data:
        refuse("Tệp rỗng, không có nội dung.")
    if len(data) > max_bytes:
        refuse(f"Tệp quá lớn: chỉ nhận tệp có dung lượng tối đa {megabytes(max_bytes)}.")
    if data.startswith(OLE_MAGIC):
        refuse(
            "Tệp là định dạng Excel cũ (.xls) hoặc đã đặt mật khẩu; vui lòng "
            "lưu lại thành tệp .xlsx không đặt mật khẩu."
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        refuse(CORRUPT if data.startswith(b"PK") else NOT_XLSX)  # a zip cut short: damaged
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            check_sizes(members, max_unpacked)
            names = {m.filename for m in members}
            if "mimetype" in names and b"opendocument" in archive.read("mimetype")[:100]:
                refuse(ODS)
            if not all(part in names for part in REQUIRED_PARTS):
                refuse(NOT_XLSX)
            budget = max_unpacked
            for member in members:
                sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                    ".xml"
                )
                budget -= scan_member(archive, member, budget, count_cells=sheet)
    except ZIP_ERRORS:  # encrypted parts, unknown compression, bad CRC...
        refuse(CORRUPT)


def check_sizes(members: list[zipfile.ZipInfo], max_unpacked: int) -> None:
    """Declared sizes: too many parts, too much once unpacked, or compressed absurdly well."""
    bomb = UNSAFE.format(what="dữ liệu nén bất thường")
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > max_unpacked:
        refuse(bomb)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            refuse(bomb)


def scan_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int, *, count_cells: bool = False
) -> int:
    """Stream one part, bounded by ``budget`` bytes; refuse DTDs and entity declarations, and
    (``count_cells``, a worksheet) a sheet larger than a form can be."""
    read, tail = 0, b""
    cells = CellCount(member.filename.rsplit("/", 1)[-1]) if count_cells else None
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            if read > budget:
                refuse(UNSAFE.format(what="dữ liệu nén bất thường"))
            if cells is not None:
                cells.feed(chunk)
            window = tail + chunk.replace(b"\x00", b"").upper()  # NULs: UTF-16 parts too
            if any(marker in window for marker in FORBIDDEN):
                refuse(UNSAFE.format(what="khai báo DOCTYPE/ENTITY trong XML"))
            tail = window[-16:]
    return read


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


class CellCount:
    """A worksheet's rows and cells counted as its XML streams by: the declared dimension, the
    cells of each row and in all, and every cell reference, against what a form holds."""

    def __init__(self, part: str):
        self.part, self.tail = part, b""
        self.rows = self.cells = self.in_row = 0

    def refuse(self, what: str) -> None:
        refuse(
            TOO_MANY_CELLS.format(
                part=self.part,
                what=what,
                rows=format_number(MAX_SHEET_ROWS),
                columns=MAX_SHEET_COLUMNS,
            )
        )

    def check_place(self, column: bytes, row: bytes) -> None:
        if column_number(column) > MAX_SHEET_COLUMNS:
            self.refuse(f"cột {column.decode().upper()}")
        if int(row) > MAX_SHEET_ROWS:
            self.refuse(f"dòng {format_number(int(row))}")

    def feed(self, chunk: bytes) -> None:
        window, start = self.tail + chunk, len(self.tail)
        for match in CELL_TAGS.finditer(window):
            if match.end() <= start:  # counted with the previous chunk
                continue
            tag = match.group(1)
            if tag == b"c":
                self.cells, self.in_row = self.cells + 1, self.in_row + 1
                if self.in_row > MAX_SHEET_COLUMNS:
                    self.refuse(f"hơn {MAX_SHEET_COLUMNS} ô trên một dòng")
                if self.cells > MAX_SHEET_CELLS:
                    self.refuse(f"hơn {format_number(MAX_SHEET_CELLS)} ô")
                ref = CELL_REF.match(window, match.end() - 1, match.end() + 24)
                if ref is not None:
                    self.check_place(ref.group(1), ref.group(2))
            elif tag == b"row":
                self.rows, self.in_row = self.rows + 1, 0
                if self.rows > MAX_SHEET_ROWS:
                    self.refuse(f"hơn {format_number(MAX_SHEET_ROWS)} dòng")
            else:
                dimension = DIMENSION.match(window, match.start())
                if dimension is not None and dimension.group(3):
                    self.check_place(dimension.group(3), dimension.group(4))
        self.tail = window[-64:]


def open_workbook(data: bytes, *, max_bytes: int, max_unpacked: int) -> Workbook:
    """The uploaded workbook, read-only, once its archive passed the checks; ExcelFormError
    (CORRUPT) when openpyxl cannot open it."""
    check_archive(data, max_bytes=max_bytes, max_unpacked=max_unpacked)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except READ_ERRORS:
        refuse(CORRUPT)
