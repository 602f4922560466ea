"""A filled Excel form read back safely (size, zip bomb, XML bomb checks first): the submission
its cells hold, with the cell of every field and the identity it was built with. Recording it
for its request is ``reporting.excel_import``."""

from __future__ import annotations

import datetime as dt
import itertools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from documents import form_cells as form
from documents.form_identity import FORM_VERSION, META_KEYS, SIGNATURE
from documents.vietnamese import format_date, format_number
from documents.xlsx_safety import (
    CORRUPT,
    READ_ERRORS,
    ExcelFormError,
    open_workbook,
    refuse,
)
from reporting.submission_input import SubmissionInput, TaskReportInput

RELOAD = "Vui lòng dùng biểu mẫu gốc tải từ đường dẫn trong thư."
UNKNOWN_ROW = "Dòng {n} không thuộc biểu mẫu gốc (mã ẩn «{code}» không hợp lệ). " + RELOAD
COPIED_ROW = "Dòng {n} trùng với dòng {first} (dòng bị sao chép). " + RELOAD
MOVED_ROW = "«{found}» không khớp với dòng gốc «{expected}» (dòng bị di chuyển hoặc ghi đè). "
MOVED_ROW += RELOAD
MISSING_ROW = "Thiếu dòng «{label}» (dòng đã bị xoá). " + RELOAD
BAD_STATUS = "«{found}» không phải là tình trạng hợp lệ; chọn một trong: "
BAD_STATUS += ", ".join(form.STATUS_LABELS.values()) + "."
MAX_ROWS, MAX_TEXT = 1000, 20_000
STATUS_BY_TEXT = {
    " ".join(text.casefold().split()): code
    for code, label in form.STATUS_LABELS.items()
    for text in (label, code)
}


@dataclass
class ParsedForm:
    programme: str
    year: int
    kind: str
    agency: str
    submission: SubmissionInput
    cells: dict[str, str] = field(default_factory=dict)  # field name -> "Chỉ tiêu!G7"
    head: dict[str, str] = field(default_factory=dict)  # the hidden sheet's identity
    token: str | None = None  # the form's signed token (reporting.form_binding)
    names: list[str] = field(default_factory=list)  # the agency name each visible sheet shows


def text_of(value: Any) -> str:
    """A cell's content as trimmed NFC text (dates as dd/mm/yyyy)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def same_label(found: str, expected: str) -> bool:
    return " ".join(found.split()) == " ".join(unicodedata.normalize("NFC", expected).split())


def value_of(cell: Any, percent: bool) -> Any:
    """A value cell as given: text, number (0,995 formatted as % read as 99,5), bool, or None."""
    value = cell.value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if percent and "%" in (cell.number_format or ""):
            return Decimal(repr(value)) * 100
    return value


def rows_of(ws: ReadOnlyWorksheet, first: int, width: int) -> Iterator[tuple[int, tuple]]:
    """(row number, cells) from ``first``, ``width`` cells each, at most MAX_ROWS rows."""
    ws.reset_dimensions()  # never trust the declared dimension (it could claim a million rows)
    rows = ws.iter_rows(min_row=first, max_col=width)
    yield from enumerate(itertools.islice(rows, MAX_ROWS), start=first)


def sheet(workbook: Workbook, name: str) -> ReadOnlyWorksheet:
    if name not in workbook.sheetnames or not isinstance(workbook[name], ReadOnlyWorksheet):
        refuse(f"Không tìm thấy trang «{name}» trong tệp (trang bị đổi tên hoặc bị xoá). {RELOAD}")
    return workbook[name]


def read_meta(ws: ReadOnlyWorksheet) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The form's identity and, by kind, every row it was built with (code -> label)."""
    head: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {"indicator": {}, "task_group": {}}
    for _, cells in rows_of(ws, 1, 3):
        key, code, label = (text_of(c.value) for c in cells)
        if key in META_KEYS:
            head[key] = code
        elif key in rows and code:
            rows[key][code] = label
    if not all(head.get(key) for key in META_KEYS) or not head["year"].isdigit():
        refuse(f"Phần thông tin ẩn của biểu mẫu bị thiếu hoặc đã bị sửa. {RELOAD}")
    if head["version"] != FORM_VERSION:
        refuse(f"Biểu mẫu này là phiên bản khác, không còn dùng được. {RELOAD}")
    return head, rows


