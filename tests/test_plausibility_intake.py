"""Values that look wrong, through every channel: the web form asks the clerk to confirm how it
read them, an Excel upload or an ops import stores them with a warning, and the receipt (page
and email) lists them; on both databases."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from models.orm import Indicator, IndicatorValue
from tests.factories import PROGRAMME, outbox, submit
from tests.test_portal import (  # noqa: F401 - portal is a fixture
    AGENCY,
    csrf,
    filled_form,
    path_of,
    portal,
    submissions,
    upload,
    valid_form,
)

READING = "1.250,5 = một nghìn hai trăm năm mươi phẩy năm"
RANGE = "1.250,5 m² sàn/người nằm ngoài khoảng hợp lý 5 - 100 m² sàn/người."


def stored_flags(code: str) -> list[tuple[int, list, bool | None]]:
    """(revision, flags, confirmed) of the indicator's stored values."""
    with session_scope() as session:
        rows = session.scalars(
            select(IndicatorValue).join(IndicatorValue.indicator).where(Indicator.code == code)
        ).all()
        return [(v.submission.revision, v.flags, v.flags_confirmed) for v in rows]


def text_of(page) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(page.text)


def test_the_web_form_shows_how_it_read_a_value_and_stores_it_only_once_confirmed(portal):
    path = path_of()
    form = valid_form(csrf(portal, path), value__floor_area="1.250,5")
    page = portal.post(path, data=form, follow_redirects=False)
    assert page.status_code == 200 and submissions() == 0 and outbox("receipt") == []
    text = text_of(page)
    assert "Xác nhận số liệu bất thường" in text and READING in text and RANGE in text
    assert 'value="1.250,5"' in page.text and 'value="99.5"' in page.text  # typed data kept
    assert 'id="value__floor_area-warning"' in page.text
    key = re.search(r'name="xac_nhan" value="([^"]+)"', page.text).group(1)
    assert key == "floor_area=1250.5"

    # The button pressed without ticking the box: asked again, nothing stored.
    again = portal.post(path, data={**form, "xac_nhan_hoi": key}, follow_redirects=False)
    assert again.status_code == 200 and "vui lòng đánh dấu ô xác nhận" in text_of(again)
    assert submissions() == 0
    # A value changed after the confirmation is asked about again.
    changed = {**form, "value__floor_area": "2.000", "xac_nhan": key, "xac_nhan_hoi": key}
    assert "2.000 = hai nghìn" in text_of(portal.post(path, data=changed))
    assert submissions() == 0

    done = portal.post(path, data={**form, "xac_nhan": key}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/bien-nhan/1")
    receipt = text_of(portal.get(done.headers["location"]))
    assert "Quý cơ quan đã xác nhận" in receipt and READING in receipt and RANGE in receipt
    (message,) = outbox("receipt")
    body = message.get_body(("plain",)).get_content()
    assert "Quý cơ quan đã xác nhận khi gửi" in body and READING in body and RANGE in body
    ((revision, flags, confirmed),) = stored_flags("floor_area")
    assert (revision, confirmed) == (1, True)
    assert flags == [{"reason": "range", "message": RANGE}]
    assert stored_flags("social_housing")[0][1:] == ([], None)  # a plausible value: no flag


def test_a_plausible_post_is_stored_at_once(portal):
    path = path_of()
    done = portal.post(path, data=valid_form(csrf(portal, path)), follow_redirects=False)
    assert done.status_code == 303 and submissions() == 1
    assert "bất thường" not in text_of(portal.get(done.headers["location"]))


def test_an_uploaded_form_is_stored_with_the_warning_in_the_reply_and_the_receipt(portal):
    path = path_of()
    response = upload(portal, path, filled_form(portal, path, floor_area="1.250,5"))
    assert response.status_code == 303 and submissions() == 1
    reply = text_of(portal.get(response.headers["location"]))
    assert "đã nhận kèm cảnh báo" in reply and READING in reply and RANGE in reply
    assert "Nếu số liệu chưa đúng, vui lòng sửa và gửi lại báo cáo." in reply
    (message,) = outbox("receipt")
    for part in ("plain", "html"):
        body = html.unescape(message.get_body((part,)).get_content())
        assert READING in body and RANGE in body and "kèm cảnh báo" in body
    ((_, flags, confirmed),) = stored_flags("floor_area")
    assert confirmed is False and flags[0]["reason"] == "range"


@pytest.fixture
def last_year(portal):
    """The agency's 2025 report, through the intake: 12 homes, rates of 50,5."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2025, dt.date(2025, 11, 3), session=session)
        ensure_requests(cycle, session=session)
    submit(2025, [AGENCY], dt.date(2025, 11, 20))
    return portal


def test_ops_import_warns_of_a_jump_from_the_agencys_last_value(last_year, tmp_path, capsys):
    from cli import main as cli

    file = tmp_path / "so-xay-dung.xlsx"
    file.write_bytes(filled_form(last_year, path_of()))  # 1.250 homes after 12; 10,5% after 50,5%
    assert cli.main(["import-form", str(file), "--by", "Nguyễn Thị B", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Warning: 2 value(s) look wrong; stored, listed for the coordinator:" in out
    assert "1.250 = một nghìn hai trăm năm mươi" in out
    assert "1.250 căn gấp 104,2 lần giá trị năm 2025 của đơn vị (12 căn), quá 3 lần." in out
    assert "10,5% chỉ bằng 20,8% giá trị năm 2025 của đơn vị (50,5%), dưới 1/3." in out
    assert "Stored revision 1 for so-xay-dung" in out
    revisions = [r for r, flags, confirmed in stored_flags("social_housing") if flags]
    assert len(revisions) == 1 and stored_flags("floor_area")[-1][1] == []  # 28,4 after 50,5
    (message,) = [m for m in outbox("receipt") if "2026" in m["Subject"]]
    assert "gấp 104,2 lần" in message.get_body(("plain",)).get_content()


def test_the_consolidation_and_the_annex_list_what_was_flagged_and_how(last_year):
    import io

    from openpyxl import load_workbook

    from documents.content_xlsx import content_xlsx
    from documents.stored_report import read_consolidation
    from models.cycles import get_cycle
    from reporting.consolidation import consolidate
    from reporting.yearly_content import build_content
    from tests.factories import at

    path = path_of()
    form = valid_form(csrf(last_year, path), value__floor_area="1.250,5")
    key = re.search(r'name="xac_nhan" value="([^"]+)"', last_year.post(path, data=form).text)
    last_year.post(path, data={**form, "xac_nhan": key.group(1)})  # confirmed on the web
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        data = consolidate(cycle, session=session, as_of=at(dt.date(2026, 12, 5))).as_data()
        registry = cycle.registry_version.document
    by_indicator = {row["indicator"].split(".")[0]: row for row in data["flagged"]}
    floor = by_indicator["29"]
    assert floor["agency"] == "Sở Xây dựng" and floor["value"] == "1.250,5 m² sàn/người"
    assert floor["reasons"].startswith(RANGE)
    assert "gấp 24,8 lần giá trị năm 2025 của đơn vị (50,5 m² sàn/người)" in floor["reasons"]
    assert floor["confirmed"] is True
    assert floor["handling"] == "Đơn vị đã xác nhận trên biểu mẫu trực tuyến"
    content = build_content(read_consolidation(data), registry, annex_reference="Kèm theo")
    workbook = load_workbook(io.BytesIO(content_xlsx(content)))
    sheet = [list(r) for r in workbook["Số liệu cần lưu ý"].iter_rows(min_row=5, values_only=True)]
    assert ["Sở Xây dựng", floor["indicator"], "1.250,5 m² sàn/người"] in [r[:3] for r in sheet]
