"""The web form's fields: how inputs are named, read back, and matched with intake errors."""

from __future__ import annotations

import unicodedata
from typing import Any

from documents.indicators import target_text, value_text
from documents.labels import TASK_STATUS_TEXT
from documents.vietnamese import format_number
from sqlalchemy.orm import object_session

from models.observations import Observed
from models.orm import Indicator, Request, Submission, TaskStatus
from models.registry_rows import IndicatorRow, ReportedRows, reported_rows
from reporting.submission_input import FieldError, SubmissionInput, TaskReportInput

RULE_TEXT = {
    "at_least": "không thấp hơn mục tiêu",
    "more_than": "phải cao hơn mục tiêu (không tính bằng)",
    "at_most": "không cao hơn mục tiêu",
    "less_than": "phải thấp hơn mục tiêu (không tính bằng)",
    "achieved": "đạt / chưa đạt",
    "toward": "càng gần mục tiêu càng tốt",
}
KIND_HINT = {
    "percent": "Tỷ lệ %, từ 0 đến 100, ví dụ 99,5",
    "count": "Số nguyên không âm, ví dụ 1.250",
    "rate": "Số không âm, ví dụ 32,5",
}
TEXT_FIELDS = ("results", "difficulties", "proposals")
MAX_TEXT = 20_000


def input_name(field: str) -> str:
    """The form input an intake error's field names, on the yearly and the evaluation form:
    'values.x' -> 'value__x'; 'values.x.2024' -> 'value__x__2024'; 'notes.x' -> 'note__x';
    'tasks.g.status' -> 'status__g'; others unchanged."""
    parts = field.split(".")
    if parts[0] == "values":
        return "__".join(["value", *parts[1:]])
    if parts[0] == "notes":
        return f"note__{parts[1]}"
    if parts[0] == "tasks" and len(parts) == 3:
        return f"{parts[2]}__{parts[1]}"
    return field


def read_fields(form: dict[str, Any], request: Request) -> dict[str, str]:
    """The form's own fields for this request, as typed (unknown fields are ignored)."""
    reported = _reported(request)
    names = ["adjustment_proposals"]
    for indicator in reported.indicators:
        names += [f"value__{indicator.code}", f"note__{indicator.code}"]
    for group in reported.task_groups:
        names += [f"status__{group.code}"] + [f"{f}__{group.code}" for f in TEXT_FIELDS]
    return {name: nfc(form.get(name, "")) for name in names}


def _reported(request: Request) -> ReportedRows:
    return reported_rows(request, session=object_session(request))


def nfc(value: object) -> str:
    """Text as the Excel path keeps it: NFC (a browser may send decomposed "ệ")."""
    return unicodedata.normalize("NFC", str(value))


def too_long(fields: dict[str, str]) -> dict[str, str]:
    """Input name -> error, for every text over MAX_TEXT characters (refused, never cut)."""
    return {
        name: f"Nội dung quá dài: {format_number(len(value))} ký tự, tối đa "
        f"{format_number(MAX_TEXT)} ký tự. Vui lòng rút gọn."
        for name, value in fields.items()
        if len(value) > MAX_TEXT
    }


def to_submission(fields: dict[str, str], request: Request) -> SubmissionInput:
    """What the intake service validates, built from the form's fields."""
    reported = _reported(request)
    return SubmissionInput(
        values={i.code: fields.get(f"value__{i.code}", "") for i in reported.indicators},
        notes={i.code: fields.get(f"note__{i.code}", "") for i in reported.indicators},
        tasks={
            g.code: TaskReportInput(
                status=fields.get(f"status__{g.code}", ""),
                **{f: fields.get(f"{f}__{g.code}", "") for f in TEXT_FIELDS},
            )
            for g in reported.task_groups
        },
        adjustment_proposals=fields.get("adjustment_proposals", ""),
    )


def from_submission(submission: Submission) -> dict[str, str]:
    """A stored revision as form fields, so that a re-submission starts from it."""
    fields = {"adjustment_proposals": submission.adjustment_proposals}
    for value in submission.values:
        code, indicator = value.indicator.code, value.indicator
        if indicator.kind == "yes_no":
            fields[f"value__{code}"] = "có" if value.achieved else "không"
        else:
            fields[f"value__{code}"] = value_text(indicator, value.value).split(" ")[0].rstrip("%")
        fields[f"note__{code}"] = value.note
    for report in submission.task_reports:
        fields[f"status__{report.task_group.code}"] = report.status
        for f in TEXT_FIELDS:
            fields[f"{f}__{report.task_group.code}"] = getattr(report, f)
    return fields


def errors_by_input(errors: list[FieldError]) -> dict[str, str]:
    return {input_name(e.field): e.message for e in errors}


def indicator_row(i: Indicator | IndicatorRow) -> dict[str, object]:
    """An indicator as both forms show it: its name, unit, target, rule and input hint."""
    return {
        "code": i.code,
        "number": i.number,
        "name": i.name,
        "unit": i.unit,
        "kind": i.kind,
        "target": target_text(i),
        "rule": RULE_TEXT[i.rule],
        "hint": KIND_HINT.get(i.kind, ""),
    }


def page_rows(request: Request, previous: dict[str, Observed]) -> dict[str, list[dict]]:
    """Indicators and task groups as the form shows them."""
    reported = _reported(request)
    indicators = []
    for i in reported.indicators:
        last = previous.get(i.code)
        indicators.append(
            indicator_row(i)
            | {"last": value_text(i, last.value, last.achieved) if last else "Chưa có"}
        )
    groups = [
        {"code": g.code, "number": g.number, "name": g.name} for g in reported.task_groups
    ]
    statuses = [{"code": s.value, "label": TASK_STATUS_TEXT[s]} for s in TaskStatus]
    return {"indicators": indicators, "groups": groups, "statuses": statuses}
