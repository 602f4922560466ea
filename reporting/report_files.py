"""The files of a yearly report revision: the Decree 30 DOCX, the XLSX annex and the HTML page.

All three come from the revision's stored consolidation (``Report.data``) and the provincial
values of the earlier years, with the charts drawn once for the DOCX and the HTML. The same
revision gives the same DOCX and XLSX bytes, so re-running a flow rewrites identical files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.annex import annual_annex
from documents.annual_docx import annual_docx, summary_line
from documents.chart_process import ChartProcess
from documents.charts import IndicatorSeries, ReportCharts, progress_status
from documents.decree30 import issuer_name
from documents.indicators import value_text
from documents.report import render_report, report_page
from documents.vietnamese import format_date
from mail.compose import Attachment
from models.cycles import local_today
from models.observations import observations_for
from models.orm import Agency, Cycle, Indicator, IndicatorValue, Report, Request, Submission

AGENCY_KIND_TEXT = {
    "department": "Sở, ban, ngành",
    "organisation": "Cơ quan, tổ chức",
    "local": "UBND cấp cơ sở",
}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ReportFiles:
    """The rendered files of one revision; ``draft`` files carry no number, date or signer."""

    stem: str  # ASCII file name without extension, e.g. "bao-cao-2026-215-BC-UBND"
    title: str  # Vietnamese, for attachment names, e.g. "Báo cáo số 215-BC-UBND năm 2026"
    docx: bytes
    xlsx: bytes
    html: str
    charts: ReportCharts

    def write(self, folder: Path) -> dict[str, Path]:
        """Write the three files into ``folder`` (created); returns extension -> path."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {ext: folder / f"{self.stem}.{ext}" for ext in ("docx", "xlsx", "html")}
        paths["docx"].write_bytes(self.docx)
        paths["xlsx"].write_bytes(self.xlsx)
        paths["html"].write_text(self.html, encoding="utf-8")
        return paths

    def attachments(self) -> list[Attachment]:
        """The DOCX and its annex, named in Vietnamese, for the email to the ministry."""
        return [
            Attachment(f"{self.title}.docx", self.docx, DOCX_TYPE),
            Attachment(f"Phụ lục - {self.title}.xlsx", self.xlsx, XLSX_TYPE),
        ]


def indicator_series(
    cycle: Cycle, values: dict[str, list], *, session: Session
) -> dict[str, dict[int, Decimal | bool | None]]:
    """Indicator code -> year -> provincial value, from the baseline year to the cycle's:
    stored observations for the earlier years, the consolidation's ``values`` for its year."""
    programme = cycle.programme
    series: dict[str, dict[int, Decimal | bool | None]] = {i.code: {} for i in programme.indicators}
    kinds = {i.code: i.kind for i in programme.indicators}
    for year in range(min(programme.baseline_year, cycle.year), cycle.year):
        for code, observed in observations_for(programme, year, session=session).items():
            yes_no = kinds.get(code) == "yes_no"
            series.setdefault(code, {})[year] = observed.achieved if yes_no else observed.value
    for code, (value, achieved) in values.items():
        yes_no = kinds.get(code) == "yes_no"
        series.setdefault(code, {})[cycle.year] = (
            achieved if yes_no else (Decimal(value) if value is not None else None)
        )
    return series


def agency_values(cycle: Cycle, data: dict, *, session: Session) -> list[list]:
    """Every indicator value of the submissions the consolidation counted (on time or late:
    each agency's revision number ``revisions`` at that time), agency by agency: the breakdown
    behind the provincial values, local units included where they report values."""
    counted = {
        a["code"]: a["revisions"] for a in data["agencies"] if a["status"] in ("on_time", "late")
    }
    # The values alone, in one query (not every request with its submissions: 4,500 agencies).
    found = session.execute(
        select(Agency, Submission.revision, IndicatorValue, Indicator)
        .join(Request, Request.agency_id == Agency.id)
        .join(Submission, Submission.request_id == Request.id)
        .join(IndicatorValue, IndicatorValue.submission_id == Submission.id)
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(Request.cycle_id == cycle.id)
        .order_by(Agency.position, Indicator.number)
    )
    return [
        [
            agency.name,
            AGENCY_KIND_TEXT.get(agency.kind, agency.kind),
            indicator.number,
            indicator.name,
            item.achieved if indicator.kind == "yes_no" else item.value,
            value_text(indicator, item.value, item.achieved),
            item.note,
        ]
        for agency, revision, item, indicator in found
        if counted.get(agency.code) == revision
    ]


