"""The evaluation round's Excel form: values by year since the baseline, tasks, the narrative.

One workbook per request, pre-filled with the provincial values the system already has, read
back defensively (the yearly form's archive checks run first) into an :class:`EvaluationInput`
that goes through the same intake as the web form.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from documents.indicators import target_text
from documents.vietnamese import format_date, format_number
from models.observations import Observed
from models.orm import Channel, Request, Submission, TaskStatus
from models.submissions import IntakeError, TaskReportInput
from portal.xlsx_safety import CORRUPT, ZIP_ERRORS, ExcelFormError, check_archive, refuse
from reporting.consolidation import TASK_STATUS_TEXT
from reporting.evaluation_intake import (
    NARRATIVE_FIELDS,
    NARRATIVE_LABELS,
    EvaluationInput,
    evaluation_years,
    record_evaluation,
)

FORM_VERSION = "evaluation-1"
INDICATORS, TASKS, NARRATIVE, META = "Chỉ tiêu theo năm", "Nhiệm vụ", "Đánh giá chung", "_meta"
FIRST_ROW, YEAR_COL = 4, 6  # rows below the header; year columns start at F
KIND_TEXT = {"midterm": "sơ kết", "final": "tổng kết"}
STATUS_BY_TEXT = {TASK_STATUS_TEXT[s].lower(): s.value for s in TaskStatus}
TASK_FIELDS = ("status", "results", "difficulties", "proposals")
INPUT = PatternFill("solid", fgColor="FFF2CC")
BOLD = Font(name="Times New Roman", bold=True)
READ_ERRORS = (*ZIP_ERRORS, ValueError, KeyError, TypeError, IndexError, SyntaxError)


def evaluation_form_name(request: Request) -> str:
    cycle = request.cycle
    review = KIND_TEXT.get(cycle.kind, cycle.kind)
    return f"Biểu mẫu báo cáo {review} {cycle.year} - {request.agency.name}.xlsx"


def _input(ws: Any, row: int, col: int, value: object = None) -> None:
    cell = ws.cell(row, col, value)
    cell.fill, cell.protection = INPUT, Protection(locked=False)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    cell.number_format = "@"


def _plain(value: Observed | None, kind: str) -> str | None:
    if value is None:
        return None
    if kind == "yes_no":
        return None if value.achieved is None else ("Có" if value.achieved else "Không")
    return None if value.value is None else format_number(value.value)


def _title(ws: Any, request: Request, heading: str) -> None:
    cycle = request.cycle
    review = KIND_TEXT.get(cycle.kind, cycle.kind).upper()
    ws.cell(1, 1, f"BÁO CÁO {review} NĂM {cycle.year} - {heading}").font = BOLD
    ws.cell(2, 1, f"{request.agency.name}; hạn gửi {format_date(cycle.deadline)}")


def build_evaluation_form(
    request: Request, *, known: dict[int, dict[str, Observed]], link: str
) -> bytes:
    """The agency's workbook, pre-filled with the values already known, protected but fillable."""
    years = evaluation_years(request.cycle)
    wb = Workbook()
    ws = wb.active
    ws.title = INDICATORS
    _title(ws, request, "SỐ LIỆU CHỈ TIÊU THEO NĂM")
    headers = ["Mã", "STT", "Chỉ tiêu", "Đơn vị tính", "Mục tiêu"] + [str(y) for y in years]
    for col, text in enumerate(headers + ["Ghi chú"], start=1):
        ws.cell(3, col, text).font = BOLD
    for row, indicator in enumerate(request.agency.indicators, start=FIRST_ROW):
        for col, value in enumerate(
            [indicator.code, indicator.number, indicator.name, indicator.unit],
            start=1,
        ):
            ws.cell(row, col, value).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row, 5, target_text(indicator))
        for offset, year in enumerate(years):
            seen = known.get(year, {}).get(indicator.code)
            _input(ws, row, YEAR_COL + offset, _plain(seen, indicator.kind))
        _input(ws, row, YEAR_COL + len(years))
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["C"].width = 60
    ws.protection.sheet = True

    tasks = wb.create_sheet(TASKS)
    _title(tasks, request, "KẾT QUẢ THỰC HIỆN NHIỆM VỤ")
    labels = ["Mã", "STT", "Nhóm nhiệm vụ, giải pháp", "Tình trạng", "Kết quả đạt được"]
    for col, text in enumerate(labels + ["Hạn chế, nguyên nhân", "Đề xuất"], start=1):
        tasks.cell(3, col, text).font = BOLD
    statuses = DataValidation(
        type="list", formula1='"' + ",".join(TASK_STATUS_TEXT[s] for s in TaskStatus) + '"'
    )
    tasks.add_data_validation(statuses)
    for row, group in enumerate(request.agency.task_groups, start=FIRST_ROW):
        tasks.cell(row, 1, group.code)
        tasks.cell(row, 2, group.number)
        tasks.cell(row, 3, group.name).alignment = Alignment(wrap_text=True, vertical="top")
        for col in range(4, 8):
            _input(tasks, row, col)
        statuses.add(tasks.cell(row, 4))
    tasks.column_dimensions["A"].hidden = True
    for letter in "CEFG":
        tasks.column_dimensions[letter].width = 40
    tasks.protection.sheet = True

    narrative = wb.create_sheet(NARRATIVE)
    _title(narrative, request, "ĐÁNH GIÁ CHUNG")
    for row, field in enumerate(NARRATIVE_FIELDS, start=FIRST_ROW):
        narrative.cell(row, 1, NARRATIVE_LABELS[field]).font = BOLD
        _input(narrative, row, 2)
    narrative.column_dimensions["A"].width = 32
    narrative.column_dimensions["B"].width = 100
    narrative.cell(FIRST_ROW + len(NARRATIVE_FIELDS) + 1, 1, f"Báo cáo trực tuyến: {link}")
    narrative.protection.sheet = True

    meta = wb.create_sheet(META)
    cycle = request.cycle
    for row, (key, value) in enumerate(
        [
            ("programme", cycle.programme.code),
            ("year", cycle.year),
            ("kind", cycle.kind),
            ("agency", request.agency.code),
            ("version", FORM_VERSION),
        ],
        start=1,
    ):
        meta.cell(row, 1, key)
        meta.cell(row, 2, value)
    meta.sheet_state = "hidden"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return format_date(value)
    return str(value).strip()


