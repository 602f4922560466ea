"""What the evaluation reports say about progress (issue 14, items 1-6), from plain data: the
method paragraph in every review, statuses worded as decided, part V naming every indicator
that needs acceleration or is moving away."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from documents.evaluation_content import Heading, Para, build_content
from documents.content_html import report_page
from documents.content_markdown import content_markdown
from documents.report_data import Evaluation, IndicatorEvaluation
from documents.vietnamese import format_number
from reporting.progress import assess
from reporting.review_files import review_content

# A letterhead without a registry version: the province's People's Committee, no recipients.
FRAME = {
    "issuing_body": "Ủy ban nhân dân",
    "issuing_body_short": "UBND",
    "signer": {"title": "Chủ tịch"},
    "recipients": [],
    "province": "Vĩnh Long",
    "place": "Vĩnh Long",
}


def evaluation_markdown(e: Evaluation) -> str:
    """The draft's Markdown, as the consolidate flow's artifact shows it."""
    return content_markdown(review_content(e, FRAME))

# code, rule, target, 2024, 2025, unit
CASES = [
    ("trained_certified", "at_least", "40", "17.8", "19.6", "%"),  # R = 0.70, accelerate
    ("doctors", "at_least", "17", "11.2", "11.9", "bác sĩ/10.000 dân"),  # R = 0.87
    ("temporary_houses", "at_most", "0", "1250", "1300", "căn"),  # moving away, gap widened
    ("floor_area", "at_least", "30", "30", "29", "m²/người"),  # baseline at target, worse
    ("unemployment", "less_than", "3", "2.45", "2.6", "%"),  # achieved but worsening
    ("social_housing", "at_least", None, "780", "818", "căn"),  # no target assigned
    ("enrolment_lower_secondary", "at_least", "95", "93.8", "93", "%"),  # moving away
]


def _indicator(n: int, code, rule, target, first, second, unit) -> IndicatorEvaluation:  # type: ignore[no-untyped-def]
    series = {2024: D(first), 2025: D(second)}
    result = assess(
        rule, D(target) if target else None, series, baseline_year=2024, target_year=2030
    )
    return IndicatorEvaluation(
        number=n, code=code, name=f"Chỉ tiêu {code}", unit=unit, kind="number", rule=rule,
        reporter="Sở Nội vụ", target=f"Tối thiểu {target}", target_value=float(target) if target else None,
        series={y: float(v) for y, v in series.items()},
        series_text=[
            {"year": str(y), "value": format_number(v) + ("%" if unit == "%" else f" {unit}")}
            for y, v in series.items()
        ],
        sources={2024: "stored", 2025: "agency"}, status=result.status.value,
        status_text=result.status.text, ratio=result.ratio, worsening=result.worsening,
        note=result.note,
    )  # fmt: skip


def evaluation(kind: str = "midterm") -> Evaluation:
    indicators = [_indicator(n, *case) for n, case in enumerate(CASES, start=1)]
    counts: dict[str, int] = {}
    for i in indicators:
        counts[i.status] = counts.get(i.status, 0) + 1
    year = 2025 if kind == "midterm" else 2030
    return Evaluation(
        programme="Chương trình hành động", short_name="Chương trình hành động số 42",
        decision="Quyết định số 2385/QĐ-UBND", province="Vĩnh Long", kind=kind,
        review="sơ kết" if kind == "midterm" else "tổng kết", year=year, baseline_year=2024,
        target_year=2030, years=[2024, 2025], deadline="05/12/2025", as_of="06/12/2025",
        requested=1, on_time=1, late=0, missing=0, agencies=[], indicators=indicators,
        status_counts=counts, task_groups=[], narratives={},
    )  # fmt: skip


def _texts(content) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.text for b in content.blocks if isinstance(b, Para | Heading)]


@pytest.mark.parametrize("kind", ["midterm", "final"])
def test_every_review_prints_the_method(kind):
    text = "\n".join(_texts(build_content(evaluation(kind)))).replace("\u00a0", " ")
    for part in ("R = d × CAGR thực tế / |CAGR cần có|", "0,001", "R ≥ 0,95 đúng lộ trình",
                 "0,6 ≤ R < 0,95", "R < 0 đi ngược", "ngưỡng chặt", "chưa đủ số liệu",
                 "năm gốc 2024", "sdg-build", "làm tròn xuống", "chưa giao chỉ tiêu"):  # fmt: skip
        assert part in text, part
    assert ("Tại kỳ tổng kết" in text) is (kind == "final")
    assert text.count("mã nguồn sdg-build") == 1  # said once, not again in the first sentence


def test_statuses_as_the_published_method_gives_them():
    rows = {i.code: i for i in evaluation().indicators}
    assert rows["trained_certified"].progress_text == "Cần tăng tốc (R\u00a0=\u00a00,69)"
    assert rows["temporary_houses"].status == "moving_away"
    assert rows["temporary_houses"].note == (
        "Khoảng cách đến mục tiêu 0 đã nới rộng thêm 4% so với năm gốc."
    )
    assert rows["floor_area"].status == "moving_away"  # not "too few years"
    assert rows["unemployment"].progress_text == "Đã đạt mục tiêu; đạt nhưng đang xấu đi"
    assert rows["social_housing"].progress_text == "Chưa giao chỉ tiêu"


def test_the_indicator_table_says_worsening_not_falling():
    markdown = evaluation_markdown(evaluation())
    assert "đạt nhưng đang xấu đi" in markdown
    assert "giảm" not in markdown.split("Bảng 2.")[1].split("\n\n")[2]  # the table itself
    assert "Chưa giao chỉ tiêu" in markdown and "Chưa có số liệu" not in markdown


def test_part_v_names_the_indicators_to_speed_up_and_to_turn_around():
    texts = _texts(build_content(evaluation()))
    part = texts[[t.startswith("V. ") for t in texts].index(True) + 1 :]
    speed, away = part[0], part[1]
    assert speed.startswith("Tập trung tăng tốc để đạt mục tiêu năm 2030 đối với 2 chỉ tiêu")
    assert "Chỉ tiêu trained_certified" in speed and "Chỉ tiêu doctors" in speed
    assert "đảo chiều" in away and "3 chỉ tiêu đang đi ngược mục tiêu" in away
    for code in ("temporary_houses", "floor_area", "enrolment_lower_secondary"):
        assert f"Chỉ tiêu {code}" in away


def test_the_final_review_has_no_mid_term_directions():
    texts = _texts(build_content(evaluation("final")))
    assert not [t for t in texts if t.startswith("Tập trung tăng tốc")]


def test_the_html_page_names_each_chart_in_vietnamese():
    html = report_page(review_content(evaluation(), FRAME), {"overview": b"x", "doctors": b"y"})
    alts = re.findall(r'<img alt="([^"]*)"', html)
    assert alts == ["Hình 1. Tổng quan tiến độ các chỉ tiêu", "2. Chỉ tiêu doctors"]
