"""Every flow under Prefect's test harness, on SQLite and PostgreSQL, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections import Counter

import openpyxl
import pytest
from sqlalchemy import select

from cli import main as cli
from flows.approval import CoordinatorDecision, answer, find_waiting_runs
from flows.consolidate import consolidate_flow
from flows.open_cycle import open_cycle_flow
from flows.send_reminders import send_reminders_flow
from flows.submit_report import submit_report_flow
from models.cycles import get_cycle
from models.database import session_scope
from models.orm import AuditEvent, OutgoingMessage
from reporting.requests import XLSX_TYPE
from tests.factories import PROGRAMME, agency_codes, at, submit

pytestmark = pytest.mark.usefixtures("prefect_harness", "db")
OPENED = dt.date(2026, 11, 2)
DEADLINE = dt.date(2026, 12, 4)  # 05/12/2026 is a Saturday: the previous working day


def open_2026():
    return open_cycle_flow(year=2026, opened_on=OPENED, as_of=at(OPENED, 8))


def recipients(smtp) -> Counter:
    return Counter(addr for received in smtp.received for addr in received.recipients)


def agency_emails() -> dict[str, tuple[str, str]]:
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        return {r.agency.code: (r.agency.email, r.agency.head_email) for r in cycle.requests}


def test_open_cycle_asks_every_active_agency_once(smtp, smtp_settings):
    result = open_2026()
    emails = agency_emails()
    assert result["agencies"] == result["queued"] == len(emails) > 10
    assert result["sent"] == len(emails)
    assert recipients(smtp) == Counter(email for email, _ in emails.values())
    message = smtp.received[0].message
    assert "hạn 04/12/2026" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Kính gửi:" in text and "/bao-cao/" in text
    assert "chậm nhất ngày 04/12/2026 (Thứ Sáu)" in text
    (form,) = message.iter_attachments()
    assert form.get_content_type() == XLSX_TYPE
    assert form.get_filename().startswith("Biểu mẫu báo cáo năm 2026 - ")
    assert "Chỉ tiêu" in openpyxl.load_workbook(io.BytesIO(form.get_content())).sheetnames
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        assert cycle.registry_version.effective_from == dt.date(2025, 7, 1)
        inactive = [a.code for a in cycle.registry_version.agencies if not a.active_on(OPENED)]
    assert not set(inactive) & set(emails)

    again = open_2026()
    assert again["queued"] == 0
    assert len(smtp.received) == len(emails)


def test_reminders_go_only_to_agencies_without_a_report_and_never_twice(smtp, smtp_settings):
    open_2026()
    codes = agency_codes(2026)
    emails = agency_emails()
    reported = codes[:3]
    submit(2026, reported, dt.date(2026, 11, 10))
    smtp.received.clear()

    assert send_reminders_flow(year=2026, on=dt.date(2026, 11, 19))["rung"] is None
    assert smtp.received == []

    first = send_reminders_flow(
        year=2026, on=dt.date(2026, 11, 20), as_of=at(dt.date(2026, 11, 20), 8)
    )
    assert first["rung"] == -14
    assert sorted(first["queued"]) == sorted(set(codes) - set(reported))
    assert recipients(smtp) == Counter(emails[c][0] for c in first["queued"])

    for day in [dt.date(2026, 11, 20), dt.date(2026, 11, 21)]:  # same rung again: nothing new
        again = send_reminders_flow(year=2026, on=day)
        assert again["queued"] == [] and len(again["already_reminded"]) == len(first["queued"])
    assert len(smtp.received) == len(first["queued"])

    late_reporter = first["queued"][0]
    submit(2026, [late_reporter], dt.date(2026, 12, 2))
    smtp.received.clear()
    after = send_reminders_flow(year=2026, on=dt.date(2026, 12, 5))
    assert after["rung"] == 1 and late_reporter not in after["queued"]
    for received in smtp.received:  # escalated: the agency head is copied
        message = received.message
        assert "QUÁ HẠN 1 ngày" in message["Subject"]
        code = next(c for c, (email, _) in emails.items() if email in received.recipients)
        assert emails[code][1] in received.recipients and emails[code][1] in message["Cc"]
    with session_scope() as session:
        keys = Counter((m.recipient_key, m.kind, m.rung) for m in session.query(OutgoingMessage))
    assert max(keys.values()) == 1


def test_consolidation_makes_a_new_draft_only_when_reports_change(smtp, smtp_settings):
    open_2026()
    codes = agency_codes(2026)
    submit(2026, codes[:4], dt.date(2026, 11, 20))
    submit(2026, codes[4:6], dt.date(2026, 12, 7))
    first = consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    assert first == {"revision": 1, "created": True, "status": "draft"}
    assert consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 6), 17))["created"] is False

    submit(2026, codes[6:7], dt.date(2026, 12, 8))
    second = consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 8), 17))
    assert second["revision"] == 2
    with session_scope() as session:
        from models.reports import latest_report

        report = latest_report(get_cycle(PROGRAMME, 2026, session=session), session=session)
        data = report.data
    assert (data["on_time"], data["late"], data["missing"]) == (4, 3, len(codes) - 7)
    assert "DỰ THẢO" in report.markdown and "Đúng hạn" in report.markdown
    statuses = {a["code"]: a["status"] for a in data["agencies"]}
    assert statuses[codes[0]] == "on_time" and statuses[codes[5]] == "late"
    assert statuses[codes[-1]] == "missing"


def decide_when_waiting(decision: CoordinatorDecision | list[str], errors: list) -> None:
    """Answer once the run waits: with a decision object, or as ops would with `r42 ...`."""
    try:
        for _ in range(240):
            if find_waiting_runs(2026, PROGRAMME):
                if isinstance(decision, list):
                    assert cli.main(decision) == 0
                else:
                    answer(2026, PROGRAMME, decision)
                return
            time.sleep(0.25)
        raise TimeoutError("no submission run waited for a decision")
    except Exception as exc:
        errors.append(exc)


def run_submission_answered_by(decision: CoordinatorDecision | list[str]) -> dict:
    errors: list = []
    coordinator = threading.Thread(target=decide_when_waiting, args=(decision, errors))
    coordinator.start()
    result = submit_report_flow(year=2026, as_of=at(dt.date(2026, 12, 10), 9))
    coordinator.join()
    assert not errors, errors
    return result


def test_approval_sends_the_report_to_the_ministry_once(smtp, smtp_settings):
    open_2026()
    submit(2026, agency_codes(2026)[:5], dt.date(2026, 11, 20))
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    smtp.received.clear()

    result = run_submission_answered_by(
        CoordinatorDecision(
            decision="approve",
            report_number="215/BC-UBND",
            signer="Nguyễn Văn A",
            decided_by="test",
        )
    )
    assert result["status"] == "submitted"
    (sent,) = smtp.received
    assert sent.recipients == ["vanthu@moha.example"] or sent.recipients[0].endswith(".example")
    message = sent.message
    assert "215/BC-UBND" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Số: 215/BC-UBND" in body and "Nguyễn Văn A" in body and "DỰ THẢO" not in body

    again = submit_report_flow(year=2026)
    assert again["status"] == "submitted"
    assert len(smtp.received) == 1


def test_send_back_from_the_cli_records_the_reason_and_sends_nothing(smtp, smtp_settings):
    open_2026()
    consolidate_flow(year=2026, as_of=at(dt.date(2026, 12, 5), 17))
    smtp.received.clear()
    reason = "Thiếu số liệu của Sở Y tế"
    result = run_submission_answered_by(
        ["decide", "--year", "2026", "send-back", "--reason", reason]
    )
    assert result["status"] == "returned" and result["reason"] == reason
    assert smtp.received == []
    with session_scope() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.returned")
        ).one()
        assert event.actor == "ops" and event.detail["reason"] == reason
    assert submit_report_flow(year=2026)["status"] == "returned"  # re-run: nothing to decide


def test_approval_input_is_validated():
    with pytest.raises(ValueError, match="report_number"):
        CoordinatorDecision(decision="approve", report_number="abc", signer="Nguyễn Văn A")
    with pytest.raises(ValueError, match="signer"):
        CoordinatorDecision(decision="approve", report_number="12/BC-UBND")
    with pytest.raises(ValueError, match="reason"):
        CoordinatorDecision(decision="send_back")


def test_coordinators_act_through_flows_they_can_run_from_the_ui(smtp, smtp_settings):
    from flows.coordination import reissue_link_flow, send_back_flow, set_cycle_status_flow

    open_2026()
    code = agency_codes(2026)[0]
    email_of = agency_emails()[code][0]
    submit(2026, [code], dt.date(2026, 11, 20))
    smtp.received.clear()
    send_back_flow(year=2026, agency=code, reason="Thiếu số liệu quý IV.")
    reissue_link_flow(year=2026, agency=code)
    assert [r.recipients for r in smtp.received] == [[email_of], [email_of]]
    returned, link = (r.message for r in smtp.received)
    assert "Thiếu số liệu quý IV." in returned.get_body(("plain",)).get_content()
    assert "không còn sử dụng được" in link.get_body(("plain",)).get_content()
    assert set_cycle_status_flow(year=2026, status="locked") == "locked"
    with session_scope() as session:
        assert get_cycle(PROGRAMME, 2026, session=session).status == "locked"
