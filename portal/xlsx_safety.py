"""Checks a spreadsheet passes before any XML parser sees it: size, zip bombs, XML bombs."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import NoReturn

from documents.vietnamese import format_number

NOT_XLSX = "Tệp không phải là tệp Excel (.xlsx)."
UNSAFE = "Tệp có nội dung không an toàn ({what}) nên không được xử lý; vui lòng dùng biểu mẫu gốc."
CORRUPT = "Tệp Excel bị hỏng hoặc không đọc được; vui lòng mở bằng Excel, lưu lại rồi gửi lại."
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or an .xlsx encrypted with a password
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
MAX_MEMBERS, MAX_RATIO, RATIO_FLOOR = 1000, 200, 1_000_000
CHUNK = 64 * 1024
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, OSError, EOFError)


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
        refuse(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            check_sizes(members, max_unpacked)
            names = {m.filename for m in members}
            if not all(part in names for part in REQUIRED_PARTS):
                refuse(NOT_XLSX)
            budget = max_unpacked
            for member in members:
                budget -= scan_member(archive, member, budget)
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


def scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """Stream one part, bounded by ``budget`` bytes; refuse DTDs and entity declarations."""
    read, tail = 0, b""
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            if read > budget:
                refuse(UNSAFE.format(what="dữ liệu nén bất thường"))
            window = tail + chunk.replace(b"\x00", b"").upper()  # NULs: UTF-16 parts too
            if any(marker in window for marker in FORBIDDEN):
                refuse(UNSAFE.format(what="khai báo DOCTYPE/ENTITY trong XML"))
            tail = window[-16:]
    return read
