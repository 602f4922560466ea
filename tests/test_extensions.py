"""More time (issue 16): asked on the web form, decided by a coordinator (CLI here; the Prefect
UI's suspended run in test_extension_flow.py), emailed, and followed by the reminders, the late
flag and the consolidation. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from sqlalchemy import select

from cli import main as cli
from mail.delivery import deliver_configured
from models.cycles import cycle_requests, get_cycle, get_request
from models.database import session_scope
from models.orm import AuditEvent, DeadlineExtension, ExtensionStatus
from portal.dependencies import current_time
from reporting.calendar import Action
from reporting.consolidation import consolidate
from reporting.extensions import ask_for_more_time, decide_extension
from reporting.reminders import queue_reminders
from tests.factories import PROGRAMME, at, outbox, submit
from tests.test_portal import AGENCY, csrf, path_of, portal  # noqa: F401 - the fixture

DEADLINE = dt.date(2026, 12, 4)  # 05/12/2026 is a Saturday: the previous working day
ASKED_ON = at(dt.date(2026, 11, 30), 9)


@pytest.fixture
def clock(portal):  # noqa: F811
    """The portal's clock on 30/11/2026 (the days it checks against do not move with the CI's)."""
    portal.app.dependency_overrides[current_time] = lambda: ASKED_ON
    yield ASKED_ON
    portal.app.dependency_overrides.pop(current_time)


def extensions(agency: str = AGENCY) -> list[DeadlineExtension]:
    with session_scope() as session:
        request = get_request(PROGRAMME, 2026, agency, session=session)
        found = list(request.extensions)
        session.expunge_all()
        return found


def ask(client, until: str, reason: str, agency: str = AGENCY, token: str | None = None):
    path = path_of(agency)
    return client.post(
        f"{path}/gia-han",
        data={"csrf_token": token or csrf(client, path), "until": until, "reason": reason},
        follow_redirects=False,
    )


def test_an_agency_asks_for_more_time_on_its_form(portal, clock):  # noqa: F811
    path = path_of()
    page = portal.get(path)
    assert "Đề nghị gia hạn" in page.text and "chậm nhất đến ngày 14/12/2026" in page.text
    assert 'max="2026-12-14"' in page.text  # 04/12 + extension_max_days (10)

    reason = unicodedata.normalize("NFD", "  Chờ số liệu thống kê của Cục Thống kê.  ")
    response = ask(portal, "2026-12-10", reason)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?gia-han=da-gui#gia-han")
    shown = portal.get(response.headers["location"])
    assert "Đã gửi đề nghị gia hạn" in shown.text
    assert "Đề nghị gia hạn đến ngày 10/12/2026" in shown.text and "đang chờ" in shown.text
    (stored,) = extensions()
    assert stored.status == ExtensionStatus.PENDING
    assert stored.requested_until == dt.date(2026, 12, 10)
    assert stored.reason == "Chờ số liệu thống kê của Cục Thống kê."  # NFC, trimmed
    assert unicodedata.is_normalized("NFC", stored.reason)

    # A second request replaces the pending one: one pending per agency and cycle.
    assert ask(portal, "12/12/2026", "Cần thêm thời gian tổng hợp.").status_code == 303
    first, second = extensions()
    assert (first.status, second.status) == (ExtensionStatus.REPLACED, ExtensionStatus.PENDING)
    assert second.requested_until == dt.date(2026, 12, 12)


@pytest.mark.parametrize(
    "until, reason, field, message",
    [
        ("2026-12-15", "Lý do.", "until", "Ngày đề nghị gia hạn: chậm nhất ngày 14/12/2026"),
        ("2026-12-04", "Lý do.", "until", "phải sau hạn hiện nay của Quý cơ quan (04/12/2026)"),
        ("", "Lý do.", "until", "Ngày đề nghị gia hạn: vui lòng chọn ngày"),
        ("10.12", "Lý do.", "until", "không đúng định dạng ngày"),
        ("2026-12-10", "   ", "reason", "Lý do đề nghị gia hạn: vui lòng nêu lý do"),
        ("2026-12-10", "x" * 1001, "reason", "Lý do đề nghị gia hạn: tối đa 1000 ký tự"),
    ],
)
def test_a_request_out_of_limits_is_refused_naming_the_field(
    portal, clock, until, reason, field, message  # noqa: F811
):
    page = ask(portal, until, reason)
    assert page.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', page.text)
    assert "Đề nghị gia hạn chưa được gửi" in page.text
    assert f'value="{until}"' in page.text  # what was typed stays on the page
    assert extensions() == []


def test_a_forged_request_is_refused(portal, clock):  # noqa: F811
    page = ask(portal, "2026-12-10", "Lý do.", token="forged")
    assert page.status_code == 403 and "Phiên làm việc" in page.text
    assert extensions() == []


def test_after_a_refusal_the_form_takes_no_new_request(portal, clock, configure):  # noqa: F811
    assert ask(portal, "2026-12-10", "Chờ số liệu.").status_code == 303
    assert cli.main(["extend", "--year", "2026", "--agency", AGENCY, "--refuse",
                     "--note", "Đề nghị gửi số liệu ước tính."]) == 0
    page = portal.get(path_of())
    assert "đã không được chấp thuận" in page.text and 'name="until"' not in page.text
    refused = ask(portal, "2026-12-11", "Lại xin thêm.")
    assert refused.status_code == 409 and "đã không được chấp thuận" in refused.text
    assert [e.status for e in extensions()] == [ExtensionStatus.REFUSED]
    (message,) = outbox("extension")
    assert "Không chấp thuận gia hạn báo cáo năm 2026" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Đề nghị gửi số liệu ước tính." in text
    assert "vẫn là ngày Thứ Sáu, ngày 04/12/2026" in text


def test_the_cli_lists_and_grants_and_the_agency_is_emailed_once(
    portal, clock, capsys  # noqa: F811
):
    assert ask(portal, "2026-12-11", "Chờ số liệu thống kê.").status_code == 303
    assert ask(portal, "2026-12-09", "Thiếu cán bộ.", agency="so-y-te").status_code == 303
    capsys.readouterr()
    assert cli.main(["extensions", "--year", "2026"]) == 0
    listed = capsys.readouterr().out
    assert "so-xay-dung" in listed and "11/12/2026" in listed and "Chờ số liệu thống kê." in listed
    assert "so-y-te" in listed and listed.count("pending") == 2

    # A shorter date than asked, with a note; the email says both.
    assert cli.main(["extend", "--year", "2026", "--agency", AGENCY, "--until", "2026-12-08",
                     "--note", "Gia hạn đến 08/12 để kịp tổng hợp."]) == 0
    with pytest.raises(SystemExit):  # a date after the one asked is not granted
        cli.main(["extend", "--year", "2026", "--agency", "so-y-te", "--until", "2026-13-01"])
    assert cli.main(["extend", "--year", "2026", "--agency", "so-y-te",
                     "--until", "2026-12-20"]) == 2
    (message,) = outbox("extension")
    assert "Đồng ý gia hạn báo cáo năm 2026 đến ngày 08/12/2026" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "chậm nhất ngày Thứ Ba, ngày 08/12/2026 (ngắn hơn ngày đề nghị)" in text
    assert "Chờ số liệu thống kê." in text and "Gia hạn đến 08/12 để kịp tổng hợp." in text
    assert "/bao-cao/" in text

    # Decided once: another decision on it is refused, and nothing is emailed twice.
    assert cli.main(["extend", "--year", "2026", "--agency", AGENCY, "--refuse"]) == 2
    with session_scope() as session:
        deliver_configured(get_cycle(PROGRAMME, 2026, session=session).id, now=ASKED_ON)
    assert len(outbox("extension")) == 1
    page = portal.get(path_of())
    assert "Hạn gửi: Thứ Ba, ngày 08/12/2026 (đã gia hạn)" in page.text
    with session_scope() as session:
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("extension.%"))
        ).all()
    assert sorted(events) == ["extension.granted", "extension.requested", "extension.requested"]


def grant(agency: str, until: dt.date, asked_on: dt.date = dt.date(2026, 12, 1)) -> None:
    with session_scope() as session:
        request = get_request(PROGRAMME, 2026, agency, session=session)
        extension = ask_for_more_time(
            request, until.isoformat(), "Chờ số liệu.", session=session,
            requested_by="test", now=at(asked_on, 9),
        )
        from config.settings import get_settings

        decide_extension(
            extension, grant=True, session=session, settings=get_settings(), actor="test",
            now=at(asked_on, 15),
        )


def remind(day: dt.date):
    from config.settings import get_settings

    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        run = queue_reminders(cycle, day, session=session, settings=get_settings(), now=at(day, 8))
        cycle_id = cycle.id
    deliver_configured(cycle_id, now=at(day, 8))  # each day's, before a later rung replaces it
    return run


def test_reminders_follow_the_agency_own_date(portal):  # noqa: F811
    extended, other = AGENCY, "so-y-te"
    grant(extended, dt.date(2026, 12, 11))
    # Granted on 01/12. 03/12 is D-1 of the cycle and D-8 of the granted 11/12: its own
    # ladder's rung due that day is D-14 (27/11), whose day had come by the grant: nothing.
    run = remind(dt.date(2026, 12, 3))
    assert run.rung == -1 and other in run.queued
    assert extended not in run.queued and run.own_dates == {}
    run = remind(dt.date(2026, 12, 5))  # cycle D+1 (late!), own D-6 -> its D-7 rung
    assert other in run.queued and run.own_dates[extended] == "D-7 theo hạn gia hạn 11/12/2026"
    run = remind(dt.date(2026, 12, 6))
    assert extended in run.already_reminded  # the same rung of its own date never twice
    run = remind(dt.date(2026, 12, 12))  # own D+1: late against its own date, head copied
    assert run.own_dates[extended] == "D+1 theo hạn gia hạn 11/12/2026"
    mine = [
        m for m in outbox("reminder")
        if "Kính gửi: Sở Xây dựng" in m.get_body(("plain",)).get_content()
    ]
    subjects = [m["Subject"] for m in mine]
    assert any("còn 6 ngày (hạn 11/12/2026)" in s for s in subjects), subjects
    assert any("QUÁ HẠN 1 ngày" in s for s in subjects), subjects
    assert not any("hạn 04/12/2026" in s and "QUÁ HẠN" in s for s in subjects)


def test_a_report_received_by_the_granted_date_is_on_time(portal):  # noqa: F811
    # Late against the cycle when it arrives (the grant comes after), then on time by its date.
    submit(2026, [AGENCY], dt.date(2026, 12, 7))
    grant(AGENCY, dt.date(2026, 12, 8), asked_on=dt.date(2026, 12, 7))
    grant("so-y-te", dt.date(2026, 12, 10))
    submit(2026, ["so-y-te"], dt.date(2026, 12, 10))  # on its granted day
    grant("so-tai-chinh", dt.date(2026, 12, 9))
    submit(2026, ["so-tai-chinh"], dt.date(2026, 12, 11))  # after it: late
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        data = consolidate(cycle, session=session, as_of=at(dt.date(2026, 12, 12), 17))
        flags = {r.agency.code: r.submissions[-1].is_late
                 for r in cycle_requests(cycle, session=session) if r.submissions}
    assert flags == {AGENCY: False, "so-y-te": False, "so-tai-chinh": True}
    assert (data.on_time, data.late) == (2, 1)
    rows = {e.agency: e for e in data.extensions}
    assert set(rows) == {"Sở Xây dựng", "Sở Y tế", "Sở Tài chính"}
    assert rows["Sở Y tế"].until == "10/12/2026" and rows["Sở Y tế"].reason == "Chờ số liệu."
    assert rows["Sở Tài chính"].status == "late"
    assert data.as_data()["extensions"][0]["until"]


def test_the_calendar_starts_a_reminder_run_on_the_days_of_granted_ladders():
    from config.registry_files import load_programme
    from flows.cycle_calendar import idempotency_key, run_name
    from reporting.calendar import DueAction, ProgrammeDates, due_actions, own_ladder_due

    dates = ProgrammeDates.of_config(load_programme(PROGRAMME).programme)
    granted = [dt.date(2026, 12, 11)]
    for day, expected in [
        (dt.date(2026, 12, 8), True),  # D-3 of 11/12, no rung of the cycle's that day
        (dt.date(2026, 12, 7), False),  # D-4 of 11/12: no rung of either
        (dt.date(2026, 12, 12), True),  # D+1 of 11/12, after the cycle's last rung (D+7)
        (dt.date(2026, 12, 11), False),  # the cycle's own D+7 run reminds everyone that day
    ]:
        own = own_ladder_due(dates, 2026, granted, day, due_actions(dates, day))
        assert (own is not None) is expected, day
    own = own_ladder_due(dates, 2026, granted, dt.date(2026, 12, 8), [])
    assert own == DueAction(Action.REMIND, PROGRAMME, 2026, dt.date(2026, 12, 8))
    assert idempotency_key(own) == "cycle-calendar:vinh-long-r42:2026:remind:2026-12-08"
    assert run_name(own) == "vinh-long-r42-2026: nhắc hạn (gia hạn)"


def test_after_a_grant_the_agency_may_ask_once_more_for_a_later_date(portal, clock):  # noqa: F811
    grant(AGENCY, dt.date(2026, 12, 8), asked_on=dt.date(2026, 11, 30))
    page = portal.get(path_of())
    assert "được gia hạn gửi báo cáo đến hết ngày Thứ Ba, ngày 08/12/2026" in page.text
    assert 'min="2026-12-08"' in page.text and 'max="2026-12-14"' in page.text
    refused = ask(portal, "2026-12-08", "Thêm thời gian.")
    assert refused.status_code == 422
    assert "phải sau hạn hiện nay của Quý cơ quan (08/12/2026)" in refused.text
    assert ask(portal, "2026-12-14", "Thêm thời gian.").status_code == 303
    assert [e.status for e in extensions()] == [ExtensionStatus.GRANTED, ExtensionStatus.PENDING]
    # At the limit once granted: the form says so and takes no more.
    with session_scope() as session:
        from config.settings import get_settings

        request = get_request(PROGRAMME, 2026, AGENCY, session=session)
        decide_extension(request.extensions[-1], grant=True, session=session,
                         settings=get_settings(), actor="test", now=ASKED_ON)
    page = portal.get(path_of())
    assert "hạn tối đa" in page.text and 'name="until"' not in page.text


def test_the_consolidation_artifact_lists_the_extensions():
    from documents.report_data import ExtensionRow
    from flows.artifact_tables import extensions_table

    rows = extensions_table([
        ExtensionRow("Sở Y tế", "10/12/2026", "12/12/2026", "Chờ số liệu.", "", "on_time")
    ])
    assert rows == [{
        "Cơ quan": "Sở Y tế", "Tình trạng": "Đúng hạn", "Gia hạn đến": "10/12/2026",
        "Đề nghị đến ngày": "12/12/2026", "Lý do": "Chờ số liệu.", "Ghi chú": "",
    }]
