"""Whether a value meets its target under the target's rule (strict bounds are strict)."""

from __future__ import annotations

from decimal import Decimal

from config.registry import Rule


def meets_target(
    rule: str,
    target: Decimal | None,
    value: Decimal | None,
    achieved: bool | None = None,
    tolerance: Decimal | None = None,
) -> bool | None:
    """True/False under ``rule``; None when there is no value, or no target to compare with."""
    rule = Rule(rule)
    if rule is Rule.ACHIEVED:
        return achieved
    if value is None or target is None:
        return None
    if rule is Rule.AT_LEAST:
        return value >= target
    if rule is Rule.MORE_THAN:
        return value > target
    if rule is Rule.AT_MOST:
        return value <= target
    if rule is Rule.LESS_THAN:
        return value < target
    return abs(value - target) <= (tolerance or Decimal(0))  # Rule.TOWARD
