"""Report revisions of a cycle, the coordinator's decisions on them, and the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.orm import AuditEvent, Cycle, CycleStatus, Report, ReportStatus


def latest_report(cycle: Cycle, *, session: Session) -> Report | None:
    return session.scalar(
        select(Report).where(Report.cycle_id == cycle.id).order_by(Report.revision.desc()).limit(1)
    )


def kept_revision(cycle: Cycle, content_hash: str, *, session: Session) -> Report | None:
    """The revision that content with ``content_hash`` leaves in place (the latest, when its
    content is the same or it is approved or submitted), or None: a new draft is due."""
    latest = latest_report(cycle, session=session)
    return latest if _keeps(latest, content_hash) else None


def _keeps(latest: Report | None, content_hash: str) -> bool:
    return latest is not None and (
        latest.content_hash == content_hash
        or latest.status in (ReportStatus.APPROVED, ReportStatus.SUBMITTED)
    )


def save_draft(
    cycle: Cycle,
    *,
    session: Session,
    content_hash: str,
    data: dict,
    markdown: str,
    html: str,
    now: dt.datetime,
) -> tuple[Report, bool]:
    """A new draft revision when the content changed; otherwise the latest one, unchanged."""
    latest = latest_report(cycle, session=session)
    if latest is not None and _keeps(latest, content_hash):
        return latest, False
    report = Report(
        cycle=cycle,
        revision=(latest.revision + 1) if latest else 1,
        content_hash=content_hash,
        data=data,
        markdown=markdown,
        html=html,
        created_at=now,
    )
    session.add(report)
    session.add(
        AuditEvent(
            actor="system",
            action="report.drafted",
            cycle_id=cycle.id,
            at=now,
            detail={"revision": report.revision},
        )
    )
    session.flush()
    return report, True


def record_decision(
    report: Report,
    *,
    session: Session,
    approve: bool,
    actor: str,
    now: dt.datetime,
    number: str | None = None,
    signer: str | None = None,
    reason: str | None = None,
) -> None:
    """Store the coordinator's approval (number, signer) or send-back (reason)."""
    if report.status != ReportStatus.DRAFT:
        raise ValueError(f"report revision {report.revision} is {report.status}, not a draft")
    report.status = ReportStatus.APPROVED if approve else ReportStatus.RETURNED
    report.decided_by, report.decided_at = actor, now
    report.number, report.signer, report.decision_reason = number, signer, reason
    session.add(
        AuditEvent(
            actor=actor,
            action="report.approved" if approve else "report.returned",
            cycle_id=report.cycle_id,
            at=now,
            detail={
                "revision": report.revision,
                "number": number,
                "signer": signer,
                "reason": reason,
            },
        )
    )
    session.flush()


def mark_submitted(report: Report, *, session: Session, now: dt.datetime) -> None:
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = now
    report.cycle.status = CycleStatus.SUBMITTED
    session.add(
        AuditEvent(
            actor="system",
            action="report.submitted",
            cycle_id=report.cycle_id,
            at=now,
            detail={"revision": report.revision, "number": report.number},
        )
    )
    session.flush()
