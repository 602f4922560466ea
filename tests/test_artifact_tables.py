"""The table artifacts coordinators read: Vietnamese headers, the status in the second column,
as the real flows publish them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from prefect.artifacts import Artifact

from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from reporting.plausibility import stored_flag_columns
from tests.factories import PROGRAMME, agency_codes, at, submit

pytestmark = pytest.mark.usefixtures("prefect_harness", "db")


def table(key: str) -> list[dict]:
    found = Artifact.get(key)
    assert found is not None, key
    return json.loads(found.data) if isinstance(found.data, str) else found.data


def test_cycle_tables_have_vietnamese_headers_and_the_status_second(smtp, smtp_settings):
    open_cycle_flow(year=2026, opened_on=dt.date(2026, 11, 2), as_of=at(dt.date(2026, 11, 2), 8))
    submit(2026, agency_codes(2026)[:2], dt.date(2026, 11, 20))
    warn_as_an_import_would()
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))

    asked = table(f"requests-table-{PROGRAMME}-2026")
    assert list(asked[0])[:2] == ["Cơ quan", "Tình trạng"]
    assert {row["Tình trạng"] for row in asked} == {"Đã xếp gửi"}
    agencies = table(f"agencies-{PROGRAMME}-2026")
    assert list(agencies[0]) == ["Cơ quan", "Tình trạng", "Ngày gửi", "Số lần gửi"]
    assert sum(1 for row in agencies if row["Số lần gửi"]) == 2
    indicators = table(f"indicators-{PROGRAMME}-2026")
    assert list(indicators[0])[:2] == ["Chỉ tiêu", "Đánh giá"]
    assert indicators[0]["Chỉ tiêu"].startswith("1. ")
    flagged = table(f"flagged-values-{PROGRAMME}-2026")
    assert list(flagged[0]) == ["Cơ quan", "Xử lý", "Chỉ tiêu", "Giá trị", "Lý do"]
    fertility = next(row for row in flagged if row["Chỉ tiêu"].startswith("16. "))
    assert fertility["Cơ quan"] == "Sở Y tế" and fertility["Giá trị"] == "50,5 con/phụ nữ"
    assert fertility["Lý do"] == "50,5 con/phụ nữ nằm ngoài khoảng hợp lý 0,5 - 8 con/phụ nữ."
    assert fertility["Xử lý"] == "Nhận kèm cảnh báo (nhập từ tệp Excel)"


def warn_as_an_import_would() -> None:
    """The flags of every stored revision, stored as an Excel import stores them."""
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        for request in cycle_requests(cycle, session=session):
            for submission in request.submissions:
                values = {v.indicator.code: v.value for v in submission.values}
                columns = stored_flag_columns(request, values, session=session, confirmed=False)
                for item in submission.values:
                    item.flags = columns[item.indicator.code]["flags"]
                    item.flags_confirmed = columns[item.indicator.code]["flags_confirmed"]
