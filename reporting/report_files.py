"""The files of a report revision: the Decree 30 DOCX, the XLSX annex, the HTML page (and the
report's HTML alone, for its email) and the Markdown of its Prefect artifact, in one folder per
cycle; and the yearly report's content and charts.

All of them walk one :class:`~documents.content.Content`. The yearly one is built by
:func:`reporting.yearly_content.build_content` from the revision's stored consolidation
(``Report.data``) and the provincial values of the earlier years, with the charts drawn once
(a review's: :mod:`reporting.review_files`; :func:`reporting.cycle_kinds.build_report_files`
picks by the cycle's kind). The same revision gives the same DOCX and XLSX bytes, so re-running
a flow rewrites identical files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.chart_process import ChartProcess
from documents.charts import IndicatorSeries, ReportCharts
from documents.content import Content
from documents.content_docx import content_docx
from documents.content_html import report_body, report_page
from documents.content_markdown import content_markdown
from documents.content_xlsx import content_xlsx
from documents.indicators import value_text
from documents.labels import AGENCY_KIND_TEXT, Progress
from documents.letterhead import issuer_name
from documents.stored_report import read_consolidation
from documents.vietnamese import format_date
from mail.compose import Attachment
from models.cycles import local_today
from models.observations import observations_for
from models.orm import Agency, Cycle, Indicator, IndicatorValue, Report, Request, Submission
from reporting.yearly_content import build_content

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_PREFIX = "bao-cao"  # the yearly report's files: bao-cao-2026-du-thao-1.docx ...


@dataclass(frozen=True)
class ReportFiles:
    """The rendered files of one revision; ``draft`` files carry no number, date or signer."""

    stem: str  # ASCII file name without extension, e.g. "bao-cao-2026-215-BC-UBND"
    title: str  # Vietnamese, for attachment names, e.g. "Báo cáo số 215-BC-UBND năm 2026"
    docx: bytes
    xlsx: bytes
    html: str  # the standalone page, charts inline
    charts: ReportCharts
    body_html: str = ""  # the report alone: stored with the revision, the email's body
    markdown: str = ""  # the Prefect artifact's

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
    """data/reports/<programme>/<year>[-<kind>]/: every kind of report's files, drafts and
    approved ones."""
    suffix = "" if cycle.kind == "annual" else f"-{cycle.kind}"
    return reports_dir / cycle.programme.code / f"{cycle.year}{suffix}"


def chart_images(cycle: Cycle, charts: ReportCharts) -> dict[str, bytes]:
    """The drawn charts by the keys the content names: 'overview' and each indicator's code."""
    codes = [i.code for i in cycle.programme.indicators]
    return {"overview": charts.overview} | {
        code: png for code, (_, png) in zip(codes, charts.indicators, strict=False)
    }


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
        [Progress(row.progress) for row in read_consolidation(data).indicators],
        baseline_year=programme.baseline_year,
        target_year=programme.target_year,
    )


def file_stem(prefix: str, year: int, report: Report, *, draft: bool) -> str:
    """'bao-cao-2026-du-thao-3' for a draft revision, 'bao-cao-2026-215-BC-UBND' once approved
    (``prefix`` names the kind of report: 'bao-cao', 'so-ket', 'tong-ket')."""
    if draft:
        return f"{prefix}-{year}-du-thao-{report.revision}"
    number = (report.number or "").replace("/", "-")
    return f"{prefix}-{year}-{re.sub(r'[^0-9A-Za-z-]+', '-', number)}"


def decision_of(report: Report, now: dt.datetime | None) -> tuple[str, str, dt.date]:
    """An approved revision's number, signer and day of approval (in the programme's time)."""
    if not report.number or not report.signer:
        raise ValueError(f"report revision {report.revision} has no number or signer")
    day = local_today(report.cycle.programme, report.decided_at or now)
    return report.number, report.signer, day


def approved_reference(number: str, day: dt.date, registry_document: dict) -> str:
    """The annex's heading once approved: 'Kèm theo Báo cáo số 215/BC-UBND ngày ... của ...'."""
    issuer = issuer_name(registry_document)
    return f"Kèm theo Báo cáo số {number} ngày {format_date(day)} của {issuer}"


def report_content(
    report: Report, *, session: Session, draft: bool, now: dt.datetime | None = None
) -> tuple[Content, str, str]:
    """The yearly revision's content (the draft, or the approved report with its number,
    signer and the day of the approval), its file stem and its title."""
    cycle = report.cycle
    document = cycle.registry_version.document
    stem = file_stem(FILE_PREFIX, cycle.year, report, draft=draft)
    if draft:
        number = signer = report_date = None
        title = "Dự thảo báo cáo"
        reference = f"Kèm theo dự thảo báo cáo năm {cycle.year} (lần {report.revision})"
    else:
        number, signer, report_date = decision_of(report, now)
        title = f"Báo cáo số {number.replace('/', '-')}"
        reference = approved_reference(number, report_date, document)
    content = build_content(
        read_consolidation(report.data),
        document,
        number=number,
        signer=signer,
        day=report_date,
        annex_reference=reference,
        series=indicator_series(cycle, report.data["values"], session=session),
        agency_values=agency_values(cycle, report.data, session=session),
    )
    return content, stem, f"{title} năm {cycle.year}"


def render_files(
    content: Content, charts: ReportCharts, images: dict[str, bytes], *, stem: str, title: str
) -> ReportFiles:
    """Every file of the report, each walking ``content``."""
    return ReportFiles(
        stem,
        title,
        docx=content_docx(content, images),
        xlsx=content_xlsx(content),
        html=report_page(content, images),
        charts=charts,
        body_html=report_body(content),
        markdown=content_markdown(content),
    )
