"""The report's charts drawn by a second process: the same PNGs, its errors reported, never left
running, and drawn here when no process can be started."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest

from documents.chart_process import ChartProcess, ChartProcessError
from documents.charts import IndicatorSeries, report_charts
from documents.labels import Progress

SERIES = [
    IndicatorSeries(1, "Tỷ lệ hộ nghèo đa chiều", "%", Decimal("1.5"), False,
                    {2020: Decimal("4.2"), 2025: Decimal("2.1"), 2026: Decimal("1.9")}),
    IndicatorSeries(2, "Có quy hoạch mạng lưới cơ sở trợ giúp xã hội", "", None, True,
                    {2020: False, 2026: True}),
]  # fmt: skip
STATUSES = [Progress.ON_TRACK, Progress.ACHIEVED]
OPTIONS = {"baseline_year": 2020, "target_year": 2030}


def test_the_process_draws_the_same_pngs_as_this_one():
    with ChartProcess() as charts:
        assert not charts.drawing
        charts.draw(SERIES, STATUSES, **OPTIONS)
        assert charts.drawing
        drawn = charts.result()
        assert charts.result() is drawn  # read once
    assert drawn == report_charts(SERIES, STATUSES, **OPTIONS)
    assert [caption for caption, _ in drawn.indicators] == [
        "1. Tỷ lệ hộ nghèo đa chiều",
        "2. Có quy hoạch mạng lưới cơ sở trợ giúp xã hội",
    ]


def test_an_error_in_the_process_is_raised_with_its_message():
    with ChartProcess() as charts:
        charts.draw(SERIES, STATUSES, baseline_year=2020, target_year=2030, no_such_option=1)
        with pytest.raises(ChartProcessError, match="no_such_option"):
            charts.result()


def test_a_process_given_nothing_to_draw_is_stopped_on_leaving():
    with ChartProcess() as charts:
        process = charts._process
        assert process is not None and process.poll() is None  # importing matplotlib
    assert process.poll() is not None
    with pytest.raises(RuntimeError, match="draw"):
        charts.result()


def test_an_exception_in_the_caller_stops_the_process():
    with pytest.raises(KeyError), ChartProcess() as charts:
        charts.draw(SERIES, STATUSES, **OPTIONS)
        process = charts._process
        raise KeyError("the consolidation failed")
    assert process is not None and process.poll() is not None


def test_one_process_draws_one_report():
    with ChartProcess() as charts:
        charts.draw(SERIES, STATUSES, **OPTIONS)
        with pytest.raises(RuntimeError, match="one report"):
            charts.draw(SERIES, STATUSES, **OPTIONS)


def test_charts_are_drawn_here_when_no_process_can_start(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    with ChartProcess() as charts:
        assert charts._process is None
        charts.draw(SERIES, STATUSES, **OPTIONS)
        assert charts.result() == report_charts(SERIES, STATUSES, **OPTIONS)
