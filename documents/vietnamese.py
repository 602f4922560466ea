"""Numbers and dates as Vietnamese write them, and numbers as agencies type them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def format_number(value: Decimal | float | int | None, decimals: int | None = None) -> str:
    """4257581 -> '4.257.581'; 99.5 -> '99,5'; trailing zeros dropped unless ``decimals``."""
    if value is None:
        return "—"
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals))
        text = f"{number:f}"
    else:
        text = f"{number.normalize():f}" if number != 0 else "0"
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped}" + (f",{fraction}" if fraction else "")


def format_percent(value: Decimal | float | int | None) -> str:
    """99.5 -> '99,5%'."""
    return "—" if value is None else f"{format_number(value)}%"


def format_date(day: dt.date) -> str:
    """05/12/2026."""
    return day.strftime("%d/%m/%Y")


def format_long_date(day: dt.date) -> str:
    """'ngày 05 tháng 12 năm 2026' (Decree 30: leading zero for days < 10 and months 1-2)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def format_weekday_date(day: dt.date) -> str:
    """'Thứ Sáu, ngày 04/12/2026'."""
    return f"{WEEKDAYS[day.weekday()]}, ngày {format_date(day)}"


_VN_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 4.257.581 or 1.234,5
_CODE_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 4,257,581 or 1,234.5


def parse_number(text: str) -> Decimal:
    """Read '99,5', '99.5', '4.257.581', '1.234,5' or '4,257,581'; raise ValueError otherwise.

    A single separator followed by exactly three digits ('1.234' or '1,234') is ambiguous;
    Vietnamese usage reads it as thousands when it is a dot, and as a decimal when a comma.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if not cleaned:
        raise ValueError("empty")
    if _VN_GROUPED.match(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif (
        _CODE_GROUPED.match(cleaned) and cleaned.count(",") > 1 or "," in cleaned and "." in cleaned
    ):
        cleaned = cleaned.replace(",", "")
    else:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"not a number: {text!r}")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
