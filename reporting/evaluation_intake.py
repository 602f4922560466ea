"""Intake of an evaluation round: the values since the baseline and the narrative of the period.

An evaluation submission goes through the same checks as a yearly one (``check_value`` for
every number, the task groups' statuses and results) and is stored the same way (a numbered
revision, late or on time, with an audit event and a receipt), plus the earlier years' values
and the agency's narrative. Either every field is right, or :class:`IntakeError` names each
wrong field and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from config.settings import Settings
from models.orm import (
    Channel,
    Cycle,
    EvaluationNarrative,
    EvaluationValue,
    Request,
    Submission,
    TaskStatus,
)
from reporting.intake import acknowledge, new_revision, record_audit, same_content
from reporting.revision_summary import receipt_context
from reporting.submission_input import FieldError, SubmissionInput, TaskReportInput
from reporting.values import check_value

NARRATIVE_FIELDS = ("results", "shortfall_causes", "lessons", "proposals")
REQUIRED_NARRATIVE = {
    "results": "Nêu kết quả đạt được trong giai đoạn.",
    "lessons": "Nêu bài học kinh nghiệm rút ra.",
}


class EvaluationInput(BaseModel):
    """An evaluation report as received from any channel, before validation."""

    values: dict[str, dict[int, Any]] = Field(
        default_factory=dict, description="Indicator code -> year -> value, baseline to now."
    )
    notes: dict[str, str] = Field(default_factory=dict, description="Indicator code -> note.")
    tasks: dict[str, TaskReportInput] = Field(
        default_factory=dict, description="Task group code -> results, shortfalls, proposals."
    )
    results: str = Field(default="", description="Results achieved over the period.")
    shortfall_causes: str = Field(default="", description="Shortfalls and their causes.")
    lessons: str = Field(default="", description="Lessons learned.")
    proposals: str = Field(default="", description="Proposals and recommendations.")


def evaluation_years(cycle: Cycle) -> list[int]:
    """The years an evaluation asks for: from the programme's baseline year to the round's."""
    return list(range(min(cycle.programme.baseline_year, cycle.year), cycle.year + 1))


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def validate_evaluation(request: Request, data: EvaluationInput) -> list[FieldError]:
    """Every problem with ``data``, in form order; the round's own year is required."""
    errors: list[FieldError] = []
    expected = {i.code: i for i in request.agency.indicators}
    years = evaluation_years(request.cycle)
    for code in sorted(data.values.keys() - expected.keys()):
        errors.append(
            FieldError(f"values.{code}", "Chỉ tiêu này không thuộc phần báo cáo của đơn vị.")
        )
    for code, indicator in expected.items():
        given = data.values.get(code, {})
        for year in sorted(set(given) - set(years)):
            errors.append(
                FieldError(f"values.{code}.{year}", f"Năm {year} không thuộc giai đoạn đánh giá.")
            )
        for year in years:
            raw = given.get(year)
            if _blank(raw) and year != request.cycle.year:
                continue  # earlier years: only those the agency has
            try:
                check_value(indicator, raw)
            except ValueError as exc:
                errors.append(FieldError(f"values.{code}.{year}", str(exc)))
    groups = {g.code for g in request.agency.task_groups}
    for code in sorted(data.tasks.keys() - groups):
        errors.append(
            FieldError(f"tasks.{code}", "Nhóm nhiệm vụ này không thuộc phần báo cáo của đơn vị.")
        )
    statuses = {s.value for s in TaskStatus}
    for group in request.agency.task_groups:
        task = data.tasks.get(group.code)
        if task is None or task.status not in statuses:
            errors.append(FieldError(f"tasks.{group.code}.status", "Chọn tình trạng thực hiện."))
        elif task.status != TaskStatus.NOT_STARTED and not task.results.strip():
            errors.append(FieldError(f"tasks.{group.code}.results", "Nêu kết quả đạt được."))
    for name, message in REQUIRED_NARRATIVE.items():
        if not getattr(data, name).strip():
            errors.append(FieldError(name, message))
    return errors


