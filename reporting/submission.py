"""Send the approved report to the ministry, once, with its DOCX and XLSX annex attached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.letterhead import issuer_name
from documents.templating import render_email
from mail.compose import Recipient, compose
from mail.queue import enqueue
from models.cycles import local_today
from models.orm import MessageKind, Report, ReportStatus
from reporting.messages import common_context, programme_mail
from reporting.cycle_kinds import build_report_files
from reporting.report_files import ReportFiles, cycle_folder
from reporting.report_pdf import write_official_pdf


def finalise_and_queue(
    report: Report, *, session: Session, settings: Settings, now: dt.datetime
) -> tuple[ReportFiles, dict[str, Path]]:
    """Render the final report (number, signer, date) and queue it to the ministry, the
    signed PDF, the Decree 30 DOCX and its XLSX annex attached; returns the files and where
    they were written (under the reports folder; the PDF under "pdf")."""
    if report.status != ReportStatus.APPROVED:
        raise ValueError(f"report revision {report.revision} is {report.status}, not approved")
    cycle = report.cycle
    document = cycle.registry_version.document
    report_date = local_today(cycle.programme, report.decided_at or now)
    files = build_report_files(report, session=session, draft=False, now=now)
    report.markdown, report.html = files.markdown, files.body_html
    folder = cycle_folder(settings.cycle.reports_dir, cycle)
    paths = files.write(folder)
    pdf, paths["pdf"] = write_official_pdf(report, files, folder, settings=settings)
    ministry = document["ministry"]
    email = compose(
        render_email(
            "report",
            **{
                **common_context(cycle, settings),
                "number": report.number,
                "signer": report.signer,
                "report_date": report_date,
                "report_markdown": report.markdown,
                "report_html": report.html,
                "issuer": issuer_name(document),  # "Ủy ban nhân dân tỉnh Vĩnh Long"
                "pdf_signed": pdf.signed_by is not None,
            },
        ),
        to=[Recipient(ministry["name"], ministry["email"])],
        attachments=[pdf.attachment(files.title), *files.attachments()],
        settings=programme_mail(cycle, settings),
        now=now,
    )
    enqueue(
        cycle, MessageKind.REPORT, "ministry", email, session=session, rung=report.revision, now=now
    )
    session.flush()
    return files, paths
