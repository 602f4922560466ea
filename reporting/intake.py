"""Intake: the one service that records an agency's report, whatever channel it came by (web
form, Excel upload, reply by email, ops import), then acknowledges it.

Validation happens in full before anything is stored: either every field is right and a new
revision is flushed, or :class:`IntakeError` lists every problem by field and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sqlalchemy import insert, literal_column, null
from sqlalchemy.orm import Session, object_session

from config.settings import Settings
from models.cycles import due_date, is_late
from models.drafts import discard_draft
from models.orm import (
    AuditEvent,
    Channel,
    CycleStatus,
    IndicatorValue,
    MessageKind,
    Request,
    Submission,
    SubmissionStatus,
    TaskReport,
    utcnow,
)
from models.registry_rows import reported_rows
from models.stored_content import latest_tasks, latest_values, remember
from models.submissions import insert_revision, lock_request
from reporting.messages import Answering, queue_for_agency
from reporting.plausibility import stored_flag_columns
from reporting.revision_summary import receipt_context
from reporting.submission_input import (
    FieldError,
    IntakeError,
    SubmissionInput,
    TaskReportInput,
    validate,
)
from reporting.values import check_value

TASK_TEXTS = ("results", "difficulties", "proposals")
# Built once: a new statement's cache key cost half of running the 34-row executemany
INSERT_VALUES = insert(IndicatorValue.__table__)
INSERT_UNFLAGGED_VALUES = INSERT_VALUES.values(  # no flags (most posts): no JSON to encode a row
    flags=literal_column("'[]'"), flags_confirmed=null()
)
INSERT_TASKS = insert(TaskReport.__table__)
INSERT_AUDIT = insert(AuditEvent.__table__)
NO_FLAGS: Mapping[str, object] = {"flags": [], "flags_confirmed": None}


def record_submission(
    request: Request,
    data: SubmissionInput,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
    flags_confirmed: bool | None = None,
) -> Submission:
    """Validate ``data`` and store it as the request's next revision (flushed, not committed),
    with the flags of values that look wrong unless ``flags_confirmed`` is None (True: the clerk
    confirmed them on the web form; False: an import stores them with a warning).

    Simultaneous submissions for one request are serialised (``models.submissions.lock_request``),
    so each gets the next revision number instead of a unique-key error. A submission identical
    to the latest revision (the same post sent twice, a form uploaded again) stores nothing:
    the latest revision is returned with ``unchanged`` set, and its receipt stands.
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
        flags_of=None
        if flags_confirmed is None
        else lambda: stored_flag_columns(
            request, data.values, session=session, confirmed=flags_confirmed
        ),
    )
    if not submission.unchanged:
        record_audit(submission, session=session)
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
    flags_of: Callable[[], Mapping[str, Mapping[str, object]]] | None = None,
) -> Submission:
    """The request's next revision with its values and task reports, flushed: the request
    locked first, then IntakeError if the cycle is closed or ``errors_of()`` finds any
    (validated after the lock, so it sees the current revisions and status). ``flags_of()``:
    indicator code -> the flag columns of its row (``reporting.plausibility``), else none.

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
    submission = insert_revision(  # its rows go in one executemany each, not an object a row
        request,
        session=session,
        revision=(latest.revision if latest else 0) + 1,
        submitted_at=submitted_at,
        received_at=utcnow(),
        channel=channel.value,
        submitted_by=submitted_by,
        is_late=is_late(request.cycle, submitted_at, due_date(request)),
        status=SubmissionStatus.RECEIVED.value,
        status_reason=None,
        adjustment_proposals=adjustment_proposals.strip(),
    )
    flags = flags_of() if flags_of is not None else {}
    flagged = any(columns["flags"] for columns in flags.values())
    reported = reported_rows(request, session=session)
    rows = []
    for indicator in reported.indicators:
        value, achieved = check_value(indicator, values[indicator.code])
        note = notes.get(indicator.code, "").strip()
        row = dict(indicator_id=indicator.id, value=value, achieved=achieved, note=note)
        rows.append(row | (flags.get(indicator.code) or NO_FLAGS) if flagged else row)
    reports = [
        dict(task_group_id=group.id, status=tasks[group.code].status)
        | {f: getattr(tasks[group.code], f).strip() for f in TASK_TEXTS}
        for group in reported.task_groups
    ]
    values_statement = INSERT_VALUES if flagged else INSERT_UNFLAGGED_VALUES
    for statement, items in ((values_statement, rows), (INSERT_TASKS, reports)):
        if items:  # Core: one executemany (the ORM's bulk insert splits rows by their NULLs)
            session.execute(statement, [{"submission_id": submission.id} | r for r in items])
    remember(  # the next post of this request is compared with it without reading it back
        submission,
        {r["indicator_id"]: (r["value"], r["achieved"], r["note"]) for r in rows},
        {r["task_group_id"]: (r["status"], *(r[f] for f in TASK_TEXTS)) for r in reports},
        session=session,
    )
    submission.unchanged = False
    return submission


def same_content(latest: Submission, data: SubmissionInput, request: Request) -> bool:
    """Whether ``data`` says exactly what ``latest`` stored (values as parsed, texts trimmed)."""
    if latest.adjustment_proposals != data.adjustment_proposals.strip():
        return False
    session = object_session(latest)
    reported = reported_rows(request, session=session)
    stored = latest_values(latest, session=session)
    for indicator in reported.indicators:
        try:
            parsed = check_value(indicator, data.values.get(indicator.code))
        except ValueError:
            return False
        note = data.notes.get(indicator.code, "").strip()
        if stored.pop(indicator.id, None) != (*parsed, note):
            return False
    tasks = latest_tasks(latest, session=session)
    for group in reported.task_groups:
        task = data.tasks.get(group.code)
        if task is None or tasks.pop(group.id, None) != (
            task.status,
            *(getattr(task, f).strip() for f in TASK_TEXTS),
        ):
            return False
    return not stored and not tasks and not data.values.keys() - reported.by_code.keys()


def record_audit(submission: Submission, *, session: Session, **detail: object) -> None:
    """The audit trail's line for a stored revision (``detail`` adds to what it says), in one
    INSERT."""
    request = submission.request
    session.execute(
        INSERT_AUDIT,
        {
            "actor": submission.submitted_by,
            "action": "submission.recorded",
            "cycle_id": request.cycle_id,
            "detail": {
                "agency": request.agency.code,
                "revision": submission.revision,
                "channel": submission.channel,
                "late": submission.is_late,
                **detail,
            },
        },
    )


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
    """Record the submission (IntakeError if invalid) with the flags of its values, then
    acknowledge it. A flagged value reaches here from the web form only once the clerk has
    confirmed it (``portal.confirmation``), so the web form's flags are stored as confirmed."""
    submission = record_submission(
        request,
        data,
        session=session,
        channel=channel,
        submitted_by=submitted_by,
        submitted_at=now,
        flags_confirmed=channel == Channel.WEB_FORM,
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
    answering: Answering | None = None,
) -> None:
    """Drop the agency's draft and queue its receipt email for this revision (``context``
    replaces the yearly receipt's, e.g. for a review round; ``answering``: the receipt goes
    to the sender of the email that brought the revision, in its thread)."""
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
        answering=answering,
    )
