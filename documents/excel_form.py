"""The agency's Excel form: one protected, printable workbook per request, pre-filled.

Written with ``documents.xlsx_writer`` (SpreadsheetML strings in a zip, about a millisecond a form)
rather than openpyxl's object model (17-25 ms): the request emails of a national cycle attach
4,500 of them. ``reporting.excel_reader`` reads them back with openpyxl. The hidden sheets a
reader checks a returned file against are ``documents.form_identity``; its first sheet, the
instructions, ``documents.form_guide``.
"""

from __future__ import annotations

import re

from documents.form_cells import (
    BOLD,
    FIRST_ROW,
    FONT,
    FOOTER,
    FORM_STYLES,
    INDICATOR_HEADERS,
    INDICATORS,
    INPUT,
    KIND_SLUG,
    LABEL_COL,
    META,
    NOTE_COL,
    NUMBER,
    NUMBER_HINT,
    PLAIN,
    PROPOSALS,
    PROPOSALS_CELL,
    PROPOSALS_WIDTH,
    SHAPES,
    STATUS_LABELS,
    TASK_COLS,
    TASK_HEADERS,
    TASKS,
    TEXT_INPUT,
    TITLE,
    VALUE_COL,
    YES_NO,
    drop_down,
    fit_row,
    header,
    input_cell,
    put,
    table_sheet,
)
from documents.form_guide import guide_sheet
from documents.form_identity import meta_sheet, signature_sheet
from documents.indicators import target_text, value_text
from documents.xlsx_writer import Sheet, Validation, render, workbook_bytes
from models.observations import Observed
from models.orm import Indicator, Request


def indicator_sheet(request: Request, previous: dict[str, Observed], name: str) -> Sheet:
    """One row per indicator: hidden code, number, name, unit, target, last year, value, note."""
    cycle, agency = request.cycle, request.agency
    widths = {"A": 4, "B": 6, "C": 55, "D": 14, "E": 22, "F": 18, "G": 18, "H": 30}
    ws = table_sheet(INDICATORS, widths)
    labels = INDICATOR_HEADERS.format(
        target=cycle.programme.target_year, last=cycle.year - 1, year=cycle.year
    )
    header(ws, labels.split("|"), f"SỐ LIỆU CÁC CHỈ TIÊU NĂM {cycle.year}", name)
    cells: dict[str, list[str]] = {kind: [] for kind in ("yes_no", *NUMBER_HINT)}
    for row, indicator in enumerate(agency.indicators, start=FIRST_ROW):
        indicator_row(ws, row, indicator, previous.get(indicator.code))
        kind = indicator.kind if indicator.kind in NUMBER_HINT else "yes_no"
        cells[kind].append(f"{VALUE_COL}{row}")
    if cells["yes_no"]:
        prompt = "Chọn «Có» hoặc «Không»."
        ws.validations.append(drop_down(YES_NO, "Đạt / không đạt", prompt, cells["yes_no"]))
    for kind, hint in NUMBER_HINT.items():
        if cells[kind]:
            ws.validations.append(Validation(tuple(cells[kind]), "Cách ghi số", hint))
    if not agency.indicators:
        put(ws, f"C{FIRST_ROW}", "Đơn vị không có chỉ tiêu nào cần báo cáo trong kỳ này.")
    return ws


def indicator_row(ws: Sheet, row: int, indicator: Indicator, last: Observed | None) -> None:
    """The cells of one indicator's row."""
    target = target_text(indicator)
    put(ws, f"A{row}", indicator.code, box=True)
    ws.set(f"B{row}", indicator.number, NUMBER)
    put(ws, f"{LABEL_COL}{row}", indicator.name, box=True)
    put(ws, f"D{row}", indicator.unit, box=True)
    put(ws, f"E{row}", target, box=True)
    last_text = value_text(indicator, last.value, last.achieved) if last else "Chưa có"
    put(ws, f"F{row}", last_text, box=True)
    input_cell(ws, f"{VALUE_COL}{row}", text=indicator.kind != "yes_no")
    input_cell(ws, f"{NOTE_COL}{row}")
    fit_row(ws, row, {"C": indicator.name, "E": target}, 2)


def task_sheet(
    request: Request, name: str, *, title: str | None = None, labels: str = TASK_HEADERS
) -> Sheet:
    """One row per task group: hidden code, number, name, status, results, difficulties...
    (``title`` and ``labels``: the evaluation round's wording)."""
    cycle, agency = request.cycle, request.agency
    ws = table_sheet(TASKS, {"A": 4, "B": 6, "C": 40, "D": 22, "E": 45, "F": 35, "G": 35})
    title = title or f"TÌNH HÌNH THỰC HIỆN NHIỆM VỤ, GIẢI PHÁP NĂM {cycle.year}"
    header(ws, labels.split("|"), title, name)
    statuses = []
    for row, group in enumerate(agency.task_groups, start=FIRST_ROW):
        put(ws, f"A{row}", group.code, box=True)
        ws.set(f"B{row}", group.number, NUMBER)
        put(ws, f"{LABEL_COL}{row}", group.name, box=True)
        for column in TASK_COLS.values():
            input_cell(ws, f"{column}{row}")
        statuses.append(f"{TASK_COLS['status']}{row}")
        fit_row(ws, row, {"C": group.name}, 6)
    if statuses:
        prompt = "Chọn tình trạng trong danh sách."
        labels = tuple(STATUS_LABELS.values())
        ws.validations.append(drop_down(labels, "Tình trạng", prompt, statuses))
    return ws


