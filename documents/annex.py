"""The XLSX annex of the yearly report (openpyxl): the report's tables, one sheet each, and the
breakdown by local unit (communes, wards, districts) of what each one reported.

Built from the same stored consolidation as the DOCX and the Markdown. Indicator values are
written as numbers (shown with a Vietnamese-style format by Excel's locale) next to the texts
the report prints; years before the report's come from the provincial observations.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from documents.docx_parts import repack_zip
from documents.report import trend_text

FONT = "Times New Roman"
THIN = Side(style="thin", color="000000")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ROW = 4  # rows 1-2: title and reference; row 4: column names; data from row 5
NUMBER_FORMAT = "#,##0.####"
LOCAL_KIND = "local"
SHEETS = (
    "Chỉ tiêu",
    "Số liệu theo đơn vị",
    "Tình hình báo cáo",
    "Nhiệm vụ",
    "Theo đơn vị cấp cơ sở",
    "Khó khăn, đề xuất",
)


def _body_styles(book: Workbook) -> tuple[str, str]:
    """Named styles for body cells, registered once (styling cell by cell costs seconds)."""
    names = ("r42-text", "r42-number")
    if names[0] not in book.named_styles:
        for name, number_format in zip(names, ("General", NUMBER_FORMAT), strict=True):
            book.add_named_style(
                NamedStyle(
                    name,
                    font=Font(name=FONT, size=11),
                    alignment=Alignment(vertical="top", wrap_text=True),
                    border=GRID,
                    number_format=number_format,
                )
            )
    return names


def _sheet(
    book: Workbook,
    title: str,
    heading: str,
    reference: str,
    columns: Sequence[tuple[str, float]],
    rows: Sequence[Sequence[object]],
) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet["A1"], sheet["A2"] = heading, reference
    sheet["A1"].font = Font(name=FONT, size=13, bold=True)
    sheet["A2"].font = Font(name=FONT, size=11, italic=True)
    for index, (name, width) in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, name)
        cell.font = Font(name=FONT, size=11, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = GRID
        sheet.column_dimensions[get_column_letter(index)].width = width
    text_style, number_style = _body_styles(book)
    for r, values in enumerate(rows, start=HEADER_ROW + 1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(r, c, float(value) if isinstance(value, Decimal) else value)
            is_number = isinstance(value, Decimal | float | int) and not isinstance(value, bool)
            cell.style = number_style if is_number else text_style
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return sheet


def _cell_value(value: Decimal | bool | None) -> object:
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return value


def _indicator_rows(data: dict, series: Mapping[str, Mapping[int, object]]) -> list[list]:
    year = data["year"]
    rows = []
    for i in data["indicators"]:
        values = series.get(i["code"], {})
        rows.append(
            [
                i["number"],
                i["code"],
                i["name"],
                i["unit"],
                i["reporter"],
                i["target"],
                _cell_value(values.get(year - 1)),
                _cell_value(values.get(year)),
                i["value"],
                i["met_text"],
                trend_text(i["trend"]),
                i["progress"],
                i["note"],
            ]
        )
    return rows


def local_breakdown(data: dict) -> tuple[list[str], list[list[str]]]:
    """Task groups as columns, one row per local unit asked: its reporting status, then the
    status it gave each task group ('—' where it gave none)."""
    local = [a for a in data["agencies"] if a["kind"] == LOCAL_KIND]
    statuses: dict[str, dict[int, str]] = {}
    for group in data["task_groups"]:
        for entry in group["entries"]:
            statuses.setdefault(entry["agency"], {})[group["number"]] = entry["status"]
    groups = [f"{g['number']}. {g['name']}" for g in data["task_groups"]]
    rows = [
        [a["name"], a["status_text"], a["submitted_on"] or "—"]
        + [statuses.get(a["name"], {}).get(g["number"], "—") for g in data["task_groups"]]
        for a in local
    ]
    return groups, rows


def annual_annex(
    data: dict,
    *,
    series: Mapping[str, Mapping[int, Decimal | bool | None]],
    reference: str,
    created: dt.date | None = None,
    agency_values: Sequence[Sequence[object]] = (),
) -> bytes:
    """The annex workbook: indicators, reporting, tasks, local units, difficulties/proposals.

    ``series`` maps indicator code -> year -> provincial value (the years shown are the report's
    and the one before); ``reference`` says which report the annex goes with; ``agency_values``
    are the rows (agency, level, indicator number and name, value, value as text, note) of
    every value the counted submissions gave.
    """
    year, target_year = data["year"], data["target_year"]
    book = Workbook()
    book.remove(book.active)
    book.properties.title = f"Phụ lục báo cáo năm {year}"
    book.properties.creator = "r42-reporting"
    stamp = dt.datetime.combine(created or dt.date(2000, 1, 1), dt.time())
    book.properties.created = book.properties.modified = stamp
    _sheet(
        book,
        SHEETS[0],
        f"KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CHỦ YẾU ĐẾN NĂM {target_year}",
        reference,
        [
            ("STT", 6),
            ("Mã", 16),
            ("Chỉ tiêu", 50),
            ("Đơn vị tính", 12),
            ("Cơ quan báo cáo", 24),
            (f"Mục tiêu {target_year}", 20),
            (f"Năm {year - 1}", 12),
            (f"Năm {year}", 12),
            (f"Năm {year} (như báo cáo)", 16),
            ("Đánh giá", 14),
            ("Xu hướng", 11),
            (f"Tiến độ đến năm {target_year}", 28),
            ("Ghi chú", 30),
        ],  # fmt: skip
        _indicator_rows(data, series),
    )
    _sheet(
        book,
        SHEETS[1],
        f"SỐ LIỆU NĂM {year} THEO CƠ QUAN, ĐƠN VỊ BÁO CÁO",
        reference,
        [
            ("Cơ quan, đơn vị", 36),
            ("Cấp", 18),
            ("STT chỉ tiêu", 8),
            ("Chỉ tiêu", 50),
            ("Giá trị", 14),
            ("Như báo cáo", 18),
            ("Ghi chú", 30),
        ],  # fmt: skip
        [[*row[:4], _cell_value(row[4]), *row[5:]] for row in agency_values],
    )
    _sheet(
        book,
        SHEETS[2],
        f"TÌNH HÌNH BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ NĂM {year} (hạn {data['deadline']})",
        reference,
        [
            ("STT", 6),
            ("Cơ quan, đơn vị", 45),
            ("Tình trạng", 24),
            ("Ngày gửi", 12),
            ("Số lần gửi", 10),
            ("Hình thức gửi", 14),
        ],  # fmt: skip
        [
            [
                n,
                a["name"],
                a["status_text"],
                a["submitted_on"] or "—",
                a["revisions"],
                a["channel"] or "—",
            ]  # fmt: skip
            for n, a in enumerate(data["agencies"], start=1)
        ],
    )
    _sheet(
        book,
        SHEETS[3],
        "KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU",
        reference,
        [
            ("Nhóm nhiệm vụ", 36),
            ("Cơ quan chủ trì", 24),
            ("Cơ quan, đơn vị báo cáo", 32),
            ("Tình trạng", 18),
            ("Kết quả thực hiện", 60),
            ("Khó khăn, vướng mắc", 40),
            ("Đề xuất, kiến nghị", 40),
        ],  # fmt: skip
        [
            [
                f"{g['number']}. {g['name']}",
                g["lead"],
                e["agency"],
                e["status"],
                e["results"],
                e["difficulties"],
                e["proposals"],
            ]  # fmt: skip
            for g in data["task_groups"]
            for e in g["entries"]
        ],
    )
    groups, rows = local_breakdown(data)
    if rows:
        _sheet(
            book,
            SHEETS[4],
            "TÌNH HÌNH THỰC HIỆN THEO ĐƠN VỊ CẤP CƠ SỞ",
            reference,
            [("Đơn vị", 36), ("Tình trạng báo cáo", 22), ("Ngày gửi", 12)]
            + [(name, 18) for name in groups],
            rows,
        )
    _sheet(
        book,
        SHEETS[5],
        "KHÓ KHĂN, VƯỚNG MẮC; ĐỀ XUẤT ĐIỀU CHỈNH; KIẾN NGHỊ",
        reference,
        [("Nội dung", 22), ("Cơ quan, đơn vị", 32), ("Chi tiết", 90)],
        [["Khó khăn, vướng mắc", e["agency"], e["difficulties"]] for e in data["difficulties"]]
        + [["Đề xuất điều chỉnh", a["agency"], a["text"]] for a in data["adjustments"]]
        + [["Kiến nghị", r["agency"], r["text"]] for r in data["recommendations"]],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    modified = f"{stamp:%Y-%m-%dT%H:%M:%SZ}"

    def fixed_date(name: str, content: bytes) -> bytes:  # openpyxl stamps the time of saving
        if name != "docProps/core.xml":
            return content
        text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{modified}", content.decode())
        return text.encode()

    return repack_zip(buffer.getvalue(), fixed_date)
