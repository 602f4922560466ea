"""The report charts: valid PNGs of the expected size, Vietnamese axis numbers, fast enough."""

from __future__ import annotations

import io
import time
from decimal import Decimal

from PIL import Image

from documents.charts import (
    PNG_SIGNATURE,
    IndicatorSeries,
    _axis_number,
    indicator_chart,
    indicator_figure,
    report_charts,
    status_chart,
)
from documents.labels import Progress


def image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    picture = Image.open(io.BytesIO(png))
    picture.load()
    return picture


def test_indicator_chart_is_a_png_of_the_asked_size():
    png = indicator_chart(
        "Tỷ lệ lao động qua đào tạo có bằng cấp, chứng chỉ",
        {2024: Decimal("17.8"), 2025: Decimal("19.6"), 2026: None},
        unit="%",
        target=Decimal(40),
        baseline_year=2024,
        target_year=2030,
        width=3.2,
        height=2.2,
        dpi=100,
    )
    assert image(png).size == (320, 220)


def _lines(figure) -> set:  # type: ignore[no-untyped-def]
    return {
        (tuple(line.get_xdata()), tuple(line.get_ydata()), line.get_linestyle())
        for line in figure.axes[0].lines
    }


def test_the_chart_draws_values_path_and_target():
    """The values line, the dashed baseline-to-target path and the dotted target line."""
    figure = indicator_figure(
        "Tỷ lệ lao động qua đào tạo có bằng cấp, chứng chỉ",
        {2024: Decimal("17.8"), 2025: Decimal("19.6")},
        unit="%",
        target=Decimal(40),
        baseline_year=2024,
        target_year=2030,
        rule="at_least",
    )
    lines = _lines(figure)
    assert ((2024, 2030), (17.8, 40.0), "--") in lines  # the straight path to the target
    assert ((2024, 2025), (17.8, 19.6), "-") in lines  # the values
    assert ((0, 1), (40.0, 40.0), ":") in lines  # the target, across the chart
    assert figure.axes[0].get_ylabel() == "%"


def test_no_path_from_a_baseline_already_past_the_target():
    """Unemployment 2,45% in 2024 already beats "dưới 3%": a straight path to 3% would point
    to a worse value, so only the target line is drawn."""
    figure = indicator_figure(
        "Tỷ lệ thất nghiệp chung",
        {2024: Decimal("2.45"), 2025: Decimal("2.6")},
        unit="%",
        target=Decimal(3),
        baseline_year=2024,
        target_year=2030,
        rule="less_than",
    )
    lines = _lines(figure)
    assert not [line for line in lines if line[2] == "--"]
    assert ((0, 1), (3.0, 3.0), ":") in lines and ((2024, 2025), (2.45, 2.6), "-") in lines


def test_yes_no_and_empty_series_still_render():
    yes_no = indicator_chart(
        "Phổ cập giáo dục mầm non",
        {2024: True, 2025: False},
        baseline_year=2024,
        target_year=2030,
        yes_no=True,
    )
    empty = indicator_chart(
        "Nhà ở xã hội", {}, unit="căn", target=None, baseline_year=2024, target_year=2030
    )
    assert image(yes_no).size == image(empty).size == (480, 330)


def test_axis_numbers_are_written_the_vietnamese_way():
    assert _axis_number(2.5) == "2,5"
    assert _axis_number(4257581.0) == "4.257.581"
    assert _axis_number(3.0) == "3"


def test_status_chart_from_counts_or_from_one_status_per_indicator():
    statuses = [Progress.ACHIEVED] * 8 + [Progress.ACCELERATION_NEEDED] * 3 + [Progress.NO_TARGET]
    from_list = status_chart(statuses)
    from_counts = status_chart(
        {Progress.ACHIEVED: 8, Progress.ACCELERATION_NEEDED: 3, Progress.NO_TARGET: 1}
    )
    assert from_list == from_counts  # same picture, same bytes
    assert image(from_list).size == (900, 420)


def test_a_report_s_34_charts_render_in_a_few_seconds():
    series = [
        IndicatorSeries(
            n, f"Chỉ tiêu số {n}", "%", Decimal(40), False, {2024: Decimal(20), 2025: Decimal(22)}
        )
        for n in range(1, 35)
    ]
    started = time.perf_counter()
    charts = report_charts(series, [Progress.ON_TRACK] * 34, baseline_year=2024, target_year=2030)
    elapsed = time.perf_counter() - started
    assert len(charts.indicators) == 34 and charts.indicators[0][0] == "1. Chỉ tiêu số 1"
    assert all(png.startswith(PNG_SIGNATURE) for _, png in charts.indicators)
    assert elapsed < 20, f"{elapsed:.1f} s for 34 charts (about 2-3 s measured on 2 cores)"
