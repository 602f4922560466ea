"""The plausibility rules of one value: what it is checked against (its target's plausible
range from ``programme.yaml``, 0-100 for a percentage, and the programme's year-on-year factor
against the agency's last value) and the flags it raises, worded in Vietnamese for the clerk and
the coordinator, with how the form read what was typed. Applying them to a request's posted
values, with the agency's history, is ``reporting.plausibility``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from documents.vietnamese import format_number, number_words
from models.registry_rows import IndicatorRow


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
