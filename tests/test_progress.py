"""The Open SDG progress measure, checked against sdg-build's ``ProgressMeasure`` and the
cases of issue 14.

The expected R values were computed once with sdg-build's own ``methodology_2`` (numpy floats,
target and baseline of 0 replaced by 0.001, ``R = sign x direction x CAGR_o / |CAGR_r|``) and
are written here as fixed numbers: the project does not depend on sdg-build.
"""

from decimal import Decimal as D

import pytest

from documents.labels import Progress, progress_text, ratio_text
from reporting.progress import assess

SDG_STATUS = {
    "target_achieved": Progress.ACHIEVED,
    "substantial_progress": Progress.ON_TRACK,
    "moderate_progress": Progress.ACCELERATION_NEEDED,
    "limited_progress": Progress.LIMITED_PROGRESS,
    "deterioration": Progress.MOVING_AWAY,
}


def check(rule, target, start, end, *, years=(2020, 2025), target_year=2030, **extra):
    first, last = years
    return assess(
        rule,
        D(str(target)) if target is not None else None,
        {first: D(str(start)), last: D(str(end))},
        baseline_year=first,
        target_year=target_year,
        **extra,
    )


# (rule, target, baseline year, baseline, latest year, latest) -> sdg-build's (R, status)
SDG_BUILD = [
    ("at_most", 0, 2024, 1250, 2026, 325, 0.5423533901486848, "limited_progress"),
    ("at_most", 0, 2024, 1250, 2025, 310, 0.8321799087406596, "moderate_progress"),
    ("at_most", 0, 2024, 1250, 2026, 1300, -0.021915438772656507, "deterioration"),
    ("at_most", 0, 2024, 1250, 2026, 25.15, 0.9496534061068196, "moderate_progress"),
    ("at_least", 1000, 2024, 0, 2026, 780, 98.01956518142053, "substantial_progress"),
    ("at_least", 40, 2020, 25, 2025, 30, 0.7717257963801709, "moderate_progress"),
    ("at_least", 40, 2020, 25, 2025, 28.823, 0.5998956851919437, "limited_progress"),
    ("at_least", 40, 2020, 25, 2025, 30.197, 0.799956796947635, "moderate_progress"),
    ("less_than", 13, 2020, 20, 2025, 17, 0.7585028888023315, "moderate_progress"),
    ("at_least", 40, 2024, 17.8, 2025, 19.6, 0.6999338408604999, "moderate_progress"),
    ("less_than", 13, 2024, 14.6, 2025, 14.1, 1.7874516796366142, "substantial_progress"),
    ("at_least", 17, 2024, 11.2, 2025, 11.9, 0.8677472213351125, "moderate_progress"),
    ("at_least", 97, 2024, 88.5, 2025, 90.3, 1.320529101793503, "substantial_progress"),
    ("at_least", 95, 2024, 93.8, 2026, 93.0, -2.0149400764472905, "deterioration"),
]


@pytest.mark.parametrize("rule, target, y0, v0, y1, v1, ratio, status", SDG_BUILD)
def test_same_ratio_and_status_as_sdg_build(rule, target, y0, v0, y1, v1, ratio, status):
    result = check(rule, target, v0, v1, years=(y0, y1))
    assert result.ratio == pytest.approx(ratio, rel=1e-12)
    assert result.status is SDG_STATUS[status]


def test_zero_target_of_the_signed_2026_report_is_limited_progress_not_on_track():
    # The old linear "share of the distance" gave "Đúng lộ trình (R = 2,22)" here.
    result = check("at_most", 0, 1250, 325, years=(2024, 2026))
    assert result.status is Progress.LIMITED_PROGRESS
    assert progress_text(result.status, result.ratio, result.worsening) == (
        "Tiến bộ hạn chế (R\u00a0=\u00a00,54)"
    )
    assert result.share_covered == pytest.approx(0.74)
    assert result.note == "Đã thu hẹp 74% khoảng cách đến mục tiêu 0 so với năm gốc."


def test_zero_target_moving_away_says_the_gap_widened():
    result = check("at_most", 0, 1250, 1300, years=(2024, 2026))
    assert result.status is Progress.MOVING_AWAY
    assert result.note == "Khoảng cách đến mục tiêu 0 đã nới rộng thêm 4% so với năm gốc."
    assert "thu hẹp" not in result.note and "-" not in result.note


