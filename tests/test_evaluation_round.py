"""A mid-term round end to end through the cycle's shared flows with its kind (the review flow:
open-cycle, send-reminders and consolidate as subflows; then submit-to-ministry), on SQLite and
PostgreSQL, with its documents."""

from __future__ import annotations

import datetime as dt
import io
import threading
import time
from collections import Counter

import docx
import openpyxl
import pytest
from sqlalchemy import select

from flows.approval import CoordinatorDecision, answer, find_waiting_runs
from flows.review import final_review_flow, midterm_review_flow
from flows.submit_report import submit_report_flow
from models.cycles import cycle_requests, get_cycle
from models.database import session_scope
from models.orm import Channel, CycleKind, OutgoingMessage, Report
from reporting.evaluation_excel import import_evaluation_form
from reporting.evaluation_intake import record_evaluation
from reporting.requests import XLSX_TYPE
from tests.factories import PROGRAMME, at, outbox
from tests.test_evaluation import evaluation_input

pytestmark = pytest.mark.usefixtures("prefect_harness", "db")
OPENED, DEADLINE = dt.date(2025, 9, 15), dt.date(2025, 10, 15)
MIDTERM = {"kind": "midterm", "year": 2025}


def approve_when_waiting(errors: list, number: str = "88/BC-UBND") -> None:
    """The coordinator: approve the mid-term report once its submission run waits."""
    try:
        for _ in range(240):
            if find_waiting_runs(2025, PROGRAMME, "midterm"):
                decision = CoordinatorDecision(
                    decision="approve", report_number=number, signer="Trần Thị B"
                )
                answer(2025, PROGRAMME, decision, "midterm")
                return
            time.sleep(0.25)
        raise TimeoutError("no mid-term submission run waited for a decision")
    except Exception as exc:
        errors.append(exc)


def submit_midterm(as_of: dt.datetime):  # type: ignore[no-untyped-def]
    """submit-to-ministry with kind=midterm, answered by the coordinator."""
    errors: list = []
    coordinator = threading.Thread(target=approve_when_waiting, args=(errors,))
    coordinator.start()
    state = submit_report_flow(year=2025, kind="midterm", as_of=as_of, return_state=True)
    coordinator.join()
    assert not errors, errors
    return state


