"""Values that cannot be right: outside their target's plausible range, or a jump from the
agency's last value. They are never refused (a real value may be surprising); they are flagged
so the clerk confirms what was read, and the coordinator sees them listed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, object_session

from documents.indicators import value_text
from documents.report_data import FlaggedRow
from documents.vietnamese import format_number, number_words
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
from models.registry_rows import IndicatorRow, reported_rows
from reporting.values import check_value as parse_value


@dataclass(frozen=True)
class Plausibility:
    """What a value of one indicator is checked against (from ``programme.yaml``)."""

    unit: str
    kind: str  # percent, count, rate, yes_no
    plausible: tuple[Decimal, Decimal] | None
    year_on_year_factor: Decimal


@dataclass(frozen=True)
class Flag:
    """One reason a value looks wrong, in Vietnamese for the clerk and the coordinator."""

    reason: str  # "range" or "jump"
    message: str


@dataclass(frozen=True)
class Last:
    """The agency's last value of an indicator, and the year it was for."""

    value: Decimal
    year: int


def _range(rules: Plausibility) -> tuple[Decimal, Decimal] | None:
    if rules.plausible is not None:
        return rules.plausible
    return (Decimal(0), Decimal(100)) if rules.kind == "percent" else None


def check_value(value: Decimal, last: Last | None, rules: Plausibility) -> list[Flag]:
    """The flags of ``value`` (empty: plausible); ``last`` is the agency's last value, if any."""
    if rules.kind == "yes_no":
        return []
    flags = []
    bounds = _range(rules)
    unit = f" {rules.unit}" if rules.unit != "%" else "%"
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        low, high = (format_number(b) for b in bounds)
        flags.append(
            Flag(
                "range",
                f"{format_number(value)}{unit} nằm ngoài khoảng hợp lý {low} - {high}{unit}.",
            )
        )
    factor = rules.year_on_year_factor
    if last is not None and last.value > 0 and value >= 0:
        ratio = value / last.value
        if ratio > factor or ratio < 1 / factor:
            tenth = Decimal("0.1")
            times, bound = (
                (
                    f"gấp {format_number(ratio.quantize(tenth))} lần",
                    f"quá {format_number(factor)} lần",
                )
                if ratio > 1
                else (
                    f"chỉ bằng {format_number((ratio * 100).quantize(tenth))}%",
                    f"dưới 1/{format_number(factor)}",
                )
            )
            flags.append(
                Flag(
                    "jump",
                    f"{format_number(value)}{unit} {times} giá trị năm {last.year} của đơn vị "
                    f"({format_number(last.value)}{unit}), {bound}.",
                )
            )
    return flags


def confirmation_text(typed: str, value: Decimal) -> str:
    """How the form read what was typed: '1.250,5 = một nghìn hai trăm năm mươi phẩy năm'."""
    return f"{typed.strip()} = {number_words(value)}"


def rules_of(indicator: IndicatorRow, year_on_year_factor: Decimal) -> Plausibility:
    """What a value of the stored ``indicator`` is checked against (``year_on_year_factor``:
    its programme's)."""
    bounds = indicator.plausible_min, indicator.plausible_max
    return Plausibility(
        indicator.unit,
        indicator.kind,
        None if None in bounds else bounds,  # type: ignore[arg-type]
        year_on_year_factor,
    )


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