def keyed_rows(
    ws: ReadOnlyWorksheet, expected: dict[str, str], width: int, errors: list[str]
) -> dict[str, tuple[int, tuple]]:
    """code -> (row, cells), checking every hidden key and its label against the form's own."""
    found: dict[str, tuple[int, tuple]] = {}
    for n, cells in rows_of(ws, form.FIRST_ROW, width):
        code, label = text_of(cells[0].value), text_of(cells[2].value)
        if code and code not in expected:
            errors.append(f"{ws.title}!A{n}: " + UNKNOWN_ROW.format(n=n, code=code))
        elif code in found:
            errors.append(f"{ws.title}!A{n}: " + COPIED_ROW.format(n=n, first=found[code][0]))
        elif code:
            found[code] = (n, cells)
            if not same_label(label, expected[code]):
                errors.append(
                    f"{ws.title}!{form.LABEL_COL}{n}: "
                    + MOVED_ROW.format(found=label[:60], expected=expected[code][:60])
                )
    missing = [label for code, label in expected.items() if code not in found]
    errors.extend(f"{ws.title}: " + MISSING_ROW.format(label=label[:60]) for label in missing)
    return found


def long_text(cell: Any, where: str, errors: list[str]) -> str:
    text = text_of(cell.value)
    if len(text) > MAX_TEXT:
        errors.append(f"{where}: Nội dung quá dài (tối đa {format_number(MAX_TEXT)} ký tự).")
    return text


def read_indicators(
    ws: ReadOnlyWorksheet, expected: dict[str, str], parsed: ParsedForm, errors: list[str]
) -> None:
    """Values (as given; empty ones left out) and notes, with their cells."""
    data, cells = parsed.submission, parsed.cells
    for code, (n, row) in keyed_rows(ws, expected, 8, errors).items():
        cells[f"values.{code}"] = f"{ws.title}!{form.VALUE_COL}{n}"
        cells[f"notes.{code}"] = f"{ws.title}!{form.NOTE_COL}{n}"
        value = value_of(row[6], percent=text_of(row[3].value) == "%")
        if value is not None:
            data.values[code] = value
        data.notes[code] = long_text(row[7], cells[f"notes.{code}"], errors)


def read_tasks(
    ws: ReadOnlyWorksheet, expected: dict[str, str], parsed: ParsedForm, errors: list[str]
) -> None:
    """Status (label -> code) and texts of each task group, with their cells."""
    data, cells = parsed.submission, parsed.cells
    for code, (n, row) in keyed_rows(ws, expected, 7, errors).items():
        cells[f"tasks.{code}"] = f"{ws.title}!{form.LABEL_COL}{n}"
        texts = {}
        for index, (name, column) in enumerate(form.TASK_COLS.items(), start=3):
            cells[f"tasks.{code}.{name}"] = f"{ws.title}!{column}{n}"
            texts[name] = long_text(row[index], cells[f"tasks.{code}.{name}"], errors)
        status = STATUS_BY_TEXT.get(" ".join(texts["status"].casefold().split()), "")
        if texts["status"] and not status:
            where = cells[f"tasks.{code}.status"]
            errors.append(f"{where}: " + BAD_STATUS.format(found=texts["status"][:60]))
        data.tasks[code] = TaskReportInput(**{**texts, "status": status})


def parse_workbook(workbook: Workbook) -> ParsedForm:
    """The submission a well-formed workbook holds, with the cell of every field."""
    for name in (form.INDICATORS, form.TASKS, form.PROPOSALS):
        sheet(workbook, name)
    if form.META not in workbook.sheetnames:
        refuse(f"Tệp thiếu phần thông tin ẩn của biểu mẫu. {RELOAD}")
    head, expected = read_meta(sheet(workbook, form.META))
    parsed = ParsedForm(
        head["programme"], int(head["year"]), head["kind"], head["agency"], SubmissionInput()
    )
    parsed.head = head
    if SIGNATURE in workbook.sheetnames:
        first = next(rows_of(sheet(workbook, SIGNATURE), 1, 1), None)
        parsed.token = text_of(first[1][0].value) if first else None
    for name in (form.INDICATORS, form.TASKS):
        shown = next(rows_of(sheet(workbook, name), 2, 2), None)
        parsed.names.append(text_of(shown[1][1].value) if shown else "")
    errors: list[str] = []
    read_indicators(sheet(workbook, form.INDICATORS), expected["indicator"], parsed, errors)
    read_tasks(sheet(workbook, form.TASKS), expected["task_group"], parsed, errors)
    where = parsed.cells["adjustment_proposals"] = f"{form.PROPOSALS}!{form.PROPOSALS_CELL}"
    first = next(rows_of(sheet(workbook, form.PROPOSALS), int(form.PROPOSALS_CELL[1:]), 1), None)
    if first is not None:
        parsed.submission.adjustment_proposals = long_text(first[1][0], where, errors)
    if errors:
        refuse(*errors)
    return parsed


def read_form(
    data: bytes, *, max_bytes: int = 5_000_000, max_unpacked: int = 50_000_000
) -> ParsedForm:
    """Check the file, then read the submission from it; ExcelFormError says what is wrong."""
    workbook = open_workbook(data, max_bytes=max_bytes, max_unpacked=max_unpacked)
    try:
        return parse_workbook(workbook)
    except ExcelFormError:
        raise
    except READ_ERRORS:  # a sheet's XML is parsed lazily, while reading its rows
        refuse(CORRUPT)
    finally:
        workbook.close()
