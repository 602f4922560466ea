"""What differs between the kinds of cycle: the yearly report (annual), the 2025 mid-term
review (sơ kết) and the 2030 final review (tổng kết).

Every kind runs the same flows (open, remind, consolidate, submit to the ministry, with the
same approval); :data:`CYCLE_KINDS` holds, per kind, the few things that differ: how the
agencies are asked and how their answers are read and accepted (the yearly form or the
evaluation form, each with its Excel workbook: :mod:`reporting.report_forms`),
what a consolidation stores (the yearly consolidation or the review's evaluation), the report's
content and charts, its Vietnamese name. The emails of a review have their own templates
(``evaluation_*``, chosen by :func:`reporting.messages.template_for`); every kind's deadline
defaults to the programme's yearly rule (:func:`models.cycles.open_cycle`), a review's is
usually given when it is opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from documents.chart_process import ChartProcess
from documents.content import Content
from documents.labels import REVIEW_TEXT
from models.observations import record_observations
from models.orm import Cycle, CycleKind, Report
from reporting import report_files, review_files
from reporting.consolidation import consolidate, provincial_values
from reporting.evaluation import evaluate
from reporting.evaluation_requests import queue_evaluation_requests
from reporting.report_files import ReportFiles, chart_images, render_files
from reporting.report_forms import EVALUATION_FORM, YEARLY_FORM, ReportForm
from reporting.requests import RequestRow, queue_requests

QueueRequests = Callable[..., list[RequestRow]]  # (cycle, *, session, settings, now, progress)
DrawCharts = Callable[..., None]  # (charts, cycle, data, *, session)
ReportContent = Callable[..., tuple[Content, str, str]]  # (report, *, session, draft, now)


def yearly_data(cycle: Cycle, *, session: Session, as_of: dt.datetime) -> dict:
    """The yearly consolidation as stored with its revision; its provincial values are
    recorded as the year's observations (the next year's requests and reviews show them)."""
    consolidation = consolidate(cycle, session=session, as_of=as_of)
    record_observations(
        cycle.programme,
        cycle.year,
        provincial_values(consolidation),
        session=session,
        source="consolidation",
    )
    return consolidation.as_data()


def review_data(cycle: Cycle, *, session: Session, as_of: dt.datetime) -> dict:
    """The review's evaluation of every indicator, as stored with its revision."""
    return evaluate(cycle, session=session, as_of=as_of).as_data()


@dataclass(frozen=True)
class KindOfCycle:
    """One kind of cycle: what its flows do differently."""

    kind: CycleKind
    name: str  # Vietnamese: "năm", "sơ kết", "tổng kết"
    file_prefix: str  # of its report files: "bao-cao", "so-ket", "tong-ket"
    queue_requests: QueueRequests  # create the requests, queue each agency's email once
    consolidated: Callable[..., dict]  # (cycle, *, session, as_of) -> the revision's data
    draw_charts: DrawCharts
    report_content: ReportContent
    form: ReportForm  # what agencies report on, and how their answers come in

    def report_name(self, year: int) -> str:
        """'báo cáo năm 2026', 'báo cáo sơ kết năm 2025', 'báo cáo tổng kết năm 2030'."""
        return f"báo cáo năm {year}" if self.kind == CycleKind.ANNUAL else (
            f"báo cáo {self.name} năm {year}"
        )


CYCLE_KINDS: dict[CycleKind, KindOfCycle] = {
    CycleKind.ANNUAL: KindOfCycle(
        CycleKind.ANNUAL,
        "năm",
        report_files.FILE_PREFIX,
        queue_requests,
        yearly_data,
        report_files.draw_charts,
        report_files.report_content,
        YEARLY_FORM,
    ),
    **{
        kind: KindOfCycle(
            kind,
            name,
            review_files.FILE_PREFIX[kind],
            queue_evaluation_requests,
            review_data,
            review_files.draw_charts,
            review_files.report_content,
            EVALUATION_FORM,
        )
        for kind, name in REVIEW_TEXT.items()
    },
}


def kind_of(cycle: Cycle) -> KindOfCycle:
    """What the flows do differently for ``cycle``'s kind."""
    return CYCLE_KINDS[CycleKind(cycle.kind)]


def build_report_files(
    report: Report,
    *,
    session: Session,
    draft: bool,
    now: dt.datetime | None = None,
    charts: ChartProcess | None = None,
) -> ReportFiles:
    """Render a revision's files, whatever its cycle's kind: the draft, or the approved report
    (number, signer and the day of the approval, as the coordinator gave them).

    The charts are drawn by ``charts`` (a chart process started early, so that matplotlib is
    ready, and perhaps already given them by the kind's ``draw_charts``), or by one started
    here, while the content is built."""
    if charts is None:
        with ChartProcess() as started:
            return build_report_files(report, session=session, draft=draft, now=now, charts=started)
    kind = kind_of(report.cycle)
    if not charts.drawing:
        kind.draw_charts(charts, report.cycle, report.data, session=session)
    content, stem, title = kind.report_content(report, session=session, draft=draft, now=now)
    pictures = charts.result()
    return render_files(content, pictures, chart_images(report.cycle, pictures), stem=stem,
                        title=title)  # fmt: skip