def cycle_folder(reports_dir: Path, cycle: Cycle) -> Path:
    """data/reports/<programme>/<year>[-<kind>]/"""
    suffix = "" if cycle.kind == "annual" else f"-{cycle.kind}"
    return reports_dir / cycle.programme.code / f"{cycle.year}{suffix}"


def draw_charts(charts: ChartProcess, cycle: Cycle, data: dict, *, session: Session) -> None:
    """Start drawing the charts of a revision's ``data`` (``Report.data``): its overview of the
    progress statuses and each indicator's values by year."""
    programme = cycle.programme
    series = indicator_series(cycle, data["values"], session=session)
    charts.draw(
        [
            IndicatorSeries(
                i.number,
                i.name,
                i.unit,
                i.target,
                i.kind == "yes_no",
                series.get(i.code, {}),
                i.rule,
            )
            for i in programme.indicators
        ],
        [progress_status(row["progress"]) for row in data["indicators"]],
        baseline_year=programme.baseline_year,
        target_year=programme.target_year,
    )


def build_report_files(
    report: Report,
    *,
    session: Session,
    draft: bool,
    now: dt.datetime | None = None,
    charts: ChartProcess | None = None,
) -> ReportFiles:
    """Render the revision's DOCX, XLSX and HTML: the draft, or the approved report (number,
    signer and the day of the approval, as the coordinator gave them).

    The charts are drawn by ``charts`` (a chart process started early, so that matplotlib is
    ready, and perhaps already given them by :func:`draw_charts`), or by one started here,
    while the annex is written."""
    if charts is None:
        with ChartProcess() as started:
            return build_report_files(report, session=session, draft=draft, now=now, charts=started)
    cycle, data = report.cycle, report.data
    programme, document = cycle.programme, cycle.registry_version.document
    series = indicator_series(cycle, data["values"], session=session)
    if not charts.drawing:
        draw_charts(charts, cycle, data, session=session)
    if draft:
        number = signer = report_date = None
        stem, title = f"bao-cao-{cycle.year}-du-thao-{report.revision}", "Dự thảo báo cáo"
        reference = f"Kèm theo dự thảo báo cáo năm {cycle.year} (lần {report.revision})"
    else:
        if not report.number or not report.signer:
            raise ValueError(f"report revision {report.revision} has no number or signer")
        number, signer = report.number, report.signer
        report_date = local_today(programme, report.decided_at or now)
        safe = re.sub(r"[^0-9A-Za-z-]+", "-", number.replace("/", "-"))
        stem, title = f"bao-cao-{cycle.year}-{safe}", f"Báo cáo số {number.replace('/', '-')}"
        reference = (
            f"Kèm theo Báo cáo số {number} ngày {format_date(report_date)} của "
            f"{issuer_name(document)}"
        )
    title = f"{title} năm {cycle.year}"
    xlsx = annual_annex(
        data,
        series=series,
        reference=reference,
        created=report_date,
        agency_values=agency_values(cycle, data, session=session),
    )
    if draft and report.html:  # stored with the revision: the same rendering, done already
        body = report.html
    else:
        _, body = render_report(
            data, document, draft=draft, number=number, signer=signer, report_date=report_date
        )
    pictures = charts.result()
    docx = annual_docx(
        data,
        document,
        draft=draft,
        number=number,
        signer=signer,
        report_date=report_date,
        charts=pictures,
        baseline_year=programme.baseline_year,
    )
    html = report_page(body, pictures, title=summary_line(data))
    return ReportFiles(stem, title, docx, xlsx, html, pictures)
