"""Progress of an indicator toward its target, by the Open SDG progress measure.

The method of sdg-build's ``sdg/ProgressMeasure.py`` (Statistics Canada, after Eurostat):
first, is the target achieved under its own rule (strict bounds are strict)? Otherwise the
ratio of the observed compound annual growth rate since the baseline to the rate required to
reach the target by the target year, signed by the desired direction:

    R = d x CAGR_observed / |CAGR_required|,  d = +1 when higher is better, -1 when lower is

R >= 0.95 on track; 0.6 <= R < 0.95 acceleration needed; 0 <= R < 0.6 limited progress;
R < 0 moving away. Yes/no targets are achieved or not. A target of 0 cannot be reached by
compound growth: it is achieved only at 0, and progress is the share of the distance covered,
compared (as R) with the share of the time elapsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from models.indicators import meets_target

ON_TRACK, ACCELERATE = 0.95, 0.6


class Progress(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    ACCELERATION_NEEDED = "acceleration_needed"
    LIMITED_PROGRESS = "limited_progress"
    MOVING_AWAY = "moving_away"
    NOT_ACHIEVED = "not_achieved"  # yes/no targets
    INSUFFICIENT_DATA = "insufficient_data"
    NO_TARGET = "no_target"

    @property
    def text(self) -> str:
        return {
            "achieved": "Đã đạt mục tiêu",
            "on_track": "Đúng lộ trình",
            "acceleration_needed": "Cần tăng tốc",
            "limited_progress": "Tiến bộ hạn chế",
            "moving_away": "Đi ngược mục tiêu",
            "not_achieved": "Chưa đạt",
            "insufficient_data": "Chưa đủ số liệu để đánh giá",
            "no_target": "Chưa có mục tiêu được giao",
        }[self.value]


@dataclass(frozen=True)
class Assessment:
    status: Progress
    ratio: float | None = None  # R, when computed
    share_covered: float | None = None  # for a target of 0: share of the distance covered
    falling: bool = False  # met the target but moved the wrong way since the previous value
    note: str = ""


def _direction(rule: str, target: Decimal, baseline: Decimal) -> int:
    if rule in ("at_least", "more_than"):
        return 1
    if rule in ("at_most", "less_than"):
        return -1
    return 1 if baseline < target else -1  # "toward": whichever way the target lies


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
    direction = _direction(rule, target, baseline if baseline is not None else latest)
    if meets_target(rule, target, latest, tolerance=tolerance):
        previous = Decimal(known[earlier[-1]]) if earlier else None
        falling = previous is not None and direction * (latest - previous) < 0
        return Assessment(
            Progress.ACHIEVED,
            falling=falling,
            note="Đạt nhưng đang giảm so với năm trước." if falling else "",
        )
    if baseline is None or latest_year <= baseline_year:
        return Assessment(
            Progress.INSUFFICIENT_DATA,
            note=f"Cần số liệu năm gốc {baseline_year} và ít nhất một năm sau.",
        )
    if target == 0:  # linear pace: share of the distance covered against share of time elapsed
        share = float((baseline - latest) / baseline) if baseline else 0.0
        elapsed = (latest_year - baseline_year) / (target_year - baseline_year)
        ratio = round(share / elapsed, 3)
        return Assessment(
            _status(ratio),
            ratio=ratio,
            share_covered=round(share, 3),
            note=f"Đã thu hẹp {share:.0%} khoảng cách đến mục tiêu 0.",
        )
    if baseline <= 0 or latest <= 0 or target <= 0 or target_year <= baseline_year:
        return Assessment(
            Progress.INSUFFICIENT_DATA,
            note="Không tính được tốc độ tăng trưởng với giá trị không dương.",
        )
    observed = (float(latest) / float(baseline)) ** (1 / (latest_year - baseline_year)) - 1
    required = (float(target) / float(baseline)) ** (1 / (target_year - baseline_year)) - 1
    if required == 0:
        return Assessment(Progress.INSUFFICIENT_DATA, note="Mục tiêu bằng giá trị năm gốc.")
    ratio = direction * observed / abs(required)
    return Assessment(_status(ratio), ratio=round(ratio, 3))


def _status(ratio: float) -> Progress:
    if ratio >= ON_TRACK:
        return Progress.ON_TRACK
    if ratio >= ACCELERATE:
        return Progress.ACCELERATION_NEEDED
    if ratio >= 0:
        return Progress.LIMITED_PROGRESS
    return Progress.MOVING_AWAY
