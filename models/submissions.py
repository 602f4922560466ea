"""Intake: the one service that records an agency's submission, whatever channel it came by.

Validation happens in full before anything is stored: either every field is right and a new
revision is flushed, or :class:`IntakeError` lists every problem by field and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models.cycles import current_submission, due_date, is_late
from models.orm import (
    AuditEvent,
    Channel,
    CycleStatus,
    IndicatorValue,
    Request,
    Submission,
    SubmissionStatus,
    TaskReport,
    TaskStatus,
)
from models.revisions import same_content
from models.values import check_value

TASK_TEXTS = ("results", "difficulties", "proposals")
class TaskReportInput(BaseModel):
    """An agency's account of one task group, as received."""

    status: str = Field(description="not_started, in_progress, done or ongoing.")
    results: str = Field(default="", description="What was done.")
    difficulties: str = Field(default="", description="Difficulties met.")
    proposals: str = Field(default="", description="Proposals.")


class SubmissionInput(BaseModel):
    """A submission as received from any channel, before validation."""

    values: dict[str, Any] = Field(default_factory=dict, description="Indicator code -> value.")
    notes: dict[str, str] = Field(default_factory=dict, description="Indicator code -> note.")
    tasks: dict[str, TaskReportInput] = Field(
        default_factory=dict, description="Task group code -> report."
    )
    adjustment_proposals: str = Field(default="", description="Proposed programme adjustments.")


@dataclass(frozen=True)
class FieldError:
    field: str  # e.g. "values.unemployment" or "tasks.labour_market.status"
    message: str  # Vietnamese, shown to the agency


class IntakeError(ValueError):
    """The submission was refused; ``errors`` names every wrong field. Nothing was stored."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


def validate(request: Request, data: SubmissionInput) -> list[FieldError]:
    """Every problem with ``data`` for this request's agency, in form order."""
    errors: list[FieldError] = []
    agency = request.agency
    expected = {i.code: i for i in agency.indicators}
    for code in sorted(data.values.keys() - expected.keys()):
        errors.append(
            FieldError(f"values.{code}", "Chỉ tiêu này không thuộc phần báo cáo của đơn vị.")
        )
    for code, indicator in expected.items():
        try:
            check_value(indicator, data.values.get(code))
        except ValueError as exc:
            errors.append(FieldError(f"values.{code}", str(exc)))
    groups = {g.code for g in agency.task_groups}
    for code in sorted(data.tasks.keys() - groups):
        errors.append(
            FieldError(f"tasks.{code}", "Nhóm nhiệm vụ này không thuộc phần báo cáo của đơn vị.")
        )
    statuses = {s.value for s in TaskStatus}
    for group in agency.task_groups:
        task = data.tasks.get(group.code)
        if task is None or task.status not in statuses:
            errors.append(FieldError(f"tasks.{group.code}.status", "Chọn tình trạng thực hiện."))
        elif task.status != TaskStatus.NOT_STARTED and not task.results.strip():
            errors.append(FieldError(f"tasks.{group.code}.results", "Nêu kết quả đã thực hiện."))
    return errors


