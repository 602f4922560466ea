"""What a stored revision says, read back: its receipt (the page and the email) and, for an ops
import, the summary shown at the terminal before it is kept."""

from __future__ import annotations

from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, object_session

from documents.indicators import value_text
from documents.labels import TASK_STATUS_TEXT
from documents.vietnamese import format_date
from models.orm import Channel, Indicator, IndicatorValue, Submission, TaskGroup, TaskReport
from models.registry_rows import reported_rows
from reporting.stored_flags import flag_rows, stored_flags

CHANNEL_TEXT = {
    Channel.WEB_FORM: "biểu mẫu trực tuyến",
    Channel.UPLOAD: "tệp Excel tải lên",
    Channel.OPS_IMPORT: "tệp do bộ phận tổng hợp nhập",
    Channel.DEMO: "mô phỏng",
    Channel.EMAIL: "thư trả lời kèm tệp Excel",
}


class ReceiptValue(NamedTuple):
    """One value as a receipt lists it (attributes: the templates read them without the
    exception Jinja's ``v.name`` raises and catches on a dict)."""

    number: int
    name: str
    value: str  # as it reads: '99,5%', '1.250 căn', 'Có'


class ReceiptTask(NamedTuple):
    """One task group's reported status, as a receipt lists it."""

    number: int
    name: str
    status: str


# Built once: each receipt (its email, then its page) runs them with the revision's id. The
# indicators' and task groups' numbers and names come from the agency's registry rows.
_RECEIPT_VALUES = select(
    IndicatorValue.indicator_id,
    IndicatorValue.value,
    IndicatorValue.achieved,
    IndicatorValue.flags,
    IndicatorValue.flags_confirmed,
).where(IndicatorValue.submission_id == bindparam("submission"))
_RECEIPT_TASKS = select(TaskReport.task_group_id, TaskReport.status).where(
    TaskReport.submission_id == bindparam("submission")
)
# A revision stored before its agency's part of the registry was edited in place may name an
# indicator or task group the agency no longer reports: read from their own tables then.
_INDICATORS = select(Indicator.id, Indicator.number, Indicator.name, Indicator.kind, Indicator.unit)
_TASK_GROUPS = select(TaskGroup.id, TaskGroup.number, TaskGroup.name)


def receipt_context(submission: Submission) -> dict[str, object]:
    """What the receipt page and the receipt email show: the revision's values (with their
    flags) and task reports, two queries of the revision's own rows, numbered and named from
    the agency's registry rows (``models.registry_rows``), no ORM object."""
    request = submission.request
    cycle, session = request.cycle, object_session(submission)
    local = submission.submitted_at.astimezone(ZoneInfo(cycle.programme.timezone))
    values = session.execute(_RECEIPT_VALUES, {"submission": submission.id}).all()
    tasks = session.execute(_RECEIPT_TASKS, {"submission": submission.id}).all()
    reported = reported_rows(request, session=session)
    indicators = _named(reported.indicators, {v.indicator_id for v in values}, _INDICATORS, session)
    groups = _named(reported.task_groups, {t.task_group_id for t in tasks}, _TASK_GROUPS, session)
    read = sorted(((indicators[v.indicator_id], v) for v in values), key=lambda r: r[0].number)
    reports = sorted(
        ((groups[t.task_group_id], t.status) for t in tasks), key=lambda r: r[0].number
    )
    return {
        "revision": submission.revision,
        "submitted_on": format_date(local.date()),
        "submitted_time": local.strftime("%H:%M"),
        "late": submission.is_late,
        "channel": CHANNEL_TEXT[Channel(submission.channel)],
        # value_text reads the indicator's kind and unit: the row has both
        "values": [
            ReceiptValue(i.number, i.name, value_text(i, v.value, v.achieved)) for i, v in read
        ],
        "tasks": [ReceiptTask(g.number, g.name, TASK_STATUS_TEXT[status]) for g, status in reports],
        "flags": flag_rows((i, v.value, v.flags, v.flags_confirmed) for i, v in read),
    }


def _named(rows: tuple[Any, ...], ids: set[int], query: Select, session: Session) -> dict[int, Any]:
    """Id -> the registry row (number, name...) of each of ``ids``: the agency's rows, and
    those it no longer reports read by ``query``."""
    named = {row.id: row for row in rows}
    missing = ids - named.keys()
    if missing:
        found = session.execute(query.where(query.selected_columns[0].in_(missing)))
        named |= {row.id: row for row in found}
    return named


def import_summary(submission: Submission) -> list[str]:
    """What an ops import is about to store, for the person at the terminal: who, which cycle,
    which revision, and what changed from the previous one (value by value, task by task)."""
    request, cycle = submission.request, submission.request.cycle
    lines = [
        f"Agency: {request.agency.name} ({request.agency.code}, {request.agency.email})",
        f"Cycle: {cycle.programme.code} {cycle.year} ({cycle.kind})",
    ]
    if getattr(submission, "unchanged", False):
        return lines + [f"Identical to revision {submission.revision}: nothing new to store."]
    return _changes(submission, lines) + flag_lines(submission)


def flag_lines(submission: Submission) -> list[str]:
    """The values stored with a warning, for the person at the terminal."""
    flagged = stored_flags(submission)
    if not flagged:
        return []
    lines = [f"Warning: {len(flagged)} value(s) look wrong; stored, listed for the coordinator:"]
    for row in flagged:
        lines.append(f"  {row['number']}. {row['name']}: {row['reading']}")
        lines += [f"     - {reason}" for reason in row["reasons"]]
    return lines


def _changes(submission: Submission, lines: list[str]) -> list[str]:
    """``lines`` with what changed from the previous revision, value by value, task by task."""
    request = submission.request
    previous = next(
        (s for s in request.submissions if s.revision == submission.revision - 1), None
    )
    lines.append(
        f"New revision {submission.revision}"
        + (" (late)" if submission.is_late else "")
        + ("" if previous else ": the agency's first report")
    )
    if previous is None:
        return lines
    before = {v.indicator.code: v for v in previous.values}
    for value in sorted(submission.values, key=lambda v: v.indicator.number):
        old, indicator = before.get(value.indicator.code), value.indicator
        old_text = value_text(indicator, old.value, old.achieved) if old else "-"
        new_text = value_text(indicator, value.value, value.achieved)
        if old_text != new_text:
            lines.append(f"  {indicator.number}. {indicator.code}: {old_text} -> {new_text}")
    tasks = {t.task_group.code: t for t in previous.task_reports}
    for task in sorted(submission.task_reports, key=lambda t: t.task_group.number):
        old_task = tasks.get(task.task_group.code)
        fields = ("status", "results", "difficulties", "proposals")
        changed = [
            f for f in fields if old_task is None or getattr(old_task, f) != getattr(task, f)
        ]
        if changed:
            lines.append(f"  task {task.task_group.code}: {', '.join(changed)} changed")
    if previous.adjustment_proposals != submission.adjustment_proposals:
        lines.append("  adjustment proposals changed")
    if len(lines) == 3:
        lines.append("  (no value or text changed)")
    return lines


def confirm_import() -> bool:
    """Ask the person at the terminal; no terminal (cron, a pipe) means no."""
    try:
        return input("Store it? [y/N] ").strip().lower() in {"y", "yes", "c", "có"}
    except (EOFError, OSError):
        return False