def record_evaluation(
    request: Request,
    data: EvaluationInput,
    *,
    session: Session,
    channel: Channel,
    submitted_by: str,
    submitted_at: dt.datetime,
) -> Submission:
    """Validate ``data`` and store it as the request's next revision (flushed, not committed).

    Serialised per request like the yearly intake (:func:`models.submissions.lock_request`); an
    evaluation identical to the latest revision stores nothing (``unchanged``, as the yearly).
    """
    year = request.cycle.year
    submission = new_revision(
        request,
        lambda: validate_evaluation(request, data),
        values={code: given.get(year) for code, given in data.values.items()},
        notes=data.notes,
        tasks=data.tasks,
        adjustment_proposals="",
        session=session,
        channel=channel,
        submitted_by=submitted_by,
        submitted_at=submitted_at,
        same_as=lambda latest: same_evaluation(latest, data, request),
    )
    if submission.unchanged:
        return submission
    for indicator in request.agency.indicators:
        given = data.values[indicator.code]
        for past in evaluation_years(request.cycle)[:-1]:
            if not _blank(given.get(past)):
                value, achieved = check_value(indicator, given[past])
                session.add(
                    EvaluationValue(
                        submission=submission,
                        indicator=indicator,
                        year=past,
                        value=value,
                        achieved=achieved,
                    )
                )
    session.add(
        EvaluationNarrative(
            submission=submission, **{f: getattr(data, f).strip() for f in NARRATIVE_FIELDS}
        )
    )
    record_audit(submission, session=session, kind=request.cycle.kind)
    session.flush()
    return submission


def same_evaluation(latest: Submission, data: EvaluationInput, request: Request) -> bool:
    """Whether ``data`` says exactly what ``latest`` stored: the round's year, tasks and notes
    compared as the yearly intake does (:func:`reporting.intake.same_content`), then the
    earlier years' values and the narrative."""
    session = object_session(latest)
    year = request.cycle.year
    this_year = SubmissionInput(
        values={code: given.get(year) for code, given in data.values.items()},
        notes=data.notes,
        tasks=data.tasks,
    )
    if latest.adjustment_proposals or not same_content(latest, this_year, request):
        return False
    stored = {
        (indicator_id, past): (value, achieved)
        for indicator_id, past, value, achieved in session.execute(
            select(
                EvaluationValue.indicator_id,
                EvaluationValue.year,
                EvaluationValue.value,
                EvaluationValue.achieved,
            ).where(EvaluationValue.submission_id == latest.id)
        )
    }
    for indicator in request.agency.indicators:
        given = data.values.get(indicator.code, {})
        for past in evaluation_years(request.cycle)[:-1]:
            if _blank(given.get(past)):
                continue
            try:
                parsed = check_value(indicator, given[past])
            except ValueError:
                return False
            if stored.pop((indicator.id, past), None) != parsed:
                return False
    narrative = session.scalar(
        select(EvaluationNarrative).where(EvaluationNarrative.submission_id == latest.id)
    )
    return not stored and narrative is not None and all(
        getattr(narrative, f) == getattr(data, f).strip() for f in NARRATIVE_FIELDS
    )


def accept_evaluation(
    request: Request,
    data: EvaluationInput,
    *,
    session: Session,
    settings: Settings,
    channel: Channel,
    submitted_by: str,
    now: dt.datetime,
) -> Submission:
    """Record the evaluation (IntakeError if invalid), then acknowledge it by email."""
    submission = record_evaluation(
        request, data, session=session, channel=channel, submitted_by=submitted_by, submitted_at=now
    )
    acknowledge_evaluation(submission, session=session, settings=settings, now=now)
    return submission


def acknowledge_evaluation(
    submission: Submission, *, session: Session, settings: Settings, now: dt.datetime
) -> None:
    """The yearly acknowledgement, with the review round's receipt content."""
    context = evaluation_receipt_context(submission, session=session)
    acknowledge(submission, session=session, settings=settings, now=now, context=context)


def evaluation_receipt_context(submission: Submission, *, session: Session) -> dict[str, object]:
    """The yearly receipt's content, with how many earlier years' values came with it."""
    earlier = session.scalar(
        select(func.count()).where(EvaluationValue.submission_id == submission.id)
    )
    return {**receipt_context(submission), "earlier_values": earlier or 0}
