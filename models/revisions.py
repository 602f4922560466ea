"""A stored revision's contents read as plain rows: what the intake compares a new post with
(``reporting.intake.same_content``) and what its receipt shows, without an ORM object per
value."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models.orm import IndicatorValue, Submission, TaskReport

StoredValue = tuple[Decimal | None, bool | None, str]  # value, achieved, note
StoredTask = tuple[str, str, str, str]  # status, results, difficulties, proposals

# Built once: a statement costs more to build than to run from SQLAlchemy's cache.
VALUES = select(
    IndicatorValue.indicator_id, IndicatorValue.value, IndicatorValue.achieved, IndicatorValue.note
).where(IndicatorValue.submission_id == bindparam("submission_id"))
TASKS = select(
    TaskReport.task_group_id,
    TaskReport.status,
    TaskReport.results,
    TaskReport.difficulties,
    TaskReport.proposals,
).where(TaskReport.submission_id == bindparam("submission_id"))


def stored_values(submission: Submission, *, session: Session) -> dict[int, StoredValue]:
    """Indicator id -> (value, achieved, note) of the revision."""
    rows = session.execute(VALUES, {"submission_id": submission.id})
    return {indicator_id: (value, achieved, note) for indicator_id, value, achieved, note in rows}


def stored_tasks(submission: Submission, *, session: Session) -> dict[int, StoredTask]:
    """Task group id -> (status, results, difficulties, proposals) of the revision."""
    rows = session.execute(TASKS, {"submission_id": submission.id})
    return {group_id: tuple(rest) for group_id, *rest in rows}  # type: ignore[misc]
