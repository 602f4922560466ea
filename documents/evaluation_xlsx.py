"""The evaluation's Excel annex: indicators by year with their status, agencies, narratives.

Laid out like the yearly report's annex (``documents.annex``): a heading, the report it goes
with, then a ruled table per sheet.
"""

from __future__ import annotations

import datetime as dt

from documents.annex_table import annex_bytes, table_sheet
from documents.evaluation_content import agency_table, indicator_table, summary_line
from documents.labels import NARRATIVE_LABELS, shown_ratio
from documents.report_data import Evaluation


def _columns(names: list[str], rows: list[list]) -> list[tuple[str, float]]:
    """Each column as wide as its longest text (8 to 60 characters)."""
    return [
        (name, min(max(8, max([len(name)] + [len(str(row[n])) for row in rows]) * 0.9), 60))
        for n, name in enumerate(names)
    ]


def build_evaluation_xlsx(
    evaluation: Evaluation, *, reference: str, created: dt.date | None = None
) -> bytes:
    """Four sheets with the tables of the report, as an annex to it; ``reference`` says which
    report (the draft, or the number and day of the approved one)."""
    title = summary_line(evaluation)
    table = indicator_table(evaluation)
    indicators = [
        [i.number, i.name, i.unit, i.target]
        + [i.series.get(y) for y in evaluation.years]
        + [i.status_text, None if i.ratio is None else float(shown_ratio(i.ratio))]
        + ["có" if i.worsening else "", i.reporter]
        for i in evaluation.indicators
    ]
    indicators = [
        [v if not isinstance(v, bool) else ("Có" if v else "Không") for v in row]
        for row in indicators
    ]
    agencies = agency_table(evaluation)
    tasks = [
        [f"{g.number}. {g.name}", x.agency, x.status, x.results, x.difficulties, x.proposals]
        for g in evaluation.task_groups
        for x in g.entries
    ]
    narratives = [
        [NARRATIVE_LABELS[name], entry["agency"], entry["text"]]
        for name, entries in evaluation.narratives.items()
        for entry in entries
    ]
    sheets = [
        table_sheet(
            "Chỉ tiêu",
            f"{title} - {table.caption}",
            reference,
            _columns(
                ["STT", "Chỉ tiêu", "Đơn vị", "Mục tiêu"]
                + [str(y) for y in evaluation.years]
                + ["Đánh giá", "R", "Đạt nhưng đang xấu đi", "Đơn vị báo cáo"],
                indicators,
            ),
            indicators,
        ),
        table_sheet(
            "Đơn vị báo cáo",
            agencies.caption or "",
            reference,
            _columns(list(agencies.columns), agencies.rows),
            agencies.rows,
        ),
        table_sheet(
            "Nhiệm vụ",
            "Kết quả thực hiện các nhóm nhiệm vụ, giải pháp",
            reference,
            _columns(
                [
                    "Nhóm",
                    "Cơ quan, đơn vị",
                    "Tình trạng",
                    "Kết quả",
                    "Hạn chế, nguyên nhân",
                    "Đề xuất",
                ],
                tasks,
            ),  # fmt: skip
            tasks,
        ),
        table_sheet(
            "Đánh giá chung",
            "Đánh giá chung của các cơ quan, đơn vị",
            reference,
            _columns(["Nội dung", "Cơ quan, đơn vị", "Nội dung đánh giá"], narratives),
            narratives,
        ),
    ]
    return annex_bytes(sheets, title=f"Phụ lục - {title}", created=created)
