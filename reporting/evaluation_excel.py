"""The evaluation round's Excel form: values by year since the baseline, tasks, the narrative.

One workbook per request, pre-filled with the provincial values the system already has, read
back defensively (the yearly form's archive checks run first) into an :class:`EvaluationInput`
that goes through the same intake as the web form.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from documents.excel_form import task_sheet
from documents.form_cells import (
    BOLD,
    FONT,
    FOOTER,
    FORM_STYLES,
    KIND_TEXT,
    LINK,
    META,
    NUMBER,
    PLAIN,
    TASKS,
    TEXT_INPUT,
    TITLE,
    fit_row,
    header,
    input_cell,
    put,
    table_sheet,
)
from documents.form_identity import SIGNATURE, meta_keys, signature_sheet
from documents.indicators import target_text
from documents.labels import NARRATIVE_LABELS, TASK_STATUS_TEXT
from documents.vietnamese import format_date, format_number
from documents.xlsx_safety import (
    CORRUPT,
    READ_ERRORS,
    ExcelFormError,
    open_workbook,
    refuse,
)
from documents.xlsx_writer import Sheet, letters_of, workbook_bytes
from models.observations import Observed
from models.orm import Channel, Request, Submission, TaskStatus
from reporting.evaluation_intake import (
    NARRATIVE_FIELDS,
    EvaluationInput,
    evaluation_years,
    record_evaluation,
)
from reporting.form_binding import check_binding, form_token
from reporting.submission_input import IntakeError, TaskReportInput

FORM_VERSION = "evaluation-1"
INDICATORS, NARRATIVE = "Chỉ tiêu theo năm", "Đánh giá chung"  # TASKS, META: the yearly form's
FIRST_ROW, YEAR_COL = 4, 6  # rows below the header; year columns start at F
STATUS_BY_TEXT = {TASK_STATUS_TEXT[s].lower(): s.value for s in TaskStatus}
TASK_FIELDS = ("status", "results", "difficulties", "proposals")


def evaluation_form_name(request: Request) -> str:
    cycle = request.cycle
    review = KIND_TEXT.get(cycle.kind, cycle.kind)
    return f"Biểu mẫu báo cáo {review} {cycle.year} - {request.agency.name}.xlsx"


def _plain(value: Observed | None, kind: str) -> str | None:
    if value is None:
        return None
    if kind == "yes_no":
        return None if value.achieved is None else ("Có" if value.achieved else "Không")
    return None if value.value is None else format_number(value.value)


def _indicator_sheet(
    request: Request,
    years: list[int],
    known: dict[int, dict[str, Observed]],
    *,
    review: str,
    name: str,
) -> Sheet:
    """Hidden code, number, name, unit, target, then one pre-filled input per year and a note."""
    year_columns = [letters_of(YEAR_COL + n) for n in range(len(years) + 1)]  # and the note
    widths = {"A": 4, "B": 6, "C": 50, "D": 12, "E": 20} | {c: 13 for c in year_columns}
    ws = table_sheet(INDICATORS, widths | {year_columns[-1]: 30})
    labels = ["Mã", "STT", "Chỉ tiêu", "Đơn vị tính", "Mục tiêu"] + [str(y) for y in years]
    header(ws, [*labels, "Ghi chú"], f"BÁO CÁO {review.upper()} - SỐ LIỆU CHỈ TIÊU THEO NĂM", name)
    for row, indicator in enumerate(request.agency.indicators, start=FIRST_ROW):
        put(ws, f"A{row}", indicator.code, box=True)
        ws.set(f"B{row}", indicator.number, NUMBER)
        put(ws, f"C{row}", indicator.name, box=True)
        put(ws, f"D{row}", indicator.unit, box=True)
        put(ws, f"E{row}", target_text(indicator), box=True)
        for column, year in zip(year_columns, years, strict=False):
            seen = _plain(known.get(year, {}).get(indicator.code), indicator.kind)
            ws.set(f"{column}{row}", seen, TEXT_INPUT)
        input_cell(ws, f"{year_columns[-1]}{row}", text=True)
        fit_row(ws, row, {"C": indicator.name}, 2)
    return ws


def _narrative_sheet(request: Request, *, review: str, line: str, link: str) -> Sheet:
    ws = Sheet(NARRATIVE, {"A": 32, "B": 100}, landscape=False, footer=FOOTER)
    put(ws, "A1", f"BÁO CÁO {review.upper()} NĂM {request.cycle.year} - ĐÁNH GIÁ CHUNG", TITLE)
    put(ws, "A2", line, BOLD)
    for row, field in enumerate(NARRATIVE_FIELDS, start=FIRST_ROW):
        put(ws, f"A{row}", NARRATIVE_LABELS[field], BOLD, box=True)
        input_cell(ws, f"B{row}", text=True)
        ws.heights[row] = 120
    row = FIRST_ROW + len(NARRATIVE_FIELDS) + 1
    put(ws, f"A{row}", "Báo cáo trực tuyến:", BOLD)
    put(ws, f"B{row}", link, LINK)
    ws.link = (f"B{row}", link)
    return ws


def build_evaluation_form(
    request: Request, *, known: dict[int, dict[str, Observed]], link: str
) -> bytes:
    """The agency's workbook, laid out like the yearly form (``documents.excel_form``): pre-filled
    with the values already known, protected but for its yellow cells."""
    cycle, agency = request.cycle, request.agency
    line = f"{agency.name}; hạn gửi {format_date(cycle.deadline)}"
    review = KIND_TEXT.get(cycle.kind, cycle.kind)
    tasks = task_sheet(
        request,
        agency.name,  # alone in B2, as on the yearly form: checked when the form comes back
        title=f"BÁO CÁO {review.upper()} - KẾT QUẢ THỰC HIỆN NHIỆM VỤ",
        labels="Mã|STT|Nhóm nhiệm vụ, giải pháp|Tình trạng|Kết quả đạt được"
        "|Hạn chế, nguyên nhân|Đề xuất",
    )
    sheets = [
        _indicator_sheet(
            request, evaluation_years(cycle), known, review=review, name=agency.name
        ),
        tasks,
        _narrative_sheet(request, review=review, line=line, link=link),
        signature_sheet(form_token(request, FORM_VERSION), PLAIN[FONT, False]),  # as yearly
        meta_keys(request, agency.code, FORM_VERSION),
    ]
    return workbook_bytes(
        sheets,
        title=f"Biểu mẫu báo cáo {review} năm {cycle.year}",
        creator=cycle.programme.code,
        styles=FORM_STYLES,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return format_date(value)
    return str(value).strip()


class EvaluationRead(NamedTuple):
    """What a filled workbook says: its hidden keys, the report, field -> cell, its signed
    token (None on a form made before forms were signed) and the agency name each table shows."""

    meta: dict[str, str]
    data: EvaluationInput
    cells: dict[str, str]
    token: str | None
    names: list[str]


def _first_row(ws: Any, row: int, columns: int) -> tuple:
    return next(ws.iter_rows(min_row=row, max_row=row, max_col=columns, values_only=True), ())


def read_evaluation_form(
    data: bytes, *, max_bytes: int = 5_000_000, max_unpacked: int = 50_000_000
) -> EvaluationRead:
    """The filled workbook read (see :class:`EvaluationRead`); ExcelFormError."""
    wb = open_workbook(data, max_bytes=max_bytes, max_unpacked=max_unpacked)
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
        signed = _first_row(wb[SIGNATURE], 1, 1) if SIGNATURE in wb.sheetnames else ()
        token = _text(signed[0]) or None if signed else None
        names = [  # forms sent before forms were signed showed "<name>; hạn gửi <date>"
            _text((_first_row(wb[n], 2, 2) + (None, None))[1]).split("; hạn gửi ")[0]
            for n in (INDICATORS, TASKS)
        ]
    except ExcelFormError:
        raise
    except READ_ERRORS:
        refuse(CORRUPT)
    finally:
        wb.close()
    report = EvaluationInput(values=values, notes=notes, tasks=tasks, **narrative)
    return EvaluationRead(meta, report, cells, token, names)


def import_evaluation_form(
    data: bytes | EvaluationRead,
    request: Request,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
    max_bytes: int = 5_000_000,
    require_token: bool = False,
) -> Submission:
    """Read the workbook and record it as ``request``'s next revision; nothing stored on error.
    The form must be bound to ``request`` (``reporting.form_binding.check_binding``, as the yearly
    form; ``require_token``: the file alone said whose it is, so an unsigned one is refused)."""
    read = data if isinstance(data, tuple) else read_evaluation_form(data, max_bytes=max_bytes)
    meta, data_in, cells = read.meta, read.data, read.cells  # (read before the write transaction)
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
    check_binding(meta, read.token, read.names, request, require_token=require_token)
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
