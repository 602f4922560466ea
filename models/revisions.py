"""A stored revision's contents read as plain rows: what the intake compares a new post with
(:func:`same_content`) and what its receipt shows, without an ORM object per value."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from models.orm import IndicatorValue, Request, Submission, TaskReport
from models.values import check_value

StoredValue = tuple[Decimal | None, bool | None, str]  # value, achieved, note
StoredTask = tuple[str, str, str, str]  # status, results, difficulties, proposals


class PostedContent(Protocol):
    """What a post says (``models.submissions.SubmissionInput``), as compared here."""

    values: Mapping[str, Any]
    notes: Mapping[str, str]
    tasks: Mapping[str, Any]
    adjustment_proposals: str


def stored_values(submission: Submission, *, session: Session) -> dict[int, StoredValue]:
    """Indicator id -> (value, achieved, note) of the revision."""
    rows = session.execute(
        select(
            IndicatorValue.indicator_id,
            IndicatorValue.value,
            IndicatorValue.achieved,
            IndicatorValue.note,
        ).where(IndicatorValue.submission_id == submission.id)
    )
    return {indicator_id: (value, achieved, note) for indicator_id, value, achieved, note in rows}


def stored_tasks(submission: Submission, *, session: Session) -> dict[int, StoredTask]:
    """Task group id -> (status, results, difficulties, proposals) of the revision."""
    rows = session.execute(
        select(
            TaskReport.task_group_id,
            TaskReport.status,
            TaskReport.results,
            TaskReport.difficulties,
            TaskReport.proposals,
        ).where(TaskReport.submission_id == submission.id)
    )
    return {group_id: tuple(rest) for group_id, *rest in rows}  # type: ignore[misc]


def same_content(latest: Submission, data: PostedContent, request: Request) -> bool:
    """Whether ``data`` says exactly what ``latest`` stored (values as parsed, texts trimmed)."""
    session = object_session(latest)
    stored = stored_values(latest, session=session)
    for indicator in request.agency.indicators:
        try:
            parsed = check_value(indicator, data.values.get(indicator.code))
        except ValueError:
            return False
        note = data.notes.get(indicator.code, "").strip()
        if stored.pop(indicator.id, None) != (*parsed, note):
            return False
    tasks = stored_tasks(latest, session=session)
    for group in request.agency.task_groups:
        task = data.tasks.get(group.code)
        if task is None or tasks.pop(group.id, None) != (
            task.status,
            task.results.strip(),
            task.difficulties.strip(),
            task.proposals.strip(),
        ):
            return False
    extra = set(data.values) - {i.code for i in request.agency.indicators}
    return not stored and not tasks and not extra and (
        latest.adjustment_proposals == data.adjustment_proposals.strip()
    )
