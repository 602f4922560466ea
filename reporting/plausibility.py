"""Values that cannot be right: outside their target's plausible range, or a jump from the
agency's last value. They are never refused (a real value may be surprising); they are flagged
so the clerk confirms what was read, and the coordinator sees them listed
(``reporting.stored_flags``). Here: the flags of a request's posted values, against the agency's
last values, and the columns they are stored in; the rules for one value are
``reporting.plausibility_rules``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from documents.vietnamese import format_number
from models.database import per_transaction
from models.observations import observations_for
from models.orm import (
    Agency,
    Cycle,
    Indicator,
    IndicatorValue,
    Request,
    Submission,
    SubmissionStatus,
)
from models.registry_rows import reported_rows
from reporting.plausibility_rules import Flag, Last, check_value, confirmation_text, rules_of
from reporting.values import check_value as parse_value


def last_values(request: Request, *, session: Session) -> dict[str, Last]:
    """Indicator code -> the agency's last value before the request's cycle: its latest counted
    revision of an earlier year (the agency known by its code across registry versions); for an
    indicator it alone reports and never reported here, the province's value of the year before
    (imported history is that agency's own figure).

    Read once per transaction and request: a web form post asks for the flags twice (the
    confirmation step, then the revision stored with them), and earlier years do not change
    under it."""
    known = per_transaction(session, "last_values")
    if request.id not in known:
        known[request.id] = _last_values(request, session=session)
    return known[request.id]


EARLIER_VALUES = (  # an agency's values of earlier years, latest first (built once)
    select(Indicator.code, IndicatorValue.value, Cycle.year)
    .join(IndicatorValue.indicator)
    .join(IndicatorValue.submission)
    .join(Submission.request)
    .join(Request.cycle)
    .join(Request.agency)
    .where(
        Cycle.programme_id == bindparam("programme_id"),
        Cycle.year < bindparam("year"),
        Agency.code == bindparam("agency"),
        Submission.status != SubmissionStatus.RETURNED,
        IndicatorValue.value.is_not(None),
    )
    .order_by(Cycle.year.desc(), Submission.revision.desc())
)


def _last_values(request: Request, *, session: Session) -> dict[str, Last]:
    cycle, agency = request.cycle, request.agency
    session.flush()  # as the ORM's execution would; Core on its connection costs a third less
    rows = session.connection().execute(
        EARLIER_VALUES,
        {"programme_id": cycle.programme_id, "year": cycle.year, "agency": agency.code},
    )
    found: dict[str, Last] = {}
    for code, value, year in rows:
        found.setdefault(code, Last(value, year))
    reported = reported_rows(request, session=session)
    if not any(i.id in reported.sole and i.code not in found for i in reported.indicators):
        return found  # no province value could stand in: not read
    province = observations_for(cycle.programme, cycle.year - 1, session=session)
    for indicator in reported.indicators:
        seen = province.get(indicator.code)
        sole = indicator.id in reported.sole
        if indicator.code not in found and sole and seen and seen.value is not None:
            found[indicator.code] = Last(seen.value, cycle.year - 1)
    return found


@dataclass(frozen=True)
class FlaggedValue:
    """A value that looked wrong, as the clerk and the receipt see it."""

    code: str
    number: int
    name: str
    value: Decimal
    reading: str  # '1.250,5 = một nghìn hai trăm năm mươi phẩy năm'
    flags: list[Flag]


def flags_for(
    request: Request, values: Mapping[str, Any], *, session: Session
) -> list[FlaggedValue]:
    """The ``values`` posted (indicator code -> value, not yet stored) that look wrong, in form
    order; a value that does not parse is left to validation. Computed once per transaction for
    the same values (the web form's confirmation step, then the revision stored with them)."""
    try:
        key = (request.id, frozenset(values.items()))
    except TypeError:  # a value that cannot be a key: computed each time
        return _flags_for(request, values, session=session)
    known = per_transaction(session, "flags_for")
    if key not in known:
        known[key] = _flags_for(request, values, session=session)
    return known[key]


def _flags_for(
    request: Request, values: Mapping[str, Any], *, session: Session
) -> list[FlaggedValue]:
    last = last_values(request, session=session)
    reported = reported_rows(request, session=session)
    flagged = []
    for indicator in reported.indicators:
        typed = values.get(indicator.code)
        try:
            value, _ = parse_value(indicator, typed)
        except ValueError:
            continue
        rules = rules_of(indicator, reported.year_on_year_factor)
        flags = [] if value is None else check_value(value, last.get(indicator.code), rules)
        if flags:
            text = typed if isinstance(typed, str) else format_number(value)
            flagged.append(
                FlaggedValue(
                    indicator.code,
                    indicator.number,
                    indicator.name,
                    value,
                    confirmation_text(text, value),
                    flags,
                )
            )
    return flagged


def confirmation_key(flagged: list[FlaggedValue]) -> str:
    """What a confirmation is for: the flagged values as read ('fertility=1250.5'); a value
    changed after the clerk confirmed it is asked about again."""
    return "|".join(f"{f.code}={f.value.normalize():f}" for f in flagged)


def stored_flag_columns(
    request: Request, values: Mapping[str, Any], *, session: Session, confirmed: bool
) -> dict[str, dict[str, object]]:
    """Indicator code -> the ``flags`` and ``flags_confirmed`` columns of a new revision's row
    (``confirmed``: the clerk confirmed them on the web form; else an import stored them with a
    warning); a value without flags gets none."""
    flagged = {f.code: f.flags for f in flags_for(request, values, session=session)}
    return {
        i.code: {
            "flags": [asdict(flag) for flag in flagged.get(i.code, [])],
            "flags_confirmed": confirmed if i.code in flagged else None,
        }
        for i in reported_rows(request, session=session).indicators
    }
