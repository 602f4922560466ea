"""The Open SDG progress measure on the issue's vectors (baseline 2020, latest 2025, 2030)."""

from decimal import Decimal as D

import pytest

from reporting.progress import Progress, assess


def check(rule, target, start, end, **extra):
    return assess(
        rule,
        D(str(target)) if target is not None else None,
        {2020: D(str(start)), 2025: D(str(end))},
        baseline_year=2020,
        target_year=2030,
        **extra,
    )


def test_higher_is_better_below_pace_needs_acceleration():
    result = check("at_least", 40, 25.0, 30.0)
    assert result.ratio == pytest.approx(0.772, abs=0.0005)
    assert result.status is Progress.ACCELERATION_NEEDED


def test_lower_is_better_below_pace_needs_acceleration():
    result = check("less_than", 13, 20.0, 17.0)
    assert result.ratio == pytest.approx(0.759, abs=0.0005)
    assert result.status is Progress.ACCELERATION_NEEDED


def test_achieved_but_falling_is_flagged():
    result = check("at_least", 32, 34.0, 33.0)
    assert result.status is Progress.ACHIEVED and result.falling


def test_strictly_below_is_achieved():
    result = check("less_than", 3, 3.5, 2.8)
    assert result.status is Progress.ACHIEVED and not result.falling


def test_strict_bounds_are_strict():
    assert check("less_than", 3, 3.5, 3.0).status is not Progress.ACHIEVED
    assert check("more_than", 95, 90, 95).status is not Progress.ACHIEVED


@pytest.mark.parametrize(
    "end, status",
    [
        (34.0, Progress.ON_TRACK),
        (28.0, Progress.LIMITED_PROGRESS),
        (24.0, Progress.MOVING_AWAY),
    ],
)
def test_thresholds(end, status):
    assert check("at_least", 40, 25.0, end).status is status


def test_a_target_of_zero_is_achieved_only_at_zero_with_the_share_covered():
    result = check("at_most", 0, 1250, 310)  # 75% of the way in half the time
    assert result.share_covered == pytest.approx(0.752, abs=0.001)
    assert result.status is Progress.ON_TRACK and result.ratio == pytest.approx(1.504)
    assert check("at_most", 0, 1250, 1000).status is Progress.LIMITED_PROGRESS  # 20% in 50%
    assert check("at_most", 0, 1250, 1300).status is Progress.MOVING_AWAY
    assert check("at_most", 0, 1250, 0).status is Progress.ACHIEVED


def test_yes_no_targets_and_missing_data():
    assert (
        assess("achieved", None, {2025: True}, baseline_year=2020, target_year=2030).status
        is Progress.ACHIEVED
    )
    assert (
        assess("achieved", None, {2025: False}, baseline_year=2020, target_year=2030).status
        is Progress.NOT_ACHIEVED
    )
    too_few = assess("at_least", D(40), {2025: D(30)}, baseline_year=2020, target_year=2030)
    assert too_few.status is Progress.INSUFFICIENT_DATA and "2020" in too_few.note
    assert check("at_least", None, 1, 2).status is Progress.NO_TARGET


def test_toward_takes_the_direction_of_the_target():
    rising = check("toward", 2.1, 1.6, 1.7, tolerance=D("0.1"))
    assert rising.ratio > 0
    assert check("toward", 2.1, 1.6, 2.05, tolerance=D("0.1")).status is Progress.ACHIEVED
