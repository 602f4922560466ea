"""The flags stored with revisions, listed: a revision's flagged values for its receipt, and the
counted revisions' flagged values for the consolidation artifact and the report's annex. What is
flagged, and why, is decided by ``reporting.plausibility`` when a revision is stored."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from documents.indicators import value_text
from documents.report_data import FlaggedRow
from documents.vietnamese import format_number
from models.orm import Indicator, IndicatorValue, Submission
from models.registry_rows import IndicatorRow, reported_rows
from reporting.plausibility_rules import confirmation_text


def stored_flags(submission: Submission) -> list[dict[str, object]]:
    """The flagged values of a stored revision, for its receipt: number, name, how the value
    reads, why it was flagged, and whether the clerk confirmed it (read as rows, the indicators
    from the agency's rows, ``models.registry_rows``)."""
    session = object_session(submission)
    reported = reported_rows(submission.request, session=session)
    indicators: dict[int, IndicatorRow | Indicator] = {i.id: i for i in reported.indicators}
    rows = session.execute(
        select(
            IndicatorValue.indicator_id,
            IndicatorValue.value,
            IndicatorValue.flags,
            IndicatorValue.flags_confirmed,
        ).where(IndicatorValue.submission_id == submission.id)
    )
    return flag_rows(
        (indicators.get(key) or session.get_one(Indicator, key), value, flags, confirmed)
        for key, value, flags, confirmed in rows
        if flags and value is not None
    )


StoredFlags = tuple[Any, Decimal | None, list[dict[str, Any]] | None, bool | None]


def flag_rows(values: Iterable[StoredFlags]) -> list[dict[str, object]]:
    """The flagged ones of (indicator, value, flags, confirmed), in indicator order, as the
    receipt lists them (the indicator: anything with its ``number`` and ``name``)."""
    found = [row for row in values if row[2] and row[1] is not None]
    return [
        {
            "number": indicator.number,
            "name": indicator.name,
            "reading": confirmation_text(format_number(value), value),
            "reasons": [flag["message"] for flag in flags],
            "confirmed": bool(confirmed),
        }
        for indicator, value, flags, confirmed in sorted(found, key=lambda f: f[0].number)
    ]


HANDLING_TEXT = {
    True: "Đơn vị đã xác nhận trên biểu mẫu trực tuyến",
    False: "Nhận kèm cảnh báo (nhập từ tệp Excel)",
}


def flagged_rows(counted: list[tuple[str, Submission]]) -> list[FlaggedRow]:
    """The flagged values of the counted revisions ((agency name, revision), in report order),
    for the consolidation artifact and the report's annex."""
    return [
        FlaggedRow(
            agency,
            f"{item.indicator.number}. {item.indicator.name}",
            value_text(item.indicator, item.value, item.achieved),
            " ".join(flag["message"] for flag in item.flags),
            bool(item.flags_confirmed),
            HANDLING_TEXT[bool(item.flags_confirmed)],
        )
        for agency, submission in counted
        for item in sorted(submission.values, key=lambda v: v.indicator.number)
        if item.flags
    ]
