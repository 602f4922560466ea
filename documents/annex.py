"""The XLSX annex of the yearly report: the report's tables, one sheet each, and the breakdown
by local unit (communes, wards, districts) of what each one reported.

Built from the same stored consolidation as the DOCX and the Markdown, and written with
``documents.xlsx_writer`` (an annex of every commune has tens of thousands of cells: openpyxl
took seconds). Indicator values are written as numbers (shown with a Vietnamese-style format by
Excel's locale) next to the texts the report prints; years before the report's come from the
provincial observations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from documents.annex_table import annex_bytes, table_sheet
from documents.report import trend_text
from documents.xlsx_writer import Sheet

LOCAL_KIND = "local"
SHEETS = (
    "Chỉ tiêu",
    "Số liệu theo đơn vị",
    "Số liệu cần lưu ý",
    "Tình hình báo cáo",
    "Nhiệm vụ",
    "Theo đơn vị cấp cơ sở",
    "Khó khăn, đề xuất",
)
CHANNEL_TEXT = {  # how a report arrived, as the annex names it (never the internal code)
    "web_form": "Biểu mẫu trực tuyến",
    "upload": "Tải lên tệp Excel",
    "ops_import": "Nhập từ tệp đã gửi",
    "demo": "Dữ liệu minh họa",
}


def channel_text(channel: str | None) -> str:
    return "—" if not channel else CHANNEL_TEXT.get(channel, "Khác")


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


def flagged_sheet(data: dict, reference: str) -> Sheet:
    """The counted values that looked wrong when they arrived (outside their plausible range,
    or far from the agency's last value), and whether the agency confirmed them."""
    flagged = data.get("flagged", [])  # a revision stored before flags has none
    return table_sheet(
        SHEETS[2],
        f"SỐ LIỆU NĂM {data['year']} CẦN LƯU Ý (ngoài khoảng hợp lý hoặc chênh lệch lớn so với "
        "năm trước)",
        reference,
        [("Cơ quan, đơn vị", 32), ("Chỉ tiêu", 44), ("Giá trị", 16), ("Lý do", 60), ("Xử lý", 26)],
        [[f["agency"], f["indicator"], f["value"], f["reasons"], f["handling"]] for f in flagged]
        or [["Không có số liệu cần lưu ý.", "", "", "", ""]],
    )


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
    sheets: list[Sheet] = []
    sheets.append(
        table_sheet(
            SHEETS[0],
            f"KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CHỦ YẾU ĐẾN NĂM {target_year}",
            reference,
            [
                ("STT", 6),
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
    )
    sheets.append(
        table_sheet(
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
    )
    sheets.append(flagged_sheet(data, reference))
    sheets.append(
        table_sheet(
            SHEETS[3],
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
                    channel_text(a["channel"]),
                ]  # fmt: skip
                for n, a in enumerate(data["agencies"], start=1)
            ],
        )
    )
    sheets.append(
        table_sheet(
            SHEETS[4],
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
    )
    groups, rows = local_breakdown(data)
    if rows:
        sheets.append(
            table_sheet(
                SHEETS[5],
                "TÌNH HÌNH THỰC HIỆN THEO ĐƠN VỊ CẤP CƠ SỞ",
                reference,
                [("Đơn vị", 36), ("Tình trạng báo cáo", 22), ("Ngày gửi", 12)]
                + [(name, 18) for name in groups],
                rows,
            )
        )
    sheets.append(
        table_sheet(
            SHEETS[6],
            "KHÓ KHĂN, VƯỚNG MẮC; ĐỀ XUẤT ĐIỀU CHỈNH; KIẾN NGHỊ",
            reference,
            [("Nội dung", 22), ("Cơ quan, đơn vị", 32), ("Chi tiết", 90)],
            [["Khó khăn, vướng mắc", e["agency"], e["difficulties"]] for e in data["difficulties"]]
            + [["Đề xuất điều chỉnh", a["agency"], a["text"]] for a in data["adjustments"]]
            + [["Kiến nghị", r["agency"], r["text"]] for r in data["recommendations"]],
        )
    )
    return annex_bytes(sheets, title=f"Phụ lục báo cáo năm {year}", created=created)
