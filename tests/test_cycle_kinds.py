"""One object per kind of cycle holds what the shared flows do differently (reporting/cycle_kinds.py)."""

from __future__ import annotations

from models.orm import CycleKind
from reporting import report_files, review_files
from reporting.cycle_kinds import CYCLE_KINDS, review_data, yearly_data
from reporting.evaluation_requests import queue_evaluation_requests
from reporting.requests import queue_requests


def test_every_kind_of_cycle_has_its_object():
    assert set(CYCLE_KINDS) == set(CycleKind)
    assert {k: v.kind for k, v in CYCLE_KINDS.items()} == {k: k for k in CycleKind}


def test_the_yearly_report_and_the_reviews_differ_only_in_their_parts():
    annual, midterm, final = (CYCLE_KINDS[k] for k in CycleKind)
    assert (annual.queue_requests, annual.consolidated) == (queue_requests, yearly_data)
    assert annual.report_content is report_files.report_content
    for review in (midterm, final):
        assert review.queue_requests is queue_evaluation_requests
        assert review.consolidated is review_data
        assert review.draw_charts is review_files.draw_charts
    assert [k.file_prefix for k in (annual, midterm, final)] == ["bao-cao", "so-ket", "tong-ket"]
    assert [k.report_name(2025) for k in (annual, midterm, final)] == [
        "báo cáo năm 2025",
        "báo cáo sơ kết năm 2025",
        "báo cáo tổng kết năm 2025",
    ]
