"""Accept an agency's report from any channel: validate and store it, then acknowledge it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.indicators import value_text
from documents.vietnamese import format_date
from models.drafts import discard_draft
from models.orm import Channel, MessageKind, Request, Submission
from models.submissions import SubmissionInput, record_submission
from reporting.consolidation import TASK_STATUS_TEXT
from reporting.messages import queue_for_agency

CHANNEL_TEXT = {
    Channel.WEB_FORM: "biểu mẫu trực tuyến",
    Channel.UPLOAD: "tệp Excel tải lên",
    Channel.OPS_IMPORT: "tệp do bộ phận tổng hợp nhập",
    Channel.DEMO: "mô phỏng",
}


def receipt_context(submission: Submission) -> dict[str, object]:
    """What the receipt page and the receipt email show."""
    cycle = submission.request.cycle
    local = submission.submitted_at.astimezone(ZoneInfo(cycle.programme.timezone))
    return {
        "revision": submission.revision,
        "submitted_on": format_date(local.date()),
        "submitted_time": local.strftime("%H:%M"),
        "late": submission.is_late,
        "channel": CHANNEL_TEXT[Channel(submission.channel)],
        "values": [
            {
                "number": v.indicator.number,
                "name": v.indicator.name,
                "value": value_text(v.indicator, v.value, v.achieved),
            }
            for v in sorted(submission.values, key=lambda v: v.indicator.number)
        ],
        "tasks": [
            {
                "number": t.task_group.number,
                "name": t.task_group.name,
                "status": TASK_STATUS_TEXT[t.status],
            }
            for t in sorted(submission.task_reports, key=lambda t: t.task_group.number)
        ],
    }


def accept_submission(
    request: Request,
    data: SubmissionInput,
    *,
    session: Session,
    settings: Settings,
    channel: Channel,
    submitted_by: str,
    now: dt.datetime,
) -> Submission:
    """Record the submission (IntakeError if invalid), then acknowledge it."""
    submission = record_submission(
        request, data, session=session, channel=channel, submitted_by=submitted_by, submitted_at=now
    )
    acknowledge(submission, session=session, settings=settings, now=now)
    return submission


def acknowledge(
    submission: Submission,
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
    context: dict[str, object] | None = None,
) -> None:
    """Drop the agency's draft and queue its receipt email for this revision (``context``
    replaces the yearly receipt's, e.g. for a review round)."""
    request = submission.request
    discard_draft(request, session=session)
    queue_for_agency(
        MessageKind.RECEIPT,
        request,
        context or receipt_context(submission),
        rung=submission.revision,
        session=session,
        settings=settings,
        now=now,
    )