def read_evaluation_form(
    data: bytes, *, max_bytes: int = 5_000_000, max_unpacked: int = 50_000_000
) -> tuple[dict[str, str], EvaluationInput, dict[str, str]]:
    """(meta, what the agency wrote, field -> cell) from a filled workbook; ExcelFormError."""
    check_archive(data, max_bytes=max_bytes, max_unpacked=max_unpacked)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except READ_ERRORS:
        refuse(CORRUPT)
    try:
        if META not in wb.sheetnames or INDICATORS not in wb.sheetnames:
            refuse("Tệp không phải là biểu mẫu báo cáo đánh giá; vui lòng dùng biểu mẫu gốc.")
        meta = {_text(k): _text(v) for k, v, *_ in wb[META].iter_rows(values_only=True)}
        if meta.get("version") != FORM_VERSION:
            refuse("Biểu mẫu không đúng phiên bản; vui lòng dùng biểu mẫu gốc trong thư.")
        rows = list(wb[INDICATORS].iter_rows(min_row=3, values_only=True))
        header = [_text(c) for c in rows[0]]
        year_cols = {i: int(h) for i, h in enumerate(header) if h.isdigit() and len(h) == 4}
        values: dict[str, dict[int, Any]] = {}
        notes: dict[str, str] = {}
        cells: dict[str, str] = {}
        for n, row in enumerate(rows[1:], start=FIRST_ROW):
            code = _text(row[0])
            if not code:
                continue
            values[code] = {year: row[i] for i, year in year_cols.items() if i < len(row)}
            if len(row) > len(header) - 1:
                notes[code] = _text(row[len(header) - 1])
            for i, year in year_cols.items():
                cells[f"values.{code}.{year}"] = f"{INDICATORS}!{get_column_letter(i + 1)}{n}"
        tasks = {}
        for n, row in enumerate(
            wb[TASKS].iter_rows(min_row=FIRST_ROW, values_only=True), start=FIRST_ROW
        ):
            code = _text(row[0])
            if not code:
                continue
            texts = [_text(c) for c in (list(row) + [None] * 7)[3:7]]
            status = STATUS_BY_TEXT.get(texts[0].lower(), texts[0])
            tasks[code] = TaskReportInput(
                status=status, results=texts[1], difficulties=texts[2], proposals=texts[3]
            )
            cells[f"tasks.{code}.status"] = f"{TASKS}!D{n}"
            cells[f"tasks.{code}.results"] = f"{TASKS}!E{n}"
        narrative_rows = list(
            wb[NARRATIVE].iter_rows(min_row=FIRST_ROW, max_col=2, values_only=True)
        )
        narrative = {}
        for i, field in enumerate(NARRATIVE_FIELDS):
            narrative[field] = _text(narrative_rows[i][1]) if i < len(narrative_rows) else ""
            cells[field] = f"{NARRATIVE}!B{FIRST_ROW + i}"
    except ExcelFormError:
        raise
    except READ_ERRORS:
        refuse(CORRUPT)
    finally:
        wb.close()
    return meta, EvaluationInput(values=values, notes=notes, tasks=tasks, **narrative), cells


def import_evaluation_form(
    data: bytes,
    request: Request,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
    max_bytes: int = 5_000_000,
) -> Submission:
    """Read the workbook and record it as ``request``'s next revision; nothing stored on error."""
    meta, data_in, cells = read_evaluation_form(data, max_bytes=max_bytes)
    cycle = request.cycle
    if (meta.get("agency"), meta.get("year"), meta.get("kind")) != (
        request.agency.code,
        str(cycle.year),
        cycle.kind,
    ):
        refuse(
            "Tệp này là biểu mẫu của đơn vị hoặc kỳ đánh giá khác; vui lòng tải biểu mẫu "
            "của đơn vị mình từ đường dẫn trong thư rồi điền lại."
        )
    try:
        return record_evaluation(
            request,
            data_in,
            session=session,
            channel=channel,
            submitted_by=submitted_by,
            submitted_at=submitted_at,
        )
    except IntakeError as exc:
        refuse(*(f"{cells.get(e.field, e.field)}: {e.message}" for e in exc.errors))
