"""Tiny helpers that make valid domain objects for tests."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from config.settings import get_settings
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from models.orm import Agency, Channel
from reporting.intake import record_submission
from reporting.submission_input import SubmissionInput, TaskReportInput

ICT = dt.timezone(dt.timedelta(hours=7))
PROGRAMME = "vinh-long-r42"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ICT)


def valid_input(agency: Agency, value: str = "50,5") -> SubmissionInput:
    values = {
        i.code: ("có" if i.kind == "yes_no" else "12" if i.kind == "count" else value)
        for i in agency.indicators
    }
    tasks = {
        g.code: TaskReportInput(
            status="done",
            results=f"Đã thực hiện nhóm {g.number}.",
            difficulties="Thiếu kinh phí." if g.number == 5 else "",
        )
        for g in agency.task_groups
    }
    return SubmissionInput(values=values, tasks=tasks)


def submit(year: int, agency_codes: list[str], day: dt.date, value: str = "50,5") -> None:
    """Record a valid submission for each named agency, as the web form would."""
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, year, session=session)
        for request in cycle_requests(cycle, session=session):
            if request.agency.code in agency_codes:
                record_submission(
                    request,
                    valid_input(request.agency, value),
                    session=session,
                    channel=Channel.WEB_FORM,
                    submitted_by="test",
                    submitted_at=at(day),
                )


def agency_codes(year: int) -> list[str]:
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, year, session=session)
        return [r.agency.code for r in cycle_requests(cycle, session=session)]


def agency_task_groups(code: str, year: int = 2026) -> list[str]:
    """Task group codes the agency reports on in the cycle of ``year``."""
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, year, session=session)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == code)
        return [g.code for g in request.agency.task_groups]


def outbox(kind: str) -> list[email.message.EmailMessage]:
    """The messages of ``kind`` in the configured outbox folder, parsed."""
    folder = get_settings().mail.outbox_dir
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob(f"*-{kind}-*.eml"))
    ]
