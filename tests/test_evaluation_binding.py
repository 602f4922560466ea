"""The review rounds' intake has the yearly one's protections: the same evaluation sent twice is
one revision and one receipt, and the Excel form is bound to its request (its signed token and
the agency name it shows), on the upload page and on `r42 import-evaluation-form`."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli import main as cli
from config.settings import get_settings
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from models.orm import CycleKind, Submission
from reporting.messages import link_for
from tests.factories import PROGRAMME, outbox
from tests.test_evaluation_portal import portal  # noqa: F401 - the 2025 mid-term round open

COMMUNE, OTHER = "ubnd-xa-tra-on", "ubnd-xa-long-ho"  # the same rows: only the binding tells


def path(agency: str = COMMUNE) -> str:
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == agency)
        return link_for(request, get_settings())[0].removeprefix("http://testserver")


def revisions() -> list[tuple[str, int]]:
    with session_scope() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id))
        return [(s.request.agency.code, s.revision) for s in rows]


def csrf_of(client: TestClient, agency: str = COMMUNE) -> str:
    page = client.get(path(agency))
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def web_form(client: TestClient, lessons: str = "Sâu sát cơ sở.") -> dict[str, str]:
    """Every field of the commune's evaluation form (task groups and narrative), filled in."""
    page = client.get(path()).text
    form = {"csrf_token": csrf_of(client), "action": "submit"}
    for name in re.findall(r'name="(status__[^"]+)"', page):
        form[name] = "done"
        form[name.replace("status__", "results__")] = "Đã hoàn thành."
    return form | {"results": "Cơ bản hoàn thành.", "lessons": lessons}


def workbook(client: TestClient, agency: str = COMMUNE) -> openpyxl.Workbook:
    """The agency's evaluation form as downloaded, filled in."""
    book = openpyxl.load_workbook(io.BytesIO(client.get(path(agency) + "/bieu-mau.xlsx").content))
    values = book["Chỉ tiêu theo năm"]
    year_column = [c.value for c in values[3]].index("2025") + 1
    for row in values.iter_rows(min_row=4):
        if row[0].value:
            values.cell(row[0].row, year_column, "12")
    for row in book["Nhiệm vụ"].iter_rows(min_row=4):
        if row[0].value:
            row[3].value, row[4].value = "Hoàn thành", "Xong."
    book["Đánh giá chung"]["B4"], book["Đánh giá chung"]["B6"] = "Đạt.", "Bài học."
    return book


def save(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, content: bytes, agency: str = COMMUNE):  # noqa: ANN201
    return client.post(
        path(agency) + "/tai-len",
        data={"csrf_token": csrf_of(client, agency)},
        files={"file": ("so-ket.xlsx", content)},
        follow_redirects=False,
    )


def test_the_same_evaluation_twice_is_one_revision_and_one_receipt(portal):  # noqa: F811
    form = web_form(portal)
    first = portal.post(path(), data=form, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("/bien-nhan/1")
    again = portal.post(path(), data=form, follow_redirects=False)
    assert again.headers["location"].endswith("/bien-nhan/1?khong-doi=1")
    page = portal.get(again.headers["location"]).text
    assert "giống hệt báo cáo lần thứ 1" in page and "không tạo phiên bản mới" in page
    assert revisions() == [(COMMUNE, 1)] and len(outbox("receipt")) == 1

    changed = portal.post(path(), data=web_form(portal, "Bài học khác."), follow_redirects=False)
    assert changed.headers["location"].endswith("/bien-nhan/2")
    assert len(revisions()) == 2 and len(outbox("receipt")) == 2

    content = save(workbook(portal))  # the same workbook uploaded twice: one revision
    assert upload(portal, content).headers["location"].endswith("/bien-nhan/3")
    assert upload(portal, content).headers["location"].endswith("/bien-nhan/3?khong-doi=1")
    assert len(revisions()) == 3 and len(outbox("receipt")) == 3


def test_a_form_relabelled_or_naming_another_agency_is_refused(portal, tmp_path):  # noqa: F811
    forged = workbook(portal)
    for row in forged["_meta"].iter_rows():
        if row[0].value == "agency":
            row[1].value = OTHER  # every row is the same: only the signature tells
    refused = upload(portal, save(forged), OTHER)  # on the other commune's page
    assert refused.status_code == 422 and "không khớp với chữ ký" in refused.text
    forged_file = tmp_path / "forged.xlsx"
    forged_file.write_bytes(save(forged))
    assert cli.main(["import-evaluation-form", str(forged_file)]) != 0  # ops: the file alone

    renamed = workbook(portal)
    renamed["Chỉ tiêu theo năm"]["B2"] = "Ủy ban nhân dân xã Long Hồ"
    refused = upload(portal, save(renamed))
    assert refused.status_code == 422
    assert "Tên đơn vị trên biểu mẫu «Ủy ban nhân dân xã Long Hồ» không khớp" in refused.text
    assert revisions() == [] and outbox("receipt") == []

    good = tmp_path / "so-ket.xlsx"
    good.write_bytes(save(workbook(portal)))
    assert cli.main(["import-evaluation-form", str(good)]) == 0
    assert revisions() == [(COMMUNE, 1)]


def test_an_unsigned_form_is_taken_only_on_its_agency_s_page(portal, tmp_path):  # noqa: F811
    book = workbook(portal)
    del book["_ky"]  # as forms were before they were signed, the deadline beside the name
    for sheet in ("Chỉ tiêu theo năm", "Nhiệm vụ"):
        book[sheet]["B2"] = f"{book[sheet]['B2'].value}; hạn gửi 15/10/2036"
    unsigned = tmp_path / "unsigned.xlsx"
    unsigned.write_bytes(save(book))
    assert cli.main(["import-evaluation-form", str(unsigned)]) != 0
    assert revisions() == []
    accepted = upload(portal, unsigned.read_bytes())  # the link says whose it is
    assert accepted.status_code == 303 and revisions() == [(COMMUNE, 1)]
    book["Đánh giá chung"]["B6"] = "Bài học khác."
    unsigned.write_bytes(save(book))
    assert cli.main(["import-evaluation-form", str(unsigned), "--agency", OTHER]) != 0
    assert cli.main(["import-evaluation-form", str(unsigned), "--agency", COMMUNE]) == 0
    assert revisions() == [(COMMUNE, 1), (COMMUNE, 2)]
