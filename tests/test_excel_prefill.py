"""The Excel form downloaded again carries what the agency already wrote (its latest revision,
or its draft), so it can correct in Excel what it sent; sent back unchanged, it is the same."""

from __future__ import annotations

import io

import openpyxl

from tests.factories import agency_task_groups
from tests.test_portal import AGENCY, csrf, path_of, portal, upload, valid_form  # noqa: F401


def cells(portal, path: str) -> tuple[dict, dict, str]:  # noqa: ANN001
    workbook = openpyxl.load_workbook(io.BytesIO(portal.get(f"{path}/bieu-mau.xlsx").content))
    values = {r[0].value: (r[6].value, r[7].value) for r in workbook["Chỉ tiêu"].iter_rows()}
    tasks = {r[0].value: [c.value for c in r[3:7]] for r in workbook["Nhiệm vụ"].iter_rows()}
    return values, tasks, workbook["Đề xuất"]["A4"].value


def test_the_form_downloaded_after_a_submission_carries_it(portal):  # noqa: F811
    path = path_of()
    group = agency_task_groups(AGENCY)[0]
    form = valid_form(
        csrf(portal, path),
        note__floor_area="Ước tính.",
        adjustment_proposals="Bổ sung chỉ tiêu nhà ở công nhân.",
        **{f"difficulties__{group}": "Thiếu quỹ đất."},
    )
    assert portal.post(path, data=form, follow_redirects=False).status_code == 303
    values, tasks, proposals = cells(portal, path)
    assert values["floor_area"] == ("28,4", "Ước tính.")
    assert values["urban_clean_water"][0] == "99,5" and values["social_housing"][0] == "1.250"
    assert tasks[group] == ["Hoàn thành", "Đã hoàn thành kế hoạch năm.", "Thiếu quỹ đất.", None]
    assert proposals == "Bổ sung chỉ tiêu nhà ở công nhân."
    # sent back as it is, it is the same report: no new revision
    again = upload(portal, path, portal.get(f"{path}/bieu-mau.xlsx").content)
    assert again.status_code == 303 and again.headers["location"].endswith("/bien-nhan/1?khong-doi=1")


def test_the_form_downloaded_after_a_draft_carries_the_draft(portal):  # noqa: F811
    path = path_of()
    draft = valid_form(csrf(portal, path), action="save", value__floor_area="30,2")
    assert "Đã lưu bản nháp" in portal.post(path, data=draft).text
    values, _, _ = cells(portal, path)
    assert values["floor_area"][0] == "30,2"
