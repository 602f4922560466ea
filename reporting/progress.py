"""Progress of an indicator toward its target, by the Open SDG progress measure.

The method of sdg-build's ``sdg/ProgressMeasure.py`` (Statistics Canada, after Eurostat),
followed as published: first, is the target achieved under its own rule (strict bounds are
strict here: "dưới 3%" is not met at 3%)? Otherwise the ratio of the observed compound annual
growth rate since the baseline to the rate required to reach the target by the target year,
signed by the desired direction:

    CAGR(a, b, n) = (a / b) ** (1 / n) - 1
    R = d x CAGR(latest, baseline, years since baseline) / |CAGR(target, baseline, years to go)|

with d = +1 when higher is better and -1 when lower is. A target or a baseline of 0 is replaced
by 0.001, as sdg-build does (a growth rate to or from 0 does not exist otherwise). Statuses are
decided on the unrounded R: R >= 0.95 on track; 0.6 <= R < 0.95 acceleration needed;
0 <= R < 0.6 limited progress; R < 0 moving away. A baseline already at the target followed by
a worse value needs an infinite rate back (sdg-build's R = -inf): moving away. Yes/no targets
are achieved or not; fewer than two years (baseline and a later one) are "too few years".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from documents.labels import Progress
from documents.vietnamese import format_number
from models.indicators import meets_target

ON_TRACK, ACCELERATE = 0.95, 0.6
ZERO_REPLACEMENT = 0.001  # sdg-build's stand-in for a target or baseline of 0


@dataclass(frozen=True)
class Assessment:
    status: Progress
    ratio: float | None = None  # R, unrounded, when computed
    share_covered: float | None = None  # for a target of 0: share of the distance covered
    worsening: bool = False  # met the target but moved away from it since the previous value
    note: str = ""


def direction(rule: str, target: Decimal, baseline: Decimal) -> int:
    """+1 when higher is better, -1 when lower is; "toward": whichever way the target lies."""
    if rule in ("at_least", "more_than"):
        return 1
    if rule in ("at_most", "less_than"):
        return -1
    return 1 if baseline < target else -1


def is_worse(rule: str, target: Decimal, before: Decimal, after: Decimal) -> bool:
    """Did the value move away from the target's good side between two years?"""
    if rule == "toward":
        return abs(after - target) > abs(before - target)
    return direction(rule, target, before) * (after - before) < 0


def _cagr(value: float, base: float, years: int) -> float:
    return (value / base) ** (1 / years) - 1


def _zero_target_note(baseline: Decimal, latest: Decimal) -> tuple[float | None, str]:
    """The share of the way to 0 covered since the baseline, worded by which way it went."""
    if baseline <= 0:
        return None, ""
    share = float((baseline - latest) / baseline)
    percent = format_number(round(Decimal(repr(abs(share))) * 100))
    if share >= 0:
        return share, f"Đã thu hẹp {percent}% khoảng cách đến mục tiêu 0 so với năm gốc."
    return share, f"Khoảng cách đến mục tiêu 0 đã nới rộng thêm {percent}% so với năm gốc."


def assess(
    rule: str,
    target: Decimal | None,
    series: dict[int, Decimal | bool | None],
    *,
    baseline_year: int,
    target_year: int,
    tolerance: Decimal | None = None,
) -> Assessment:
    """Assess the latest value of ``series`` (year -> value; bool for yes/no targets)."""
    known = {y: v for y, v in sorted(series.items()) if v is not None}
    if rule == "achieved":
        if not known:
            return Assessment(Progress.INSUFFICIENT_DATA, note="Chưa có số liệu.")
        met = bool(known[max(known)])
        return Assessment(Progress.ACHIEVED if met else Progress.NOT_ACHIEVED)
    if target is None:
        return Assessment(Progress.NO_TARGET)
    if not known:
        return Assessment(Progress.INSUFFICIENT_DATA, note="Chưa có số liệu.")
    latest_year = max(known)
    latest = Decimal(known[latest_year])
    earlier = [y for y in known if y < latest_year]
    baseline = Decimal(known[baseline_year]) if baseline_year in known else None
    if meets_target(rule, target, latest, tolerance=tolerance):
        worse = bool(earlier) and is_worse(rule, target, Decimal(known[earlier[-1]]), latest)
        note = f"Đạt nhưng đang xấu đi so với năm {earlier[-1]}." if worse else ""
        return Assessment(Progress.ACHIEVED, worsening=worse, note=note)
    if baseline is None or latest_year <= baseline_year or target_year <= baseline_year:
        return Assessment(
            Progress.INSUFFICIENT_DATA,
            note=f"Cần số liệu năm gốc {baseline_year} và ít nhất một năm sau.",
        )
    share, note = _zero_target_note(baseline, latest) if target == 0 else (None, "")
    if baseline < 0 or latest < 0 or target < 0:
        return Assessment(
            Progress.INSUFFICIENT_DATA,
            note="Không tính được tốc độ tăng trưởng với giá trị âm.",
        )
    base = float(baseline) or ZERO_REPLACEMENT
    d = direction(rule, target, baseline)
    observed = _cagr(float(latest) or ZERO_REPLACEMENT, base, latest_year - baseline_year)
    required = _cagr(float(target) or ZERO_REPLACEMENT, base, target_year - baseline_year)
    if required == 0:  # the baseline sat exactly at the target, and the target is not met now
        if latest == baseline:  # still on a strict bound ("dưới 3%" at 3%)
            return Assessment(
                Progress.LIMITED_PROGRESS,
                share_covered=share,
                note="Giữ nguyên ở đúng ngưỡng mục tiêu từ năm gốc, chưa vượt ngưỡng.",
            )
        return Assessment(
            Progress.MOVING_AWAY,
            share_covered=share,
            note=f"Năm gốc {baseline_year} đã ở mức mục tiêu; số liệu mới kém hơn năm gốc.",
        )
    ratio = d * observed / abs(required)
    return Assessment(_status(ratio), ratio=ratio, share_covered=share, note=note)


def _status(ratio: float) -> Progress:
    if ratio >= ON_TRACK:
        return Progress.ON_TRACK
    if ratio >= ACCELERATE:
        return Progress.ACCELERATION_NEEDED
    if ratio >= 0:
        return Progress.LIMITED_PROGRESS
    return Progress.MOVING_AWAY
