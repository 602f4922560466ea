"""The XLSX annex of the yearly report, read back with openpyxl."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import yaml
from openpyxl import load_workbook

from documents.annex_table import HEADER_ROW, lines_in
from documents.labels import channel_text
from documents.stored_report import read_consolidation
from reporting.yearly_annex import SHEETS, local_breakdown
from tests.report_data import HISTORY, NUMBER


@pytest.fixture(scope="module")
def book(built):
    return load_workbook(io.BytesIO(built.final.xlsx))


def rows(sheet) -> list[dict]:  # type: ignore[no-untyped-def]
    header = [c.value for c in sheet[HEADER_ROW]]
    return [
        dict(zip(header, values, strict=True))
        for values in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
    ]


def test_sheets_titles_and_reference_to_the_report(book):
    assert book.sheetnames == list(SHEETS)
    for sheet in book.worksheets:
        assert sheet["A2"].value.startswith(f"Kèm theo Báo cáo số {NUMBER} ngày 07/12/2026")
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert book["Chỉ tiêu"]["A1"].value == "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CHỦ YẾU ĐẾN NĂM 2030"


def test_indicator_sheet_holds_the_report_table_with_numbers(book, built):
    table = rows(book["Chỉ tiêu"])
    assert len(table) == 34 and [r["STT"] for r in table] == list(range(1, 35))
    assert "Mã" not in table[0]  # no internal codes (merit_care...) in what the ministry reads
    by_code = {r["STT"]: r for r in table}  # unemployment is target 2, social housing 27
    history = yaml.safe_load(HISTORY.read_text(encoding="utf-8"))["years"][2025]
    unemployment = by_code[2]
    assert unemployment["Năm 2026"] == 2.35 and unemployment["Năm 2026 (như báo cáo)"] == "2,35%"
    assert unemployment["Năm 2025"] == pytest.approx(float(Decimal(str(history["unemployment"]))))
    assert unemployment["Mục tiêu 2030"] == "Dưới 3%" and unemployment["Đánh giá"] == "Đạt"
    assert unemployment["Cơ quan báo cáo"] == "Sở Nội vụ"
    housing = by_code[27]
    assert housing["Năm 2026"] == 4257581 and housing["Năm 2026 (như báo cáo)"] == "4.257.581 căn"
    sheet = book["Chỉ tiêu"]
    column = [c.value for c in sheet[HEADER_ROW]].index("Năm 2026") + 1
    row = HEADER_ROW + 1 + 26
    assert sheet.cell(row, column).number_format == "#,##0"  # a whole number: no trailing comma
    row = HEADER_ROW + 1 + 1
    assert sheet.cell(row, column).number_format == "#,##0.####"
    yes_no = next(r for r in table if r["Mục tiêu 2030"] == "Đạt" and r["Năm 2026"])
    assert yes_no["Năm 2026"] in ("Có", "Không")
    report_rows = {r["STT"]: r for r in table}
    assert [report_rows[i["number"]]["Tiến độ đến năm 2030"] for i in built.data["indicators"]] == [
        i.progress_text for i in read_consolidation(built.data).indicators
    ]


def test_values_by_agency_come_from_the_counted_submissions(book):
    table = rows(book["Số liệu theo đơn vị"])
    agencies = [r["Cơ quan, đơn vị"] for r in table]
    assert list(dict.fromkeys(agencies)) == [
        "Sở Nội vụ",
        "Sở Y tế",
        "Sở Xây dựng",
        "Bảo hiểm xã hội tỉnh Vĩnh Long",
    ]  # registry order; not Sở Giáo dục và Đào tạo (sent back); the commune reports no values
    unemployment = next(r for r in table if r["Chỉ tiêu"] == "Tỷ lệ thất nghiệp chung")
    assert unemployment["Giá trị"] == 2.35 and unemployment["Như báo cáo"] == "2,35%"
    assert unemployment["Cấp"] == "Sở, ban, ngành" and unemployment["STT chỉ tiêu"] == 2
    housing = next(r for r in table if r["Như báo cáo"] == "4.257.581 căn")
    assert housing["Giá trị"] == 4257581 and housing["Cơ quan, đơn vị"] == "Sở Xây dựng"


def test_reporting_sheet_lists_every_agency_asked(book, built):
    table = rows(book["Tình hình báo cáo"])
    assert len(table) == built.data["requested"] == 23
    status = {r["Cơ quan, đơn vị"]: r["Tình trạng"] for r in table}
    assert status["Sở Y tế"] == "Trễ hạn" and status["Sở Nội vụ"] == "Đúng hạn"
    assert status["Sở Giáo dục và Đào tạo"] == "Bị trả lại, chưa gửi lại"
    assert sum(s == "Chưa báo cáo" for s in status.values()) == 17


def test_tasks_come_only_from_accepted_submissions(book):
    table = rows(book["Nhiệm vụ"])
    agencies = {r["Cơ quan, đơn vị báo cáo"] for r in table}
    assert "Sở Giáo dục và Đào tạo" not in agencies  # sent back
    assert {"Sở Nội vụ", "Sở Y tế", "Ủy ban nhân dân phường Thanh Đức"} <= agencies
    assert all(r["Kết quả thực hiện"] for r in table)


def test_breakdown_by_local_unit(book, built):
    table = rows(book["Theo đơn vị cấp cơ sở"])
    local = [a["name"] for a in built.data["agencies"] if a["kind"] == "local"]
    assert [r["Đơn vị"] for r in table] == local and len(local) == 10
    groups = [f"{g['number']}. {g['name']}" for g in built.data["task_groups"]]
    thanh_duc = next(r for r in table if r["Đơn vị"] == "Ủy ban nhân dân phường Thanh Đức")
    assert thanh_duc["Tình trạng báo cáo"] == "Đúng hạn" and thanh_duc["Ngày gửi"] == "28/11/2026"
    assert [thanh_duc[g] for g in groups] == ["Đang thực hiện"] * 8
    silent = next(r for r in table if r["Đơn vị"] == "Ủy ban nhân dân xã Long Hồ")
    assert silent["Tình trạng báo cáo"] == "Chưa báo cáo" and [silent[g] for g in groups] == (
        ["—"] * 8
    )


def test_no_local_unit_sheet_without_local_units(built):
    data = {**built.data, "agencies": [a for a in built.data["agencies"] if a["kind"] != "local"]}
    assert local_breakdown(read_consolidation(data))[1] == []


def test_difficulties_adjustments_and_recommendations(book):
    table = rows(book["Khó khăn, đề xuất"])
    kinds = {r["Nội dung"] for r in table}
    assert kinds == {"Khó khăn, vướng mắc", "Đề xuất điều chỉnh", "Kiến nghị"}
    adjustments = [r for r in table if r["Nội dung"] == "Đề xuất điều chỉnh"]
    assert adjustments == [
        {
            "Nội dung": "Đề xuất điều chỉnh",
            "Cơ quan, đơn vị": "Sở Xây dựng",
            "Chi tiết": "Điều chỉnh lộ trình chỉ tiêu nhà ở xã hội.",
        }
    ]


def test_draft_annex_names_the_draft(built):
    draft = load_workbook(io.BytesIO(built.draft.xlsx))
    assert draft["Chỉ tiêu"]["A2"].value == "Kèm theo dự thảo báo cáo năm 2026 (lần 1)"


INTERNAL = re.compile(r"^[a-z]+(_[a-z0-9]+)+$|^(web_form|upload|ops_import|demo|local|department)$")


def test_no_internal_code_anywhere_a_reader_looks(book):
    seen = [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and INTERNAL.match(cell.value)
    ]
    assert not seen
    channels = {r["Hình thức gửi"] for r in rows(book["Tình hình báo cáo"])}
    assert channels == {"Biểu mẫu trực tuyến", "—"}
    assert channel_text("demo") == "Dữ liệu minh họa" and channel_text("upload") != "upload"


def test_wrapped_rows_are_tall_enough_for_their_text(book):
    sheet = book["Chỉ tiêu"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJKL"}
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
        needed = max(
            lines_in(c.value, widths[c.column_letter]) for c in row if isinstance(c.value, str)
        )
        height = sheet.row_dimensions[row[0].row].height
        if needed > 1:
            assert height and height >= needed * 15, (row[0].row, needed, height)
    name = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == 34)[1].value
    assert lines_in(name, 50) >= 3  # the longest name: three lines, its row 3 lines high


def test_lines_in_wraps_at_word_boundaries():
    assert lines_in("", 10) == 1 and lines_in("một hai ba", 10) == 1
    assert lines_in("một hai ba bốn năm sáu bảy", 10) == 3
    assert lines_in("dòng một\ndòng hai", 40) == 2
    assert lines_in("x" * 50, 10) == 4  # no space to break at: cut where the column ends


def test_values_that_looked_wrong_are_listed_for_the_coordinator(book, built):
    table = rows(book["Số liệu cần lưu ý"])
    assert len(table) == len(built.data["flagged"]) and table
    housing = next(r for r in table if r["Giá trị"] == "4.257.581 căn")
    assert housing["Cơ quan, đơn vị"] == "Sở Xây dựng" and housing["Chỉ tiêu"].startswith("27. ")
    assert housing["Lý do"].startswith("4.257.581 căn nằm ngoài khoảng hợp lý 0 - 100.000 căn.")
    assert "gấp 5.458,4 lần giá trị năm 2025 của đơn vị (780 căn), quá 3 lần." in housing["Lý do"]
    assert housing["Xử lý"] == "Đơn vị đã xác nhận trên biểu mẫu trực tuyến"
    fertility = next(r for r in table if r["Chỉ tiêu"].startswith("16. "))
    assert fertility["Cơ quan, đơn vị"] == "Sở Y tế"  # reported late: still counted
    assert fertility["Xử lý"] == "Nhận kèm cảnh báo (nhập từ tệp Excel)"
    assert "Sở Giáo dục và Đào tạo" not in {r["Cơ quan, đơn vị"] for r in table}  # sent back
