"""The evaluation round's web form: values by year since the baseline, tasks, the narrative.

Same conventions as :mod:`reporting.form_fields`: inputs named ``value__<code>__<year>``,
``note__<code>``, ``<part>__<group>`` and the narrative fields by name; intake errors are
matched back to those inputs so each is shown next to its field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents.indicators import value_text
from documents.labels import NARRATIVE_LABELS, TASK_STATUS_TEXT
from models.orm import EvaluationNarrative, EvaluationValue, Request, Submission, TaskStatus
from reporting.evaluation_intake import NARRATIVE_FIELDS, EvaluationInput, evaluation_years
from reporting.evaluation_requests import known_series
from reporting.form_fields import TEXT_FIELDS, indicator_row, nfc
from reporting.submission_input import TaskReportInput


def read_fields(form: dict[str, Any], request: Request) -> dict[str, str]:
    """The form's own fields for this request, as typed (unknown fields are ignored)."""
    names = list(NARRATIVE_FIELDS)
    years = evaluation_years(request.cycle)
    for indicator in request.agency.indicators:
        names += [f"value__{indicator.code}__{y}" for y in years] + [f"note__{indicator.code}"]
    for group in request.agency.task_groups:
        names += [f"status__{group.code}"] + [f"{f}__{group.code}" for f in TEXT_FIELDS]
    return {name: nfc(form.get(name, "")) for name in names}


def to_input(fields: dict[str, str], request: Request) -> EvaluationInput:
    years = evaluation_years(request.cycle)
    return EvaluationInput(
        values={
            i.code: {y: fields.get(f"value__{i.code}__{y}", "") for y in years}
            for i in request.agency.indicators
        },
        notes={i.code: fields.get(f"note__{i.code}", "") for i in request.agency.indicators},
        tasks={
            g.code: TaskReportInput(
                status=fields.get(f"status__{g.code}", ""),
                **{f: fields.get(f"{f}__{g.code}", "") for f in TEXT_FIELDS},
            )
            for g in request.agency.task_groups
        },
        **{name: fields.get(name, "") for name in NARRATIVE_FIELDS},
    )


def _typed(indicator: Any, value: Any, achieved: bool | None) -> str:
    if indicator.kind == "yes_no":
        return "" if achieved is None else ("có" if achieved else "không")
    return value_text(indicator, value).split(" ")[0].rstrip("%") if value is not None else ""


def from_submission(submission: Submission, *, session: Session) -> dict[str, str]:
    """A stored revision as form fields, so that a re-submission starts from it."""
    year = submission.request.cycle.year
    fields: dict[str, str] = {}
    for v in submission.values:
        fields[f"value__{v.indicator.code}__{year}"] = _typed(v.indicator, v.value, v.achieved)
        fields[f"note__{v.indicator.code}"] = v.note
    earlier = select(EvaluationValue).where(EvaluationValue.submission_id == submission.id)
    for v in session.scalars(earlier):
        fields[f"value__{v.indicator.code}__{v.year}"] = _typed(v.indicator, v.value, v.achieved)
    for report in submission.task_reports:
        fields[f"status__{report.task_group.code}"] = report.status
        for f in TEXT_FIELDS:
            fields[f"{f}__{report.task_group.code}"] = getattr(report, f)
    narrative = session.scalar(
        select(EvaluationNarrative).where(EvaluationNarrative.submission_id == submission.id)
    )
    for name in NARRATIVE_FIELDS:
        fields[name] = getattr(narrative, name) if narrative else ""
    return fields


def prefilled(request: Request, *, session: Session) -> dict[str, str]:
    """A blank form starts from the provincial values the system already holds."""
    cycle = request.cycle
    known = known_series(cycle.programme, evaluation_years(cycle), session=session)
    return {
        f"value__{i.code}__{year}": _typed(i, seen.value, seen.achieved)
        for year, values in known.items()
        for i in request.agency.indicators
        if (seen := values.get(i.code))
    }


def page_rows(request: Request) -> dict[str, object]:
    """Indicators, years, task groups and narrative fields as the page shows them."""
    indicators = [indicator_row(i) for i in request.agency.indicators]
    groups = [
        {"code": g.code, "number": g.number, "name": g.name} for g in request.agency.task_groups
    ]
    return {
        "indicators": indicators,
        "years": evaluation_years(request.cycle),
        "groups": groups,
        "statuses": [{"code": s.value, "label": TASK_STATUS_TEXT[s]} for s in TaskStatus],
        "narrative": [{"name": n, "label": NARRATIVE_LABELS[n]} for n in NARRATIVE_FIELDS],
    }
