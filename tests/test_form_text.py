"""Long and decomposed text on both channels: refused with the field named past 20.000
characters (never cut), and kept as NFC whether typed in the browser or in Excel."""

from __future__ import annotations

import io
import re
import unicodedata

import openpyxl
from sqlalchemy import func, select

from models.database import session_scope
from models.orm import Submission, SubmissionDraft, TaskReport
from tests.factories import agency_task_groups
from tests.test_portal import AGENCY, csrf, filled_form, path_of, portal, upload, valid_form  # noqa: F401

NFD = unicodedata.normalize("NFD", "Đã triển khai nhà ở xã hội cho người thu nhập thấp")


def stored_results() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(TaskReport.results)))


def test_text_over_the_limit_is_refused_with_its_field_and_kept_whole(portal):  # noqa: F811
    path = path_of()
    group = agency_task_groups(AGENCY)[0]
    long_text = "Kết quả " * 2_500 + "x"  # 20.001 characters
    for action in ("submit", "save"):
        form = valid_form(csrf(portal, path), action=action, **{f"results__{group}": long_text})
        response = portal.post(path, data=form)
        assert response.status_code == 422
        error = re.search(rf'id="results__{group}-error">([^<]+)<', response.text).group(1)
        assert "20.001 ký tự, tối đa 20.000 ký tự" in error
        assert long_text in response.text  # on the page as typed, not cut
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        assert session.scalar(select(func.count()).select_from(SubmissionDraft)) == 0


def test_text_at_the_limit_is_stored_whole_and_the_page_counts_characters(portal):  # noqa: F811
    path = path_of()
    page = portal.get(path).text
    assert 'data-maxlength="20000"' in page and 'src="/tai-nguyen/bieu-mau.js"' in page
    script = portal.get("/tai-nguyen/bieu-mau.js")
    assert script.status_code == 200 and "data-maxlength" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    group = agency_task_groups(AGENCY)[0]
    exactly = "ậ" * 20_000
    form = valid_form(csrf(portal, path), **{f"results__{group}": exactly})
    assert portal.post(path, data=form, follow_redirects=False).status_code == 303
    assert exactly in stored_results()


def test_decomposed_text_from_the_browser_is_stored_as_nfc(portal):  # noqa: F811
    path = path_of()
    group = agency_task_groups(AGENCY)[0]
    assert NFD != unicodedata.normalize("NFC", NFD)
    form = valid_form(csrf(portal, path), **{f"results__{group}": NFD})
    assert portal.post(path, data=form, follow_redirects=False).status_code == 303
    assert unicodedata.normalize("NFC", NFD) in stored_results()
    assert all(unicodedata.is_normalized("NFC", text) for text in stored_results())


def test_decomposed_text_from_excel_is_stored_as_nfc(portal):  # noqa: F811
    path = path_of()
    workbook = openpyxl.load_workbook(io.BytesIO(filled_form(portal, path)))
    for row in workbook["Nhiệm vụ"].iter_rows(min_row=1):
        if row[0].value in agency_task_groups(AGENCY):
            row[4].value = NFD
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert upload(portal, path, buffer.getvalue()).status_code == 303
    assert unicodedata.normalize("NFC", NFD) in stored_results()
    assert all(unicodedata.is_normalized("NFC", text) for text in stored_results())
