"""The evaluation's Excel annex: indicators by year with their status, agencies, narratives."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from documents.evaluation_content import agency_table, indicator_table, summary_line
from reporting.evaluation import Evaluation
from reporting.evaluation_intake import NARRATIVE_LABELS

HEADER = PatternFill("solid", fgColor="D9E1F2")
BOLD = Font(name="Times New Roman", bold=True)
PLAIN = Font(name="Times New Roman")


def _sheet(wb: Workbook, title: str, heading: str, columns: list[str], rows: list[list]) -> None:
    ws = wb.create_sheet(title)
    ws.cell(1, 1, heading).font = BOLD
    for col, text in enumerate(columns, start=1):
        cell = ws.cell(3, col, text)
        cell.font, cell.fill = BOLD, HEADER
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    for r, row in enumerate(rows, start=4):
        for col, value in enumerate(row, start=1):
            cell = ws.cell(r, col, value)
            cell.font, cell.alignment = PLAIN, Alignment(wrap_text=True, vertical="top")
    for col, text in enumerate(columns, start=1):
        longest = max([len(str(text))] + [len(str(row[col - 1])) for row in rows] or [10])
        ws.column_dimensions[get_column_letter(col)].width = min(max(8, longest * 0.9), 60)
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def build_evaluation_xlsx(evaluation: Evaluation) -> bytes:
    """Four sheets with the tables of the report, as an annex to it."""
    wb = Workbook()
    wb.remove(wb.active)
    title = summary_line(evaluation)
    table = indicator_table(evaluation)
    numbers = [
        [i.number, i.code, i.name, i.unit, i.target]
        + [i.series.get(y) for y in evaluation.years]
        + [i.status_text, i.ratio, "có" if i.falling else "", i.reporter]
        for i in evaluation.indicators
    ]
    _sheet(
        wb,
        "Chỉ tiêu",
        f"{title} - {table.caption}",
        ["STT", "Mã", "Chỉ tiêu", "Đơn vị", "Mục tiêu"]
        + [str(y) for y in evaluation.years]
        + ["Đánh giá", "R", "Đạt nhưng đang giảm", "Đơn vị báo cáo"],
        [
            [v if not isinstance(v, bool) else ("Có" if v else "Không") for v in row]
            for row in numbers
        ],
    )
    agencies = agency_table(evaluation)
    _sheet(wb, "Đơn vị báo cáo", agencies.caption or "", agencies.columns, agencies.rows)
    _sheet(
        wb,
        "Nhiệm vụ",
        "Kết quả thực hiện các nhóm nhiệm vụ, giải pháp",
        ["Nhóm", "Cơ quan, đơn vị", "Tình trạng", "Kết quả", "Hạn chế, nguyên nhân", "Đề xuất"],
        [
            [f"{g.number}. {g.name}", x.agency, x.status, x.results, x.difficulties, x.proposals]
            for g in evaluation.task_groups
            for x in g.entries
        ],
    )
    _sheet(
        wb,
        "Đánh giá chung",
        "Đánh giá chung của các cơ quan, đơn vị",
        ["Nội dung", "Cơ quan, đơn vị", "Nội dung đánh giá"],
        [
            [NARRATIVE_LABELS[name], entry["agency"], entry["text"]]
            for name, entries in evaluation.narratives.items()
            for entry in entries
        ],
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