def lock_request(request: Request, *, session: Session) -> Submission | None:
    """Hold the request until the transaction ends, then re-read what others committed;
    returns its latest revision (one row: not every revision, so a post costs the same at the
    hundredth revision as at the first).

    PostgreSQL: the request row is locked FOR UPDATE. SQLite has no row locks: a no-op UPDATE
    takes the database write lock, and does so as the first statement of the transaction, since
    a SQLite transaction that has read cannot wait for the lock (it fails "database is locked").
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Request.id).where(Request.id == request.id).with_for_update())
    else:
        session.execute(
            update(Request)
            .where(Request.id == request.id)
            .values(id=Request.id)
            .execution_options(synchronize_session=False)
        )
    session.expire(request, ["submissions"])
    session.refresh(request.cycle, ["status"])
    latest = (
        select(Submission)
        .where(Submission.request_id == request.id)
        .order_by(Submission.revision.desc())
        .limit(1)
    )
    return session.scalars(latest).first()


def record_submission(
    request: Request,
    data: SubmissionInput,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
) -> Submission:
    """Validate ``data`` and store it as the request's next revision (flushed, not committed).

    Simultaneous submissions for one request are serialised (see :func:`lock_request`), so each
    gets the next revision number instead of a unique-key error. A submission identical to the
    latest revision (the same post sent twice, a form uploaded again) stores nothing: the
    latest revision is returned with ``unchanged`` set, and its receipt stands.
    """
    submission = new_revision(
        request,
        lambda: validate(request, data),
        values=data.values,
        notes=data.notes,
        tasks=data.tasks,
        adjustment_proposals=data.adjustment_proposals,
        session=session,
        channel=channel,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        same_as=lambda latest: same_content(latest, data, request),
    )
    if not submission.unchanged:
        record_audit(submission, session=session)
        session.flush()
    return submission


def new_revision(
    request: Request,
    errors_of: Callable[[], list[FieldError]],
    *,
    values: Mapping[str, object],
    notes: Mapping[str, str],
    tasks: Mapping[str, TaskReportInput],
    adjustment_proposals: str,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
    same_as: Callable[[Submission], bool] | None = None,
) -> Submission:
    """The request's next revision with its values and task reports, flushed: the request
    locked first, then IntakeError if the cycle is closed or ``errors_of()`` finds any
    (validated after the lock, so it sees the current revisions and status).

    Where ``same_as(latest)`` says the latest revision already holds what was sent (the same
    post twice, a form uploaded again) nothing is stored: the latest revision is returned with
    ``unchanged`` set (a plain attribute, not a column), and its receipt stands."""
    latest = lock_request(request, session=session)
    if (
        same_as is not None
        and latest is not None
        and latest.status != SubmissionStatus.RETURNED
        and request.cycle.status == CycleStatus.OPEN
        and same_as(latest)
    ):
        latest.unchanged = True
        return latest
    if request.cycle.status != CycleStatus.OPEN:
        raise IntakeError([FieldError("cycle", "Kỳ báo cáo đã khóa, không nhận thêm báo cáo.")])
    errors = errors_of()
    if errors:
        raise IntakeError(errors)
    submission = Submission(
        request=request,
        revision=(latest.revision if latest else 0) + 1,
        submitted_at=submitted_at,
        channel=channel.value,
        submitted_by=submitted_by,
        is_late=is_late(request.cycle, submitted_at, due_date(request)),
        adjustment_proposals=adjustment_proposals.strip(),
    )
    session.add(submission)
    session.flush()  # its id: its rows go in one executemany each, not one ORM object per row
    rows = []
    for indicator in request.agency.indicators:
        value, achieved = check_value(indicator, values[indicator.code])
        note = notes.get(indicator.code, "").strip()
        rows.append(dict(indicator_id=indicator.id, value=value, achieved=achieved, note=note))
    reports = [
        dict(task_group_id=group.id, status=tasks[group.code].status)
        | {f: getattr(tasks[group.code], f).strip() for f in TASK_TEXTS}
        for group in request.agency.task_groups
    ]
    for table, items in ((IndicatorValue, rows), (TaskReport, reports)):
        if items:
            session.execute(insert(table), [{"submission_id": submission.id} | r for r in items])
    session.expire(submission, ["values", "task_reports"])  # read back when first used
    submission.unchanged = False
    return submission


def record_audit(submission: Submission, *, session: Session, **detail: object) -> None:
    """The audit trail's line for a stored revision (``detail`` adds to what it says)."""
    request = submission.request
    session.add(
        AuditEvent(
            actor=submission.submitted_by,
            action="submission.recorded",
            cycle_id=request.cycle_id,
            detail={
                "agency": request.agency.code,
                "revision": submission.revision,
                "channel": submission.channel,
                "late": submission.is_late,
                **detail,
            },
        )
    )


def current_values(requests: list[Request]) -> dict[str, IndicatorValue]:
    """Indicator code -> value from the current submission of each request."""
    values: dict[str, IndicatorValue] = {}
    for request in requests:
        submission = current_submission(request)
        for value in submission.values if submission else []:
            values[value.indicator.code] = value
    return values