def test_zero_baseline_and_zero_target_then_worse_is_moving_away():
    # sdg-build: both 0 -> 0.001, required growth 0, R = -inf (deterioration)
    result = check("at_most", 0, 0, 5, years=(2024, 2026))
    assert result.status is Progress.MOVING_AWAY and result.ratio is None
    assert check("at_most", 0, 0, 0, years=(2024, 2026)).status is Progress.ACHIEVED


def test_baseline_at_the_target_then_worse_is_deterioration_not_too_few_years():
    result = check("at_least", 30, 30, 29, years=(2024, 2026))
    assert result.status is Progress.MOVING_AWAY
    assert "2024" in result.note and result.ratio is None
    still = check("less_than", 3, 3, 3, years=(2024, 2026))  # on a strict bound, not past it
    assert still.status is Progress.LIMITED_PROGRESS


def test_status_is_decided_on_the_unrounded_ratio_and_printed_without_contradiction():
    result = check("at_most", 0, 1250, 25.15, years=(2024, 2026))  # R = 0.94965
    assert result.status is Progress.ACCELERATION_NEEDED
    assert result.ratio == pytest.approx(0.9496534061068196)  # not rounded when stored
    assert ratio_text(result.ratio) == "0,94"
    limited = check("at_least", 40, 25, 28.823)  # R = 0.59990
    assert limited.status is Progress.LIMITED_PROGRESS and ratio_text(limited.ratio) == "0,59"


@pytest.mark.parametrize(
    "ratio, text",
    [(0.8, "0,80"), (0.799956796947635, "0,79"), (0.95, "0,95"), (1.0, "1,00"), (0.0, "0,00"),
     (2.22, "2,22"), (-0.021915438772656507, "\u22120,03"), (-2.0149400764472905, "\u22122,02"),
     (98.01956518142053, "98,01")],
)  # fmt: skip
def test_ratio_always_has_two_decimals_and_a_minus_that_stays_with_it(ratio, text):
    assert ratio_text(ratio) == text


def test_achieved_but_worsening_follows_the_good_direction():
    # unemployment "dưới 3%": 2,45% -> 2,6% rose, which is worse for a lower-is-better target
    up = assess("less_than", D(3), {2024: D("2.45"), 2026: D("2.6")},
                baseline_year=2024, target_year=2030)  # fmt: skip
    assert up.status is Progress.ACHIEVED and up.worsening
    assert progress_text(up.status, up.ratio, up.worsening) == (
        "Đã đạt mục tiêu; đạt nhưng đang xấu đi"
    )
    assert up.note == "Đạt nhưng đang xấu đi so với năm 2024."
    down = check("less_than", 3, 2.6, 2.45)  # fell: better
    assert down.status is Progress.ACHIEVED and not down.worsening
    beds = check("at_least", 32, 34.0, 33.0)  # higher is better, fell: worse
    assert beds.worsening
    assert not check("at_least", 32, 33.0, 34.0).worsening


def test_worsening_compares_with_the_year_before_the_latest():
    series = {2024: D("2.9"), 2025: D("2.7"), 2026: D("2.5")}
    result = assess("less_than", D(3), series, baseline_year=2024, target_year=2030)
    assert result.status is Progress.ACHIEVED and not result.worsening
    series[2026] = D("2.8")
    result = assess("less_than", D(3), series, baseline_year=2024, target_year=2030)
    assert result.worsening and "2025" in result.note


def test_toward_worsens_when_the_distance_to_the_target_grows():
    assert check("toward", 2.1, 2.05, 2.0, tolerance=D("0.1")).worsening
    assert not check("toward", 2.1, 2.0, 2.05, tolerance=D("0.1")).worsening
    rising = check("toward", 2.1, 1.6, 1.7, tolerance=D("0.1"))
    assert rising.ratio > 0
    assert check("toward", 2.1, 1.6, 2.05, tolerance=D("0.1")).status is Progress.ACHIEVED


def test_strictly_below_is_achieved():
    result = check("less_than", 3, 3.5, 2.8)
    assert result.status is Progress.ACHIEVED and not result.worsening


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


def test_yes_no_targets_no_target_and_missing_data():
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
    no_target = check("at_least", None, 780, 818)
    assert no_target.status is Progress.NO_TARGET
    assert no_target.status.text == "Chưa giao chỉ tiêu"
