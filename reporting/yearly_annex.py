"""The sheets of the yearly report's annex that the report's body does not show: every value
agency by agency, the values that looked wrong, the task reports in full, the local units'
breakdown, and what agencies said. With the body's own tables (indicators, reporting, which
the annex shows with more columns) they are the annex's sheets, in order, of the one
:class:`~documents.content.Content` of :mod:`reporting.yearly_content`.
"""

from __future__ import annotations

from collections.abc import Sequence

from documents.content import AnnexSheet, TableBlock
from documents.report_data import Consolidation

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


def _annex_only(sheet: AnnexSheet, rows: list[list]) -> TableBlock:
    return TableBlock([name for name, _ in sheet.columns], rows, [], annex=sheet)


def local_breakdown(c: Consolidation) -> tuple[list[str], list[list[str]]]:
    """Task groups as columns, one row per local unit asked: its reporting status, then the
    status it gave each task group ('—' where it gave none)."""
    statuses: dict[str, dict[int, str]] = {}
    for group in c.task_groups:
        for entry in group.entries:
            statuses.setdefault(entry.agency, {})[group.number] = entry.status_text
    groups = [f"{g.number}. {g.name}" for g in c.task_groups]
    rows = [
        [a.name, a.status_text, a.submitted_on or "—"]
        + [statuses.get(a.name, {}).get(g.number, "—") for g in c.task_groups]
        for a in c.agencies
        if a.kind == LOCAL_KIND
    ]
    return groups, rows


def annex_sheets(
    c: Consolidation,
    indicators: TableBlock,
    agencies: TableBlock,
    agency_values: Sequence[Sequence[object]],
) -> list[TableBlock]:
    """The annex's sheets in order; ``indicators`` and ``agencies`` are the body's tables.
    ``agency_values`` are the rows (agency, level, indicator number and name, value, value as
    text, note) of every value the counted submissions gave."""
    year = c.year
    sheets = [
        indicators,
        _annex_only(
            AnnexSheet(
                SHEETS[1],
                f"SỐ LIỆU NĂM {year} THEO CƠ QUAN, ĐƠN VỊ BÁO CÁO",
                [("Cơ quan, đơn vị", 36), ("Cấp", 18), ("STT chỉ tiêu", 8), ("Chỉ tiêu", 50),
                 ("Giá trị", 14), ("Như báo cáo", 18), ("Ghi chú", 30)],  # fmt: skip
            ),
            [list(row) for row in agency_values],
        ),
        _annex_only(  # the counted values that looked wrong when they arrived
            AnnexSheet(
                SHEETS[2],
                f"SỐ LIỆU NĂM {year} CẦN LƯU Ý (ngoài khoảng hợp lý hoặc chênh lệch lớn so với "
                "năm trước)",
                [("Cơ quan, đơn vị", 32), ("Chỉ tiêu", 44), ("Giá trị", 16), ("Lý do", 60),
                 ("Xử lý", 26)],  # fmt: skip
            ),
            [[f.agency, f.indicator, f.value, f.reasons, f.handling] for f in c.flagged]
            or [["Không có số liệu cần lưu ý.", "", "", "", ""]],
        ),
        agencies,
        _annex_only(
            AnnexSheet(
                SHEETS[4],
                "KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU",
                [("Nhóm nhiệm vụ", 36), ("Cơ quan chủ trì", 24), ("Cơ quan, đơn vị báo cáo", 32),
                 ("Tình trạng", 18), ("Kết quả thực hiện", 60), ("Khó khăn, vướng mắc", 40),
                 ("Đề xuất, kiến nghị", 40)],  # fmt: skip
            ),
            [
                [f"{g.number}. {g.name}", g.lead, e.agency, e.status_text, e.results,
                 e.difficulties, e.proposals]  # fmt: skip
                for g in c.task_groups
                for e in g.entries
            ],
        ),
    ]
    groups, rows = local_breakdown(c)
    if rows:
        sheets.append(
            _annex_only(
                AnnexSheet(
                    SHEETS[5],
                    "TÌNH HÌNH THỰC HIỆN THEO ĐƠN VỊ CẤP CƠ SỞ",
                    [("Đơn vị", 36), ("Tình trạng báo cáo", 22), ("Ngày gửi", 12)]
                    + [(name, 18) for name in groups],
                ),
                rows,
            )
        )
    sheets.append(
        _annex_only(
            AnnexSheet(
                SHEETS[6],
                "KHÓ KHĂN, VƯỚNG MẮC; ĐỀ XUẤT ĐIỀU CHỈNH; KIẾN NGHỊ",
                [("Nội dung", 22), ("Cơ quan, đơn vị", 32), ("Chi tiết", 90)],
            ),
            [["Khó khăn, vướng mắc", e.agency, e.difficulties] for e in c.difficulties]
            + [["Đề xuất điều chỉnh", a["agency"], a["text"]] for a in c.adjustments]
            + [["Kiến nghị", r["agency"], r["text"]] for r in c.recommendations],
        )
    )
    return sheets
