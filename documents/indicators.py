"""Indicator targets and values as the Vietnamese text shown in emails, forms and reports."""

from __future__ import annotations

from decimal import Decimal

from documents.vietnamese import format_number
from models.orm import Indicator


def value_text(indicator: Indicator, value: Decimal | None, achieved: bool | None = None) -> str:
    """'99,5%', '32 giường/10.000 dân', 'Có'; '—' when there is no value."""
    if indicator.kind == "yes_no":
        return "—" if achieved is None else ("Có" if achieved else "Không")
    if value is None:
        return "—"
    if indicator.unit == "%":
        return f"{format_number(value)}%"
    return f"{format_number(value)} {indicator.unit}"


def target_text(indicator: Indicator) -> str:
    """'Tối thiểu 40%', 'Dưới 3%', 'Trên 99,2%', 'Đạt', 'Tiến dần đến 2,1 con/phụ nữ'."""
    if indicator.rule == "achieved":
        return "Đạt"
    if indicator.target is None:
        return "Theo chỉ tiêu được giao"
    amount = value_text(indicator, indicator.target)
    return {
        "at_least": f"Tối thiểu {amount}",
        "more_than": f"Trên {amount}",
        "less_than": f"Dưới {amount}",
        "at_most": f"Không quá {amount}",
        "toward": f"Tiến dần đến {amount}",
    }[indicator.rule]


def met_text(met: bool | None) -> str:
    return {True: "Đạt", False: "Chưa đạt", None: "Chưa có số liệu"}[met]