def docx_text(path) -> str:
    """Every paragraph of the document, tables (header and closing blocks) included."""
    document = docx.Document(str(path))
    cells = [p.text for t in document.tables for c in t._cells for p in c.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def fill_form(content: bytes, agency_code: str) -> bytes:
    """What an agency does with the attached workbook: fills the 2025 column and the text."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb["Chỉ tiêu theo năm"]
    column = [c.value for c in ws[3]].index("2025") + 1
    for row in range(4, ws.max_row + 1):
        if ws.cell(row, 1).value:
            ws.cell(row, column, "có" if ws.cell(row, 4).value == "có/không" else "61,5")
    tasks = wb["Nhiệm vụ"]
    for row in range(4, tasks.max_row + 1):
        if tasks.cell(row, 1).value:
            tasks.cell(row, 4, "Thực hiện thường xuyên")
            tasks.cell(row, 5, f"{agency_code}: kết quả nhóm {tasks.cell(row, 2).value}.")
    narrative = wb["Đánh giá chung"]
    narrative["B4"], narrative["B6"] = "Cơ bản hoàn thành.", "Sâu sát cơ sở."
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_a_midterm_round_asks_reminds_and_writes_its_report(tmp_path):
    result = midterm_review_flow(
        **MIDTERM, step="open", opened_on=OPENED, deadline=DEADLINE, as_of=at(OPENED, 8)
    )["opened"]
    assert result["agencies"] == result["queued"] > 10
    requests = outbox("request")
    assert len(requests) == result["agencies"]
    message = requests[0]
    assert "sơ kết" in message["Subject"] and "giai đoạn 2024-2025" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "/bao-cao/" in text and "Thứ Tư, ngày 15/10/2025" in text
    (form,) = message.iter_attachments()
    assert form.get_content_type() == XLSX_TYPE
    assert form.get_filename().startswith("Biểu mẫu báo cáo sơ kết 2025 - ")

    # Half the agencies answer on time (one through the Excel form), the rest never do.
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        answering = cycle_requests(cycle, session=session)[::2]
        first = answering[0]
        attachment = next(
            m for m in requests if first.agency.email in str(m["To"])
        ).iter_attachments()
        import_evaluation_form(
            fill_form(next(attachment).get_content(), first.agency.code),
            first,
            session=session,
            channel=Channel.UPLOAD,
            submitted_by="test",
            submitted_at=at(dt.date(2025, 9, 20)),
        )
        for request in answering[1:]:
            record_evaluation(
                request,
                evaluation_input(request.agency, 2025),
                session=session,
                channel=Channel.WEB_FORM,
                submitted_by="test",
                submitted_at=at(dt.date(2025, 9, 25)),
            )
        answered = {r.agency.code for r in answering}

    reminder_day = DEADLINE - dt.timedelta(days=7)
    run = midterm_review_flow(**MIDTERM, on=reminder_day, as_of=at(reminder_day, 8))
    reminded = run["reminded"]["queued"]
    assert reminded and not answered & set(reminded) and "report" not in run
    again = midterm_review_flow(**MIDTERM, on=reminder_day, as_of=at(reminder_day, 9))
    assert again["reminded"]["queued"] == []  # the same rung is never sent twice
    reminders = outbox("reminder")
    assert len(reminders) == len(reminded)
    assert "Nhắc gửi báo cáo sơ kết" in reminders[0]["Subject"]

    after = DEADLINE + dt.timedelta(days=1)
    report = midterm_review_flow(**MIDTERM, on=after, as_of=at(after, 17))["report"]
    assert report == {"revision": 1, "created": True, "status": "draft"}
    folder = tmp_path / "reports" / PROGRAMME / "2025-midterm"  # where the yearly report goes
    files = {kind: folder / f"so-ket-2025-du-thao-1.{kind}" for kind in ("docx", "xlsx", "html")}
    document = docx.Document(str(files["docx"]))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Sơ kết việc thực hiện" in body and "BÀI HỌC KINH NGHIỆM" in body
    assert "Sâu sát cơ sở." in body and len(document.inline_shapes) == 1 + 34
    annex = openpyxl.load_workbook(files["xlsx"])
    assert annex.sheetnames == ["Chỉ tiêu", "Đơn vị báo cáo", "Nhiệm vụ", "Đánh giá chung"]
    assert annex["Chỉ tiêu"].max_row == 4 + 34
    assert annex["Chỉ tiêu"]["A2"].value == "Kèm theo dự thảo báo cáo sơ kết năm 2025"
    by_year = [c.value for c in annex["Chỉ tiêu"]["F"][4:]]  # 2025, indicators 1..34
    assert any(isinstance(v, int | float) for v in by_year)
    assert all(isinstance(v, int | float) or v in ("Có", "Không") for v in by_year if v)
    html = files["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 35 and "DỰ THẢO" in html

    unchanged = midterm_review_flow(**MIDTERM, on=after, as_of=at(after, 18))["report"]
    assert unchanged["revision"] == 1 and not unchanged["created"]
    # Approval is the yearly report's: submit-to-ministry with the kind waits for the decision.
    state = submit_midterm(at(after, 19))
    assert state.name == "Approved 88/BC-UBND"
    signed = folder / "so-ket-2025-88-BC-UBND.docx"
    assert "DỰ THẢO" not in "\n".join(p.text for p in docx.Document(str(signed)).paragraphs)
    assert "Trần Thị B" in docx_text(signed) and "Số: 88/BC-UBND" in docx_text(signed)
    assert "ngày 16 tháng 10 năm 2025" in docx_text(signed)
    reference = openpyxl.load_workbook(signed.with_suffix(".xlsx"))["Chỉ tiêu"]["A2"].value
    assert reference.startswith("Kèm theo Báo cáo số 88/BC-UBND ngày 16/10/2025 của")
    assert signed.with_suffix(".pdf").exists()
    (sent,) = outbox("report")  # to the ministry, as the yearly report
    assert "88/BC-UBND" in sent["Subject"] and "sơ kết việc thực hiện" in sent["Subject"]
    assert "giai đoạn 2024-2025" in sent["Subject"]
    names = [a.get_filename() for a in sent.iter_attachments()]
    assert names[0].endswith(".pdf") and any(n.endswith(".xlsx") for n in names)
    later = midterm_review_flow(**MIDTERM, step="consolidate", as_of=at(after, 20))["report"]
    assert later == {"revision": 1, "created": False, "status": "submitted"}
    assert "Số: 88/BC-UBND" in docx_text(signed)
    with session_scope() as session:
        kinds = Counter(m.kind for m in session.scalars(select(OutgoingMessage)))
        stored = session.scalars(select(Report)).one()
    assert kinds["request"] == result["agencies"] and kinds["receipt"] == 0
    assert kinds["report"] == 1
    assert stored.data["kind"] == "midterm" and stored.data["on_time"] == len(answered)
    assert stored.status == "submitted" and stored.number == "88/BC-UBND"


def test_the_final_review_is_its_own_round_beside_the_yearly_cycle():
    early = dt.date(2026, 11, 2)
    final_review = {"kind": "final", "year": 2030}
    nothing = final_review_flow(**final_review, as_of=at(early, 8))  # "auto" in 2026: too early
    assert set(nothing) == {"kind", "year", "day"} and outbox("request") == []
    opened = dt.date(2030, 10, 1)
    final = final_review_flow(**final_review, step="open", opened_on=opened, as_of=at(opened, 8))
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2030, session=session, kind=CycleKind.FINAL)
        assert cycle.deadline == dt.date(2030, 12, 4)  # the yearly rule: before 05/12
        assert len(cycle.requests) == final["opened"]["agencies"]
    assert "tổng kết" in outbox("request")[0]["Subject"]
    with pytest.raises(LookupError):
        with session_scope() as session:
            get_cycle(PROGRAMME, 2030, session=session)  # no yearly 2030 cycle was opened


def test_coordinators_act_on_a_review_round_by_its_kind():
    from flows.coordination import reissue_link_flow, send_back_flow, set_cycle_status_flow

    midterm_review_flow(
        **MIDTERM, step="open", opened_on=OPENED, deadline=DEADLINE, as_of=at(OPENED, 8)
    )
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM)
        request = cycle_requests(cycle, session=session)[0]
        code = request.agency.code
        record_evaluation(
            request,
            evaluation_input(request.agency, 2025),
            session=session,
            channel=Channel.WEB_FORM,
            submitted_by="test",
            submitted_at=at(dt.date(2025, 9, 20)),
        )
    send_back_flow(year=2025, agency=code, reason="Bổ sung số liệu năm 2024.", kind="midterm")
    reissue_link_flow(year=2025, agency=code, kind="midterm")
    (returned,) = outbox("returned")
    assert "gửi lại báo cáo sơ kết giai đoạn 2024-2025" in returned["Subject"]
    assert "Bổ sung số liệu năm 2024." in returned.get_body(("plain",)).get_content()
    (link,) = outbox("link")
    assert "Đường dẫn mới để báo cáo sơ kết" in link["Subject"]
    assert set_cycle_status_flow(year=2025, status="locked", kind="midterm") == "locked"
    with session_scope() as session:
        assert (
            get_cycle(PROGRAMME, 2025, session=session, kind=CycleKind.MIDTERM).status == "locked"
        )