def proposal_sheet(name: str) -> Sheet:
    """One open cell for proposed adjustments to the programme (clause 3.d of section III)."""
    ws = Sheet(PROPOSALS, {"A": PROPOSALS_WIDTH}, landscape=False, footer=FOOTER)
    put(ws, "A1", "ĐỀ XUẤT ĐIỀU CHỈNH, BỔ SUNG CHƯƠNG TRÌNH", TITLE)
    text = (
        "Theo điểm d khoản 3 mục III của Chương trình, đơn vị đề xuất điều chỉnh trong quá trình "
        "thực hiện (nếu có). Nhập vào ô nền vàng bên dưới; không có thì để trống."
    )
    put(ws, "A2", text)
    fit_row(ws, 2, {"A": text}, 2)
    put(ws, "A3", f"Đơn vị: {name}", BOLD)
    input_cell(ws, PROPOSALS_CELL)
    ws.heights[4] = 320
    return ws


def filled_sheets(
    request: Request, previous: dict[str, Observed], fields: dict[str, str]
) -> list[Sheet]:
    """The three sheets an agency fills, with what it already wrote (the web form's fields of
    its draft or latest revision) in the input cells, so that it can correct them in Excel."""
    agency = request.agency
    indicators = indicator_sheet(request, previous, agency.name)
    for row, indicator in enumerate(agency.indicators, start=FIRST_ROW):
        value = fields.get(f"value__{indicator.code}") or None
        if indicator.kind == "yes_no" and value:
            value = YES_NO[0] if value.strip().lower() in {"có", "co"} else YES_NO[1]
        style = INPUT if indicator.kind == "yes_no" else TEXT_INPUT
        indicators.set(f"{VALUE_COL}{row}", value, style)
        indicators.set(f"{NOTE_COL}{row}", fields.get(f"note__{indicator.code}") or None, INPUT)
    tasks = task_sheet(request, agency.name)
    for row, group in enumerate(agency.task_groups, start=FIRST_ROW):
        for name, column in TASK_COLS.items():
            value = fields.get(f"{name}__{group.code}") or None
            if name == "status" and value:
                value = STATUS_LABELS.get(value, value)
            tasks.set(f"{column}{row}", value, INPUT)
    proposals = proposal_sheet(agency.name)
    proposals.set(PROPOSALS_CELL, fields.get("adjustment_proposals") or None, INPUT)
    return [render(sheet, FORM_STYLES) for sheet in (indicators, tasks, proposals)]


def build_form(
    request: Request,
    *,
    previous: dict[str, Observed],
    link: str,
    token: str,
    fields: dict[str, str] | None = None,
) -> bytes:
    """The XLSX form of one agency for one cycle, pre-filled, as bytes, signed with ``token``
    (``reporting.form_binding.form_token``); with ``fields`` (the agency's draft or latest
    revision as the web form names them) its answers filled in too."""
    cycle, agency = request.cycle, request.agency
    about = (cycle.programme.code, cycle.programme.target_year, cycle.year, cycle.kind)
    indicators = tuple(
        (i.code, i.number, i.name, i.unit, i.kind, i.rule, i.target, previous.get(i.code))
        for i in agency.indicators
    )
    groups = tuple((g.code, g.number, g.name) for g in agency.task_groups)
    answered = (
        filled_sheets(request, previous, fields)
        if fields
        else [
            SHAPES.sheet(
                (INDICATORS, about, indicators),
                agency.name,
                lambda name: indicator_sheet(request, previous, name),
            ),
            SHAPES.sheet(
                (TASKS, about, groups), agency.name, lambda name: task_sheet(request, name)
            ),
            SHAPES.sheet((PROPOSALS,), agency.name, proposal_sheet),
        ]
    )
    sheets = [
        render(guide_sheet(request, link), FORM_STYLES),
        *answered,
        render(signature_sheet(token, PLAIN[FONT, False]), FORM_STYLES),
        SHAPES.sheet(
            (META, about, indicators, groups), agency.code, lambda code: meta_sheet(request, code)
        ),
    ]
    return workbook_bytes(
        sheets,
        title=f"Biểu mẫu báo cáo năm {cycle.year}",
        creator=cycle.programme.code,
        styles=FORM_STYLES,
    )


def form_filename(request: Request) -> str:
    """'Bieu-mau-bao-cao-2026-so-y-te.xlsx' (ASCII)."""
    kind = KIND_SLUG.get(request.cycle.kind, f"{request.cycle.kind}-")
    agency = re.sub(r"[^a-z0-9]+", "-", request.agency.code.lower()).strip("-") or "don-vi"
    return f"Bieu-mau-bao-cao-{kind}{request.cycle.year}-{agency}.xlsx"
