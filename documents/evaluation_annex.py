"""The sheets of a review's annex the report's body does not show (indicators by year with R,
task reports, narratives); with the body's table of agencies, the annex of the one
:class:`~documents.content.Content` of :mod:`documents.evaluation_content`, written by
:mod:`documents.content_xlsx` like the yearly annex."""

from __future__ import annotations

from documents.content import AnnexSheet, TableBlock
from documents.labels import NARRATIVE_LABELS, shown_ratio
from documents.report_data import Evaluation


def fitted_columns(names: list[str], rows: list[list]) -> list[tuple[str, float]]:
    """Each column as wide as its longest text (8 to 60 characters)."""
    return [
        (name, min(max(8, max([len(name)] + [len(str(row[n])) for row in rows]) * 0.9), 60))
        for n, name in enumerate(names)
    ]


def _sheet(name: str, heading: str, columns: list[str], rows: list[list]) -> TableBlock:
    return TableBlock(
        columns, rows, [], annex=AnnexSheet(name, heading, fitted_columns(columns, rows))
    )


def annex_tables(
    evaluation: Evaluation, *, heading: str, agencies: TableBlock
) -> list[TableBlock]:
    """The annex's sheets in order: indicators (``heading``), ``agencies`` (the body's table),
    task reports, narratives."""
    indicators = [
        [i.number, i.name, i.unit, i.target]
        + [i.series.get(y) for y in evaluation.years]
        + [i.status_text, None if i.ratio is None else float(shown_ratio(i.ratio))]
        + ["có" if i.worsening else "", i.reporter]
        for i in evaluation.indicators
    ]
    tasks = [
        [f"{g.number}. {g.name}", x.agency, x.status_text, x.results, x.difficulties, x.proposals]
        for g in evaluation.task_groups
        for x in g.entries
    ]
    narratives = [
        [NARRATIVE_LABELS[name], entry["agency"], entry["text"]]
        for name, entries in evaluation.narratives.items()
        for entry in entries
    ]
    return [
        _sheet(
            "Chỉ tiêu",
            heading,
            ["STT", "Chỉ tiêu", "Đơn vị", "Mục tiêu"]
            + [str(y) for y in evaluation.years]
            + ["Đánh giá", "R", "Đạt nhưng đang xấu đi", "Đơn vị báo cáo"],
            indicators,
        ),
        agencies,
        _sheet(
            "Nhiệm vụ",
            "Kết quả thực hiện các nhóm nhiệm vụ, giải pháp",
            ["Nhóm", "Cơ quan, đơn vị", "Tình trạng", "Kết quả", "Hạn chế, nguyên nhân",
             "Đề xuất"],  # fmt: skip
            tasks,
        ),
        _sheet(
            "Đánh giá chung",
            "Đánh giá chung của các cơ quan, đơn vị",
            ["Nội dung", "Cơ quan, đơn vị", "Nội dung đánh giá"],
            narratives,
        ),
    ]
