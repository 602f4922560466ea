"""The evaluation form behind the personal link: shown, refused by field, submitted, uploaded."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from models.cycles import cycle_requests, ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.observations import Observed, record_observations
from models.orm import CycleKind, EvaluationValue, Submission
from models.registry_store import get_programme
from portal.app import create_app
from reporting.messages import link_for
from tests.factories import PROGRAMME, outbox

AGENCY = "so-noi-vu"  # merit_care, unemployment, unemployment_urban; five task groups
GROUPS = ["communication", "state_management", "merit", "labour_market", "social_security"]


@pytest.fixture
def portal(db, configure):
    configure(R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver", R42_WEB_FORM__LINK_VALID_DAYS=3650)
    with session_scope() as session:
        programme = get_programme(PROGRAMME, session=session)
        record_observations(
            programme, 2024, {"unemployment": Observed(Decimal("2.45"), None)},
            session=session, source="import",
        )  # fmt: skip
        cycle, _ = open_cycle(
            PROGRAMME, 2025, dt.date(2025, 9, 15), session=session, kind=CycleKind.MIDTERM,
            deadline=dt.date(2036, 10, 15),
        )  # fmt: skip
        ensure_requests(cycle, session=session)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def path() -> str:
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == AGENCY)
        return link_for(request, get_settings())[0].removeprefix("http://testserver")


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def submissions() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Submission))


def test_the_evaluation_form_from_link_to_receipt(portal):
    page = portal.get(path())
    assert page.status_code == 200
    assert "Báo cáo sơ kết giai đoạn 2024-2025" in page.text
    assert re.search(r'name="value__unemployment__2024" value="2,45"', page.text)
    assert 'name="lessons"' in page.text and "Bài học kinh nghiệm" in page.text
    form = {"csrf_token": csrf_of(page), "action": "submit", "value__unemployment__2024": "2,45"}
    form |= {"value__merit_care__2025": "99,5", "value__unemployment__2025": "2,x"}
    form |= {"value__unemployment_urban__2025": "3,8", "results": "Cơ bản hoàn thành."}
    for group in GROUPS:
        form[f"status__{group}"] = "ongoing"
        form[f"results__{group}"] = "Thực hiện đúng kế hoạch."
    refused = portal.post(path(), data=form)
    assert refused.status_code == 422 and submissions() == 0
    assert re.search(r'id="value__unemployment__2025-error">Phải là một số', refused.text)
    assert 'id="lessons-error">Nêu bài học kinh nghiệm rút ra.' in refused.text
    assert 'value="2,x"' in refused.text  # the input stays on the page

    form |= {"value__unemployment__2025": "2,4", "lessons": "Sâu sát cơ sở."}
    done = portal.post(path(), data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/bien-nhan/1")
    shown = portal.get(done.headers["location"])
    assert shown.status_code == 200 and "đã nhận báo cáo sơ kết giai đoạn 2024-2025" in shown.text
    with session_scope() as session:
        earlier = session.scalars(select(EvaluationValue)).all()
        assert [(v.indicator.code, v.year, v.value) for v in earlier] == [
            ("unemployment", 2024, Decimal("2.45"))
        ]
    (receipt,) = outbox("receipt")
    assert "Đã nhận báo cáo sơ kết giai đoạn 2024-2025" in receipt["Subject"]
    again = portal.get(path())
    assert "Sâu sát cơ sở." in again.text and "đã gửi báo cáo 1 lần" in again.text

    workbook = portal.get(path() + "/bieu-mau.xlsx")
    assert workbook.status_code == 200
    assert "so-ket-2025" in workbook.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(workbook.content))
    ws = wb["Chỉ tiêu theo năm"]
    assert [c.value for c in ws[3]][5:7] == ["2024", "2025"] and ws["F5"].value == "2,45"
    for row in (4, 5, 6):
        ws.cell(row, 7, "3,1" if row != 4 else "99")
    for row in range(4, 9):
        wb["Nhiệm vụ"].cell(row, 4, "Hoàn thành")
        wb["Nhiệm vụ"].cell(row, 5, "Xong.")
    wb["Đánh giá chung"]["B4"], wb["Đánh giá chung"]["B6"] = "Đạt.", "Bài học."
    buffer = io.BytesIO()
    wb.save(buffer)
    uploaded = portal.post(
        path() + "/tai-len",
        data={"csrf_token": csrf_of(again)},
        files={"file": ("so-ket.xlsx", buffer.getvalue())},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303 and uploaded.headers["location"].endswith("/bien-nhan/2")
    assert submissions() == 2
