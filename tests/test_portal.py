"""The agencies' web form over HTTP: every path, each refusal included, on both databases."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from config.settings import get_settings
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from models.orm import AuditEvent, Submission
from portal.app import create_app
from reporting import coordination
from reporting.links import LinkClaims, make_token, read_token
from reporting.messages import link_for
from tests.factories import PROGRAMME, agency_task_groups, outbox

AGENCY = "so-xay-dung"  # 5 indicators (percent, count, rate) and several task groups


@pytest.fixture
def portal(db, configure, tmp_path):
    configure(R42_WEB_FORM__PUBLIC_BASE_URL="http://testserver", R42_WEB_FORM__LINK_VALID_DAYS=3650)
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def path_of(agency: str = AGENCY, year: int = 2026) -> str:
    with session_scope() as session:
        from models.cycles import cycle_requests, get_cycle

        cycle = get_cycle(PROGRAMME, year, session=session)
        request = next(r for r in cycle_requests(cycle, session=session) if r.agency.code == agency)
        return link_for(request, get_settings())[0].removeprefix("http://testserver")


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def valid_form(token: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "action": "submit",
        "value__social_housing": "1.250",
        "value__temporary_houses": "12",
        "value__floor_area": "28,4",
        "value__urban_clean_water": "99.5",
        "value__wastewater_treated": "10,5",
    }
    for group in agency_task_groups(AGENCY):
        form[f"status__{group}"] = "done"
        form[f"results__{group}"] = "Đã hoàn thành kế hoạch năm."
    form.update(overrides)
    return form


def submissions() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Submission))


def test_the_link_opens_the_agency_form(portal):
    page = portal.get(path_of())
    assert page.status_code == 200
    assert "Sở Xây dựng" in page.text and "Thứ Sáu, ngày 04/12/2026" in page.text
    assert "Diện tích nhà ở bình quân đầu người" in page.text and "Tối thiểu 30" in page.text
    assert "Năm 2025: Chưa có" in page.text or "Năm 2025:" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers  # the CSRF token is bound to the link, not a cookie


def test_a_valid_submission_is_stored_acknowledged_and_receipted(portal):
    path = path_of()
    response = portal.post(path, data=valid_form(csrf(portal, path)), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{path}/bien-nhan/1"
    receipt = portal.get(response.headers["location"])
    assert receipt.status_code == 200 and "Đã nhận báo cáo" in receipt.text
    assert "99,5%" in receipt.text and "1.250 căn" in receipt.text
    (message,) = outbox("receipt")
    assert "lần gửi thứ 1" in message["Subject"]
    assert submissions() == 1
    again = portal.post(
        path, data=valid_form(csrf(portal, path), value__floor_area="29"), follow_redirects=False
    )
    assert again.headers["location"].endswith("/bien-nhan/2")
    assert submissions() == 2 and len(outbox("receipt")) == 2


def test_each_receipt_page_shows_its_own_revision_of_its_own_request(portal):
    path = path_of()
    portal.post(path, data=valid_form(csrf(portal, path)))
    portal.post(path, data=valid_form(csrf(portal, path), value__floor_area="29"))
    first, second = portal.get(f"{path}/bien-nhan/1"), portal.get(f"{path}/bien-nhan/2")
    assert "28,4 m² sàn/người" in first.text and "29 m² sàn/người" not in first.text
    assert "29 m² sàn/người" in second.text and "lần gửi thứ 2" in second.text
    other = path_of("so-y-te")  # no revision of its own: another agency's revision 1 is not its
    assert portal.get(f"{other}/bien-nhan/1").status_code == 404
    for made_up in (0, -1, 10**30):  # no such revision, whatever the database's integers hold
        assert portal.get(f"{path}/bien-nhan/{made_up}").status_code == 404


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("value__urban_clean_water", "100,5", "0-100"),
        ("value__temporary_houses", "-1", "số âm"),
        ("value__floor_area", "abc", "Phải là một số"),
        ("value__social_housing", "", "Chưa nhập"),
    ],
)
def test_errors_are_shown_next_to_the_field_and_nothing_is_stored(portal, field, value, message):
    path = path_of()
    form = valid_form(
        csrf(portal, path),
        **{field: value, "value__floor_area": "28,4x" if field != "value__floor_area" else value},
    )
    page = portal.post(path, data=form)
    assert page.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{message}', page.text)
    assert 'value="28,4x"' in page.text or field == "value__floor_area"  # input kept as typed
    assert submissions() == 0 and outbox("receipt") == []


def test_a_draft_is_kept_without_submitting(portal):
    path = path_of()
    form = valid_form(csrf(portal, path), action="save", value__floor_area="27,9 (ước)")
    page = portal.post(path, data=form)
    assert page.status_code == 200 and "Đã lưu bản nháp" in page.text
    assert submissions() == 0
    assert 'value="27,9 (ước)"' in portal.get(path).text


def test_forged_requests_without_the_csrf_token_are_refused(portal):
    path = path_of()
    csrf(portal, path)
    other = csrf(portal, path_of("so-y-te"))  # another agency's form, open in the same browser
    for token in ["", "forged", other]:
        page = portal.post(path, data=valid_form(token, value__floor_area="28,7"))
        assert page.status_code == 403 and "Phiên làm việc" in page.text
        assert 'value="28,7"' in page.text  # what was typed stays on the page
    cross_site = portal.post(
        path, data=valid_form(csrf(portal, path)), headers={"sec-fetch-site": "cross-site"}
    )
    assert cross_site.status_code == 403
    assert submissions() == 0


def refused(portal, path: str, status: int, title: str) -> None:
    page = portal.get(path)
    assert page.status_code == status and title in page.text
    assert "Traceback" not in page.text


def test_tampered_expired_unknown_and_revoked_links_are_refused_and_logged(portal):
    path = path_of()
    token = path.rsplit("/", 1)[1]
    refused(portal, path[:-3] + "abc", 403, "Đường dẫn không hợp lệ")
    refused(portal, "/bao-cao/" + token.replace(".", "x"), 403, "Đường dẫn không hợp lệ")
    secret = get_settings().web_form.link_secret.get_secret_value()
    expired = make_token(LinkClaims(1, 1, dt.date(2026, 1, 1)), secret)
    refused(portal, f"/bao-cao/{expired}", 410, "hết hạn")
    unknown = make_token(LinkClaims(999_999, 1, dt.date(2030, 1, 1)), secret)
    refused(portal, f"/bao-cao/{unknown}", 404, "Đường dẫn không hợp lệ")
    with session_scope() as session:
        from models.orm import Request

        claims = read_token(token, secret, today=dt.date(2026, 12, 1))
        request = session.get(Request, claims.request_id)
        coordination.reissue_link(
            request,
            session=session,
            settings=get_settings(),
            actor="t",
            now=dt.datetime.now(dt.UTC),
        )
    refused(portal, path, 410, "đã được thay thế")
    assert portal.get(path_of()).status_code == 200  # the new link works
    portal.app.state.refusals.flush_all()  # counts are written every few seconds and at exit
    with session_scope() as session:
        logged = session.scalars(select(AuditEvent).where(AuditEvent.action == "link.refused"))
        (event,) = logged  # one client, one minute: one row that counts them all
        assert event.actor == "testclient" and event.detail["count"] == 5
        assert event.detail["statuses"] == {"403": 2, "404": 1, "410": 2}
        assert token not in str(event.detail)  # the path is logged without the link


def test_a_link_revoked_just_after_a_post_refuses_the_next_post(portal):
    """The check before a post's body is read is not repeated for a link found open seconds
    ago (portal.guard.check_link); the post's own transaction still refuses the revoked link
    and stores nothing."""
    path = path_of()
    token = csrf(portal, path)
    first = portal.post(path, data=valid_form(token), follow_redirects=False)
    assert first.status_code == 303 and submissions() == 1
    with session_scope() as session:
        from models.orm import Request

        secret = get_settings().web_form.link_secret.get_secret_value()
        claims = read_token(path.rsplit("/", 1)[1], secret, today=None)
        coordination.reissue_link(
            session.get(Request, claims.request_id),
            session=session,
            settings=get_settings(),
            actor="t",
            now=dt.datetime.now(dt.UTC),
        )
    again = valid_form(token, value__temporary_houses="13")
    refused_post = portal.post(path, data=again, follow_redirects=False)
    assert refused_post.status_code == 410 and "đã được thay thế" in refused_post.text
    assert submissions() == 1


def test_a_locked_cycle_shows_the_form_but_takes_nothing(portal):
    path = path_of()
    token = csrf(portal, path)
    with session_scope() as session:
        from models.cycles import get_cycle
        from models.orm import CycleStatus

        coordination.set_cycle_status(
            get_cycle(PROGRAMME, 2026, session=session),
            CycleStatus.LOCKED,
            session=session,
            actor="t",
            now=dt.datetime.now(dt.UTC),
        )
    assert "đã khóa" in portal.get(path).text
    assert portal.post(path, data=valid_form(token)).status_code == 409
    assert submissions() == 0


def test_a_report_sent_back_is_emailed_and_shown_on_the_form(portal):
    from cli import main as cli

    path = path_of()
    portal.post(path, data=valid_form(csrf(portal, path)))
    reason = "Bổ sung số liệu nhà ở xã hội."
    command = ["send-back", "--year", "2026", "--agency", AGENCY, "--reason", reason]
    assert cli.main(command) == 0
    page = portal.get(path)
    assert "Bổ sung số liệu nhà ở xã hội." in page.text
    assert 'value="1.250"' in page.text  # starts from the returned revision
    (returned,) = outbox("returned")
    body = returned.get_body(("plain",)).get_content()
    assert "Bổ sung số liệu nhà ở xã hội." in body and path in body
    assert portal.get(f"{path}/bien-nhan/9").status_code == 404


def test_a_late_submission_is_taken_and_marked_late(portal):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2025, dt.date(2025, 11, 3), session=session)
        ensure_requests(cycle, session=session)
    path = path_of(year=2025)
    response = portal.post(path, data=valid_form(csrf(portal, path)), follow_redirects=False)
    assert response.status_code == 303
    assert "sau hạn 04/12/2025" in portal.get(response.headers["location"]).text


def test_unknown_pages_and_errors_never_show_a_stack_trace(portal, monkeypatch):
    page = portal.get("/khong-co")
    assert page.status_code == 404 and "Không tìm thấy trang" in page.text
    assert portal.delete(path_of()).status_code == 405

    def broken(*args, **kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr("portal.agency_form.current_fields", broken)
    page = portal.get(path_of())
    assert page.status_code == 500 and "Đã có lỗi xảy ra" in page.text
    assert "exploded" not in page.text and "Traceback" not in page.text


def filled_form(portal, path: str, floor_area: str = "28,4") -> bytes:
    """The agency's Excel form, downloaded from its page and filled in as the agency would."""
    download = portal.get(f"{path}/bieu-mau.xlsx")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "Bieu-mau-bao-cao-2026-so-xay-dung.xlsx" in download.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(download.content))
    values = {
        "social_housing": "1.250",
        "temporary_houses": 12,
        "floor_area": floor_area,
        "urban_clean_water": "99,5",
        "wastewater_treated": 10.5,
    }
    sheet = workbook["Chỉ tiêu"]
    for row in sheet.iter_rows(min_row=1):
        if row[0].value in values:
            row[6].value = values[row[0].value]
    tasks = workbook["Nhiệm vụ"]
    for row in tasks.iter_rows(min_row=1):
        if row[0].value in agency_task_groups(AGENCY):
            row[3].value, row[4].value = "Hoàn thành", "Đã hoàn thành kế hoạch."
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(portal, path: str, content: bytes, token: str | None = None):
    token = token if token is not None else csrf(portal, path)
    return portal.post(
        f"{path}/tai-len",
        data={"csrf_token": token},
        files={"file": ("bao-cao.xlsx", content, "application/octet-stream")},
        follow_redirects=False,
    )


