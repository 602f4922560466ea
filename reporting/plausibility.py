"""Values that cannot be right: outside their target's plausible range, or a jump from the
agency's last value. They are never refused (a real value may be surprising); they are flagged
so the clerk confirms what was read, and the coordinator sees them listed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from documents.vietnamese import format_number, number_words


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


def _range(rules: Plausibility) -> tuple[Decimal, Decimal] | None:
    if rules.plausible is not None:
        return rules.plausible
    return (Decimal(0), Decimal(100)) if rules.kind == "percent" else None


def check_value(value: Decimal, last: Decimal | None, rules: Plausibility) -> list[Flag]:
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
    if last is not None and last > 0 and value >= 0:
        ratio = value / last
        if ratio > factor or ratio < 1 / factor:
            tenth = Decimal("0.1")
            times = (
                f"gấp {format_number(ratio.quantize(tenth))} lần"
                if ratio > 1
                else f"chỉ bằng {format_number((ratio * 100).quantize(tenth))}%"
            )
            flags.append(
                Flag(
                    "jump",
                    f"{format_number(value)}{unit} {times} giá trị lần trước "
                    f"({format_number(last)}{unit}).",
                )
            )
    return flags


def confirmation_text(typed: str, value: Decimal) -> str:
    """How the form read what was typed: '1.250,5 = một nghìn hai trăm năm mươi phẩy năm'."""
    return f"{typed.strip()} = {number_words(value)}"
