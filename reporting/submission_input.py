"""What an agency's report says as it arrives, from any channel (``SubmissionInput``), and
every problem with it for its request's agency, by field (``validate``, ``IntakeError``):
checked in full before the intake (``reporting.intake``) stores anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import object_session

from models.orm import Request, TaskStatus
from models.registry_rows import reported_rows
from reporting.values import check_value


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
    reported = reported_rows(request, session=object_session(request))
    expected = reported.by_code
    for code in sorted(data.values.keys() - expected.keys()):
        errors.append(
            FieldError(f"values.{code}", "Chỉ tiêu này không thuộc phần báo cáo của đơn vị.")
        )
    for code, indicator in expected.items():
        try:
            check_value(indicator, data.values.get(code))
        except ValueError as exc:
            errors.append(FieldError(f"values.{code}", str(exc)))
    groups = {g.code for g in reported.task_groups}
    for code in sorted(data.tasks.keys() - groups):
        errors.append(
            FieldError(f"tasks.{code}", "Nhóm nhiệm vụ này không thuộc phần báo cáo của đơn vị.")
        )
    statuses = {s.value for s in TaskStatus}
    for group in reported.task_groups:
        task = data.tasks.get(group.code)
        if task is None or task.status not in statuses:
            errors.append(FieldError(f"tasks.{group.code}.status", "Chọn tình trạng thực hiện."))
        elif task.status != TaskStatus.NOT_STARTED and not task.results.strip():
            errors.append(FieldError(f"tasks.{group.code}.results", "Nêu kết quả đã thực hiện."))
    return errors