def test_the_excel_form_round_trips_through_the_page(portal):
    path = path_of()
    response = upload(portal, path, filled_form(portal, path))
    assert response.status_code == 303 and response.headers["location"].endswith("/bien-nhan/1")
    assert "99,5%" in portal.get(response.headers["location"]).text
    (receipt,) = outbox("receipt")
    assert "tệp Excel tải lên" in receipt.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "problem, status, fragment",
    [
        ("text-in-number", 422, "Chỉ tiêu!G"),
        ("other-agency", 422, "đơn vị khác"),
        ("not-xlsx", 422, "không phải là tệp Excel"),
        ("empty", 422, "«bao-cao.xlsx» không có nội dung (0 byte)"),
        ("ods", 422, "lưu lại dưới dạng .xlsx (Excel Workbook)"),
        ("damaged", 422, "Tệp bị hỏng, không đọc được. Vui lòng tải lại biểu mẫu"),
        ("no-csrf", 403, "Phiên làm việc"),
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(portal, problem, status, fragment):
    path = path_of()
    content = {
        "text-in-number": lambda: filled_form(portal, path, floor_area="khoảng 28"),
        "other-agency": lambda: other_agency_form(portal),
        "not-xlsx": lambda: b"%PDF-1.4 not a spreadsheet",
        "empty": lambda: b"",
        "ods": ods_file,
        "damaged": lambda: filled_form(portal, path)[:3000],
        "no-csrf": lambda: filled_form(portal, path),
    }[problem]()
    response = upload(portal, path, content, token="forged" if problem == "no-csrf" else None)
    assert response.status_code == status and fragment in response.text
    assert submissions() == 0 and outbox("receipt") == []


def ods_file() -> bytes:
    """A spreadsheet saved as OpenDocument (what LibreOffice writes by default)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def other_agency_form(portal) -> bytes:
    return portal.get(f"{path_of('so-y-te')}/bieu-mau.xlsx").content


def test_an_upload_over_the_size_limit_is_refused_before_reading(portal, configure):
    configure(R42_WEB_FORM__MAX_UPLOAD_BYTES=20_000)
    path = path_of()
    response = upload(portal, path, b"x" * 200_000)
    assert response.status_code == 413 and "Tệp quá lớn" in response.text
    assert submissions() == 0


def test_ops_import_a_form_from_the_command_line(portal, tmp_path, capsys):
    from cli import main as cli

    file = tmp_path / "so-xay-dung.xlsx"
    file.write_bytes(filled_form(portal, path_of()))
    assert cli.main(["import-form", str(file), "--by", "Nguyễn Thị B"]) == 1  # no terminal
    assert "Nothing stored" in capsys.readouterr().out and submissions() == 0
    assert cli.main(["import-form", str(file), "--by", "Nguyễn Thị B", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Agency: Sở Xây dựng (so-xay-dung" in out and "Cycle: vinh-long-r42 2026" in out
    assert "New revision 1" in out and "Stored revision 1 for so-xay-dung" in out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(filled_form(portal, path_of(), floor_area="abc"))
    assert cli.main(["import-form", str(bad), "--yes"]) == 2
    assert "Chỉ tiêu!G" in capsys.readouterr().out
    assert cli.main(["revisions", "--year", "2026", "--agency", AGENCY]) == 0
    listing = capsys.readouterr().out
    assert "r1" in listing and "ops_import" in listing and "Nguyễn Thị B" in listing
    assert submissions() == 1


def test_refusal_pages_name_the_standing_agency_with_its_email(portal):
    from models.cycles import get_cycle
    from models.registry_cache import standing_agency

    with session_scope() as session:
        standing = standing_agency(get_cycle(PROGRAMME, 2026, session=session))
        contact = f"Cơ quan thường trực: {standing.name} ({standing.email})."
    secret = get_settings().web_form.link_secret.get_secret_value()
    expired = make_token(LinkClaims(1, 1, dt.date(2026, 1, 1)), secret)
    for path, status in (("/bao-cao/made.up", 403), (f"/bao-cao/{expired}", 410)):
        page = portal.get(path)
        assert page.status_code == status and contact in page.text


def test_ops_import_says_what_changed_and_asks_first(portal, tmp_path, capsys, monkeypatch):
    from cli import main as cli

    first, second = tmp_path / "r1.xlsx", tmp_path / "r2.xlsx"
    first.write_bytes(filled_form(portal, path_of()))
    second.write_bytes(filled_form(portal, path_of(), floor_area="31,5"))
    assert cli.main(["import-form", str(first), "--yes"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")  # the person says no
    assert cli.main(["import-form", str(second)]) == 1 and submissions() == 1
    out = capsys.readouterr().out
    assert "New revision 2" in out and "floor_area: 28,4 m² sàn/người -> 31,5 m² sàn/người" in out
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert cli.main(["import-form", str(second)]) == 0 and submissions() == 2
