"""One reported value parsed by its indicator's kind, as every channel, the intake, the
plausibility checks and the import of earlier years' values read it."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from documents.vietnamese import parse_number
from models.orm import Indicator
from models.registry_rows import IndicatorRow

YES = {"có", "co", "yes", "true", "1", "đạt", "dat", "x"}
NO = {"không", "khong", "no", "false", "0", "chưa đạt", "chua dat"}


def check_value(
    indicator: Indicator | IndicatorRow, raw: Any
) -> tuple[Decimal | None, bool | None]:
    """Parse one value by the indicator's kind; raise ValueError with a Vietnamese message."""
    try:
        return _parsed(indicator.kind, raw)
    except TypeError:  # not hashable: parsed each time
        return _parsed.__wrapped__(indicator.kind, raw)


@lru_cache(maxsize=65_536, typed=True)  # a post's values are read up to five times (typed: 1, True)
def _parsed(kind: str, raw: Any) -> tuple[Decimal | None, bool | None]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueError("Chưa nhập số liệu.")
    if kind == "yes_no":
        if isinstance(raw, bool):
            return None, raw
        answer = str(raw).strip().lower()
        if answer in YES:
            return None, True
        if answer in NO:
            return None, False
        raise ValueError("Chọn «Có» hoặc «Không».")
    if isinstance(raw, bool):
        raise ValueError("Phải là một số.")
    try:
        value = parse_number(raw) if isinstance(raw, str) else Decimal(str(raw))
    except (ValueError, ArithmeticError):
        raise ValueError("Phải là một số, ví dụ 99,5.") from None
    if not value.is_finite():
        raise ValueError("Phải là một số, ví dụ 99,5.")
    if value < 0:
        raise ValueError("Không được là số âm.")
    if kind == "percent" and value > 100:
        raise ValueError("Tỷ lệ phần trăm phải trong khoảng 0-100.")
    if kind == "count" and value != value.to_integral_value():
        raise ValueError("Phải là số nguyên.")
    if abs(value) >= Decimal("1e14"):
        raise ValueError("Số quá lớn.")
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError("Tối đa 4 chữ số thập phân.")
    return value.quantize(Decimal("0.0001")), None
