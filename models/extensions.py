"""Requests for more time and their decisions, as stored: data functions that only flush.

Rules (the caller validates what a person typed, ``reporting.extensions``):
- an agency has at most one pending request per cycle: a new one replaces it (REPLACED);
- a decision sets, or leaves, the agency's own last day (``Request.extended_until``); a report
  already received by a granted date is on time from then on (its late flag is cleared).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.cycles import local_today
from models.orm import (
    Agency,
    AuditEvent,
    Cycle,
    DeadlineExtension,
    ExtensionStatus,
    Request,
)


def pending_extension(request: Request) -> DeadlineExtension | None:
    return next((e for e in request.extensions if e.status == ExtensionStatus.PENDING), None)


def last_decision(request: Request) -> DeadlineExtension | None:
    """The agency's latest decided request (granted or refused), if any."""
    decided = [e for e in request.extensions if e.decided_at is not None]
    return decided[-1] if decided else None


def cycle_extensions(
    cycle: Cycle, *, session: Session, status: str | None = None
) -> list[DeadlineExtension]:
    """The cycle's requests for more time (of ``status``), in registry order, then oldest first."""
    query = (
        select(DeadlineExtension)
        .join(Request)
        .join(Agency)
        .where(Request.cycle_id == cycle.id)
        .options(selectinload(DeadlineExtension.request).selectinload(Request.agency))
        .order_by(Agency.position, DeadlineExtension.id)
    )
    if status is not None:
        query = query.where(DeadlineExtension.status == status)
    return list(session.scalars(query))


def record_extension_request(
    request: Request,
    until: dt.date,
    reason: str,
    *,
    session: Session,
    requested_by: str,
    now: dt.datetime,
) -> DeadlineExtension:
    """Store the agency's request, replacing its pending one (one pending per agency)."""
    replaced = pending_extension(request)
    if replaced is not None:
        replaced.status = ExtensionStatus.REPLACED
    extension = DeadlineExtension(
        request=request,
        requested_until=until,
        reason=reason,
        requested_by=requested_by,
        requested_at=now,
        status=ExtensionStatus.PENDING,
        note="",
    )
    session.add(extension)
    session.add(
        AuditEvent(
            actor=requested_by,
            action="extension.requested",
            cycle_id=request.cycle_id,
            at=now,
            detail={
                "agency": request.agency.code,
                "until": until.isoformat(),
                "replaces": replaced.id if replaced is not None else None,
            },
        )
    )
    session.flush()
    return extension


def record_decision(
    extension: DeadlineExtension,
    *,
    grant: bool,
    until: dt.date | None,
    note: str,
    session: Session,
    actor: str,
    now: dt.datetime,
) -> list[int]:
    """Grant (until ``until``) or refuse a pending request; returns the revisions of the
    agency's reports that become on time (received by the granted date)."""
    if extension.status != ExtensionStatus.PENDING:
        raise ValueError(f"request {extension.id} is {extension.status}, not pending")
    request = extension.request
    extension.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.REFUSED
    extension.granted_until = until if grant else None
    extension.note, extension.decided_by, extension.decided_at = note, actor, now
    on_time: list[int] = []
    if grant:
        request.extended_until = until
        programme = request.cycle.programme
        for submission in request.submissions:
            if submission.is_late and local_today(programme, submission.submitted_at) <= until:
                submission.is_late = False
                on_time.append(submission.revision)
    session.add(
        AuditEvent(
            actor=actor,
            action=f"extension.{extension.status}",
            cycle_id=request.cycle_id,
            at=now,
            detail={
                "agency": request.agency.code,
                "extension": extension.id,
                "until": until.isoformat() if grant and until else None,
                "note": note,
                "now_on_time": on_time,
            },
        )
    )
    session.flush()
    return on_time
