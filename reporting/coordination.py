"""What a coordinator does to a cycle: send a report back, lock or reopen, re-issue a link."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from config.settings import Settings
from models.cycles import local_today
from models.orm import (
    AuditEvent,
    Cycle,
    CycleStatus,
    MessageKind,
    Request,
    SubmissionStatus,
)
from reporting.messages import queue_for_agency


def send_back(
    request: Request,
    reason: str,
    *,
    session: Session,
    settings: Settings,
    actor: str,
    now: dt.datetime,
) -> None:
    """Return the agency's latest submission with a reason, and email it its link and the reason."""
    if not reason.strip():
        raise ValueError("reason: a send-back needs a reason")
    if not request.submissions or request.submissions[-1].status == SubmissionStatus.RETURNED:
        raise ValueError(f"{request.agency.code} has no current submission to send back")
    submission = request.submissions[-1]
    submission.status, submission.status_reason = SubmissionStatus.RETURNED, reason.strip()
    queue_for_agency(
        MessageKind.RETURNED,
        request,
        {"revision": submission.revision, "reason": reason.strip()},
        rung=submission.revision,
        session=session,
        settings=settings,
        now=now,
    )
    session.add(
        AuditEvent(
            actor=actor,
            action="submission.returned",
            cycle_id=request.cycle_id,
            at=now,
            detail={
                "agency": request.agency.code,
                "revision": submission.revision,
                "reason": reason,
            },
        )
    )
    session.flush()


def set_cycle_status(
    cycle: Cycle, status: CycleStatus, *, session: Session, actor: str, now: dt.datetime
) -> None:
    """Lock a cycle (no more revisions) or reopen it."""
    if cycle.status == CycleStatus.SUBMITTED:
        raise ValueError(f"cycle {cycle.year} was submitted to the ministry: it stays as it is")
    cycle.status = status
    session.add(
        AuditEvent(
            actor=actor,
            action=f"cycle.{status.value}",
            cycle_id=cycle.id,
            at=now,
            detail={"year": cycle.year},
        )
    )
    session.flush()


def reissue_link(
    request: Request, *, session: Session, settings: Settings, actor: str, now: dt.datetime
) -> None:
    """Revoke the agency's current link and email it a new one."""
    request.link_version += 1
    request.link_issued_on = local_today(request.cycle.programme, now)  # lives from today
    session.flush()
    queue_for_agency(
        MessageKind.LINK,
        request,
        {"link_version": request.link_version},
        rung=request.link_version,
        session=session,
        settings=settings,
        now=now,
    )
    session.add(
        AuditEvent(
            actor=actor,
            action="link.reissued",
            cycle_id=request.cycle_id,
            at=now,
            detail={"agency": request.agency.code, "link_version": request.link_version},
        )
    )
    session.flush()
