"""A review's report (mid-term sơ kết, final tổng kết) as a revision's content and charts.

The stored data of a review's revision is its :class:`~documents.report_data.Evaluation`
(:func:`reporting.evaluation.evaluate`); its content is
:func:`documents.evaluation_content.build_content`, framed by the registry version as the
yearly report is, and rendered by the same renderers into the same folder
(:mod:`reporting.report_files`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from documents.chart_process import ChartProcess
from documents.charts import IndicatorSeries
from documents.content import Content
from documents.evaluation_content import build_content
from documents.labels import Progress
from documents.report_data import Evaluation
from documents.stored_report import read_evaluation
from models.orm import Cycle, CycleKind, Report
from reporting.report_files import approved_reference, decision_of, file_stem

FILE_PREFIX = {CycleKind.MIDTERM: "so-ket", CycleKind.FINAL: "tong-ket"}


def review_content(
    evaluation: Evaluation,
    registry_document: dict,
    *,
    number: str | None = None,
    signer: str | None = None,
    day: dt.date | None = None,
) -> Content:
    """The review's report: the draft (no ``number``, ``signer`` or ``day``; marked 'DỰ THẢO')
    or the approved one, its annex headed by what it accompanies."""
    draft = not (number and signer and day)
    content = build_content(evaluation).frame(
        registry_document, year=evaluation.year, number=number, signer=signer, day=day
    )
    if draft:
        content.draft_note = f"Tổng hợp ngày {evaluation.as_of}"
        content.annex_reference = (
            f"Kèm theo dự thảo báo cáo {evaluation.review} năm {evaluation.year}"
        )
    else:
        reference = approved_reference(number, day, registry_document)  # type: ignore[arg-type]
        content.annex_reference = reference
    content.chart_names = {i.code: f"{i.number}. {i.name}" for i in evaluation.indicators}
    return content


def report_content(
    report: Report, *, session: Session, draft: bool, now: dt.datetime | None = None
) -> tuple[Content, str, str]:
    """The review revision's content (draft or approved), its file stem and its title."""
    cycle = report.cycle
    evaluation = read_evaluation(report.data)
    document = cycle.registry_version.document
    stem = file_stem(FILE_PREFIX[CycleKind(cycle.kind)], cycle.year, report, draft=draft)
    period = f"{evaluation.review} giai đoạn {evaluation.baseline_year}-{evaluation.year}"
    if draft:
        return review_content(evaluation, document), stem, f"Dự thảo báo cáo {period}"
    number, signer, day = decision_of(report, now)
    content = review_content(evaluation, document, number=number, signer=signer, day=day)
    return content, stem, f"Báo cáo số {number.replace('/', '-')} {period}"


def review_series(evaluation: Evaluation) -> list[IndicatorSeries]:
    """What each indicator's chart shows: the round's series by year and its target."""
    return [
        IndicatorSeries(
            i.number, i.name, i.unit, i.target_value, i.kind == "yes_no", i.series, i.rule
        )  # type: ignore[arg-type]
        for i in evaluation.indicators
    ]


def draw_evaluation_charts(charts: ChartProcess, evaluation: Evaluation) -> None:
    """Start drawing an evaluation's charts: the overview of the statuses and each indicator's
    values by year (the yearly report's chart path and drawing)."""
    charts.draw(
        review_series(evaluation),
        [Progress(i.status) for i in evaluation.indicators],
        baseline_year=evaluation.baseline_year,
        target_year=evaluation.target_year,
        overview_title=f"Tiến độ {len(evaluation.indicators)} chỉ tiêu đến năm {evaluation.year}",
    )


def draw_charts(charts: ChartProcess, cycle: Cycle, data: dict, *, session: Session) -> None:
    """Start drawing the charts of a review revision's ``data`` (``Report.data``)."""
    draw_evaluation_charts(charts, read_evaluation(data))
