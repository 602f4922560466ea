"""A report revision's stored consolidation (``Report.data``, JSON) read back as a
:class:`~documents.report_data.Consolidation`, whatever its age, or a review's stored
evaluation as an :class:`~documents.report_data.Evaluation`.

Revisions stored before the consolidation kept numbers and enums carried the report's words
instead: a progress sentence ('Cần tăng tốc (R = 0,77); đạt nhưng đang xấu đi'), task, message
and delivery statuses in Vietnamese, the agency status and 'Đạt' beside their codes. They are
read back into the enums here, once, so every renderer reads one shape.
"""

from __future__ import annotations

import re
from decimal import Decimal

from documents.labels import (
    DELIVERY_STATUS_TEXT,
    MESSAGE_KIND_TEXT,
    TASK_STATUS_TEXT,
    WORSENING_TEXT,
    Progress,
)
from documents.report_data import (
    AgencyRow,
    Consolidation,
    Evaluation,
    ExtensionRow,
    FlaggedRow,
    IndicatorEvaluation,
    IndicatorRow,
    TaskEntry,
    TaskGroupSummary,
    Undelivered,
)

_RATIO = re.compile(r"\(R\s*=\s*([−\-]?[\d.]+(?:,\d+)?)\)")
_TASK_CODES = {text: status.value for status, text in TASK_STATUS_TEXT.items()}
_KIND_CODES = {text: code for code, text in MESSAGE_KIND_TEXT.items()}
_DELIVERY_CODES = {text: code for code, text in DELIVERY_STATUS_TEXT.items()}
_PROGRESS = {p.value for p in Progress}


def old_progress(text: str) -> tuple[str, float | None, bool]:
    """(status, R, worsening) from a stored progress sentence: 'Cần tăng tốc (R = 0,77)' ->
    ('acceleration_needed', 0.77, False). R was printed rounded down to two decimals, which
    prints the same again."""
    status = next(
        (p for p in sorted(Progress, key=lambda p: len(p.text), reverse=True)
         if text.startswith(p.text)),
        None,
    )  # fmt: skip
    if status is None:
        raise ValueError(f"not a progress text: {text!r}")
    found = _RATIO.search(text.replace("\u00a0", " "))
    ratio = None
    if found:
        number = found.group(1).replace("−", "-").replace(".", "").replace(",", ".")
        ratio = float(Decimal(number))
    return status.value, ratio, text.endswith(WORSENING_TEXT)


def _indicator(row: dict) -> IndicatorRow:
    row = {k: v for k, v in row.items() if k != "met_text"}
    if row["progress"] not in _PROGRESS:  # a sentence: stored before the enums
        row["progress"], row["ratio"], row["worsening"] = old_progress(row["progress"])
    return IndicatorRow(**row)


def _entry(row: dict) -> TaskEntry:
    status = row["status"]
    return TaskEntry(**{**row, "status": _TASK_CODES.get(status, status)})


def _undelivered(row: dict) -> Undelivered:
    return Undelivered(
        row["agency"],
        _KIND_CODES.get(row["kind"], row["kind"]),
        _DELIVERY_CODES.get(row["status"], row["status"]),
        row["reply"],
    )


def read_consolidation(data: dict) -> Consolidation:
    """The consolidation a revision stored (as ``Consolidation.as_data()`` wrote it, now or
    before the enums)."""
    fields = dict(data)
    fields["agencies"] = [
        AgencyRow(**{k: v for k, v in a.items() if k != "status_text"}) for a in data["agencies"]
    ]
    fields["indicators"] = [_indicator(i) for i in data["indicators"]]
    fields["task_groups"] = [
        TaskGroupSummary(
            g["number"], g["name"], g["lead"], [_entry(e) for e in g["entries"]]
        )
        for g in data["task_groups"]
    ]
    fields["difficulties"] = [_entry(e) for e in data["difficulties"]]
    fields["undelivered"] = [_undelivered(m) for m in data.get("undelivered", [])]
    fields["flagged"] = [FlaggedRow(**f) for f in data.get("flagged", [])]
    fields["extensions"] = [
        ExtensionRow(**{k: v for k, v in e.items() if k != "status_text"})
        for e in data.get("extensions", [])
    ]
    return Consolidation(**fields)


def read_evaluation(data: dict) -> Evaluation:
    """The evaluation a review's revision stored (``Evaluation.as_data()``; JSON turned its
    years into strings: they are numbers again here)."""
    fields = dict(data)
    fields["years"] = [int(y) for y in data["years"]]
    fields["agencies"] = [
        AgencyRow(**{k: v for k, v in a.items() if k != "status_text"}) for a in data["agencies"]
    ]
    fields["indicators"] = [
        IndicatorEvaluation(
            **{
                **i,
                "series": {int(y): v for y, v in i["series"].items()},
                "sources": {int(y): v for y, v in i["sources"].items()},
            }
        )
        for i in data["indicators"]
    ]
    fields["task_groups"] = [
        TaskGroupSummary(g["number"], g["name"], g["lead"], [_entry(e) for e in g["entries"]])
        for g in data["task_groups"]
    ]
    return Evaluation(**fields)
