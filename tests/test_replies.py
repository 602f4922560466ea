"""Replies by email against a real IMAP server (Dovecot): the filled form attached to a reply
is stored through the intake like an upload, the sender is answered once in its thread, and
what cannot be used is moved aside, answered once and listed; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import io
import os
import quopri
import signal
import subprocess
import sys
import time
import zipfile
from email.header import Header

import openpyxl
import pytest
from sqlalchemy import func, select

from config.settings import get_settings
from documents.form_cells import FIRST_ROW, INDICATORS, META, PROPOSALS, PROPOSALS_CELL, TASKS
from mail.inbound import parse
from mail.inbox import Inbox, InboxUnavailable
from models.cycles import open_cycle
from models.database import session_scope
from models.orm import (
    Agency,
    AuditEvent,
    InboundMessage,
    MessageKind,
    OutgoingMessage,
    Request,
    Submission,
)
from reporting.replies import read_replies
from reporting.requests import queue_requests
from tests.factories import PROGRAMME, at
from tests.imap_server import ImapServer

OPENED = dt.date(2026, 11, 2)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_NAME = "Biểu mẫu báo cáo năm 2026 - Sở Y tế.xlsx"
PROCESSED, REJECTED = "R42-processed", "R42-rejected"


@pytest.fixture(scope="module")
def dovecot():
    with ImapServer() as server:
        yield server


@pytest.fixture
def imap(dovecot):
    """The server with a fresh, empty mailbox for this test."""
    dovecot.new_user()
    return dovecot


@pytest.fixture
def cycle(db, configure, imap):
    """The 2026 cycle opened, its requests queued (their Message-IDs stored), replies read
    from the test's mailbox."""
    configure(**imap.settings_env())
    with session_scope() as session:
        opened, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        queue_requests(opened, session=session, settings=get_settings(), now=at(OPENED, 8))
        return opened.id


# --- what agencies send ------------------------------------------------------------------------


def request_email(agency: str) -> email.message.EmailMessage:
    with session_scope() as session:
        raw = session.scalar(
            select(OutgoingMessage)
            .join(Agency, OutgoingMessage.agency_id == Agency.id)
            .where(OutgoingMessage.kind == MessageKind.REQUEST, Agency.code == agency)
        ).raw
    return email.message_from_bytes(raw, policy=email.policy.default)


def agency_address(agency: str) -> str:
    with session_scope() as session:
        return session.scalar(select(Agency.email).where(Agency.code == agency))


def agencies(n: int) -> list[str]:
    with session_scope() as session:
        rows = session.scalars(
            select(Agency.code).join(Request, Request.agency_id == Agency.id).order_by(Agency.code)
        )
        return list(dict.fromkeys(rows))[:n]


def filled(agency: str, proposal: str = "Không có đề xuất.", bad_value: bool = False,
           unsigned: bool = False, claims: str | None = None) -> bytes:
    """The form attached to the agency's request, filled in as a clerk would in Excel."""
    (attachment,) = request_email(agency).iter_attachments()
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    ws = book[INDICATORS]
    for r in range(FIRST_ROW, ws.max_row + 1):
        if ws[f"A{r}"].value:
            yes_no, percent = ws[f"E{r}"].value == "Đạt", ws[f"D{r}"].value == "%"
            ws[f"G{r}"] = "Có" if yes_no else 80 if percent else 40
            if bad_value and not yes_no:
                ws[f"G{r}"], bad_value = "khoảng bốn mươi", False
    tasks = book[TASKS]
    for r in range(FIRST_ROW, tasks.max_row + 1):
        if tasks[f"A{r}"].value:
            tasks[f"D{r}"], tasks[f"E{r}"] = "Hoàn thành", "Đã thực hiện."
    book[PROPOSALS][PROPOSALS_CELL] = proposal
    if unsigned:
        del book["_ky"]
    if claims is not None:  # the hidden sheet edited to name an agency that does not exist
        meta = book[META]
        for r in range(1, meta.max_row + 1):
            if meta[f"A{r}"].value == "agency":
                meta[f"B{r}"] = claims
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def headers(sender: str, answering: email.message.EmailMessage | None, subject: str,
            message_id: str, extra: str = "") -> str:
    lines = [
        f"From: {sender}",
        "To: tonghop-nq42@vinhlong.example",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "Date: Fri, 20 Nov 2026 09:15:00 +0700",
        "MIME-Version: 1.0",
    ]
    if answering is not None:
        thread = answering["Message-ID"]
        lines += [f"In-Reply-To: {thread}", f"References: {thread}"]
    return "\r\n".join(lines) + ("\r\n" + extra if extra else "") + "\r\n"


def thunderbird(agency: str, content: bytes, *, message_id: str, sender: str | None = None,
                filename: str = FORM_NAME, content_type: str = XLSX, thread: bool = True) -> bytes:
    """Thunderbird's shape: format=flowed quoted-printable text, the attachment's name in RFC
    2231 (filename*=UTF-8''...), base64 at 72 columns."""
    sender = sender or f"Văn thư <{agency_address(agency)}>"
    answering = request_email(agency) if thread else None
    text = "Kính gửi Sở Nội vụ,\r\nĐơn vị gửi lại biểu mẫu đã điền.\r\n"
    body = quopri.encodestring(text.encode()).decode()
    encoded = base64.encodebytes(content).decode().replace("\n", "\r\n")
    from urllib.parse import quote

    name = quote(filename)
    return (
        headers(
            str(Header(sender.split(" <")[0], "utf-8").encode()) + " <" + sender.split("<")[1]
            if "<" in sender else sender,
            answering, "=?UTF-8?Q?Re=3A_B=C3=A1o_c=C3=A1o?=", message_id,
            'User-Agent: Mozilla Thunderbird\r\nContent-Type: multipart/mixed; boundary="tb-1"',
        )
        + "\r\nThis is a multi-part message in MIME format.\r\n--tb-1\r\n"
        + "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + body
        + "\r\n--tb-1\r\n"
        + f"Content-Type: {content_type};\r\n name*=UTF-8''{name}\r\n"
        + f"Content-Disposition: attachment;\r\n filename*=UTF-8''{name}\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + "\r\n--tb-1--\r\n"
    ).encode()


def outlook(agency: str, content: bytes, *, message_id: str) -> bytes:
    """Outlook's shape: multipart/mixed around multipart/alternative, the attachment's name as
    RFC 2047 encoded words in name= and filename=, base64 at 76 columns, Thread-Index."""
    answering = request_email(agency)
    words = Header(FORM_NAME, "utf-8").encode(maxlinelen=998)
    encoded = base64.encodebytes(content).decode().replace("\n", "\r\n")
    page = "<html><body><p>Sở Y tế gửi báo cáo.</p></body></html>"
    html = base64.encodebytes(page.encode()).decode()
    return (
        headers(
            agency_address(agency).upper(),  # Outlook may shout the address
            answering, "RE: =?utf-8?B?" + base64.b64encode("Đề nghị".encode()).decode() + "?=",
            message_id,
            "Thread-Index: AQHZ1234567890\r\nX-MS-Has-Attach: yes\r\n"
            'Content-Type: multipart/mixed;\r\n\tboundary="_004_outlook_"',
        )
        + "\r\n--_004_outlook_\r\n"
        + 'Content-Type: multipart/alternative;\r\n\tboundary="_000_outlook_"\r\n\r\n'
        + "--_000_outlook_\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes("Sở Y tế gửi báo cáo.".encode()).decode()
        + "\r\n--_000_outlook_\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n" + html
        + "\r\n--_000_outlook_--\r\n\r\n--_004_outlook_\r\n"
        + f'Content-Type: {XLSX};\r\n\tname="{words}"\r\n'
        + "Content-Description: Bieu mau\r\n"
        + f'Content-Disposition: attachment;\r\n\tfilename="{words}"; size={len(content)}\r\n'
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + "\r\n--_004_outlook_--\r\n"
    ).encode()


def forwarded(inner: bytes, *, sender: str, message_id: str) -> bytes:
    """A colleague forwards the clerk's reply (with the form) as an attachment."""
    return (
        headers(sender, None, "Fwd: Re: Báo cáo", message_id,
                'Content-Type: multipart/mixed; boundary="fw"')
        + "\r\n--fw\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nChuyển tiếp.\r\n"
        + "--fw\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
    ).encode() + inner + b"\r\n--fw--\r\n"


def plain(sender: str, *, message_id: str, answering=None, extra: str = "") -> bytes:
    return (headers(sender, answering, "Hỏi", message_id,
                    (extra + "\r\n" if extra else "") + "Content-Type: text/plain; charset=utf-8")
            + "\r\nXin hỏi hạn nộp.\r\n").encode()


# --- what the system did ---------------------------------------------------------------------


def read(now: dt.datetime | None = None):
    settings = get_settings()
    with Inbox(settings.inbox, settings.mail) as mailbox:
        return read_replies(mailbox, settings=settings, now=now or at(dt.date(2026, 11, 20)))


def answers(kind: str | None = None) -> list[email.message.EmailMessage]:
    with session_scope() as session:
        query = select(OutgoingMessage).where(
            OutgoingMessage.kind.in_([kind] if kind else ["receipt", "reply"])
        )
        return [
            email.message_from_bytes(m.raw, policy=email.policy.default)
            for m in session.scalars(query.order_by(OutgoingMessage.id))
        ]


def submissions(agency: str) -> list[Submission]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Submission)
                .join(Request)
                .join(Agency)
                .where(Agency.code == agency)
                .order_by(Submission.revision)
            )
        )


def inbound() -> dict[str, InboundMessage]:
    with session_scope() as session:
        return {r.message_id: r for r in session.scalars(select(InboundMessage))}


# --- tests -----------------------------------------------------------------------------------


def test_thunderbird_and_outlook_replies_are_stored_answered_in_their_thread_and_moved(cycle, imap):
    first, second = agencies(2)
    imap.deliver(
        thunderbird(first, filled(first), message_id="<tb-1@so.example>"),
        outlook(second, filled(second), message_id="<ol-1@so.example>"),
    )
    outcomes = read()
    assert [o.status for o in outcomes] == ["stored", "stored"], outcomes
    for agency in (first, second):
        (submission,) = submissions(agency)
        assert submission.channel == "email" and submission.revision == 1
        assert submission.is_late is False and "(email)" in submission.submitted_by
    receipts = answers("receipt")
    assert [r["In-Reply-To"] for r in receipts] == ["<tb-1@so.example>", "<ol-1@so.example>"]
    assert receipts[0]["To"].addresses[0].addr_spec == agency_address(first)
    assert request_email(first)["Message-ID"] in receipts[0]["References"]
    assert "thư trả lời kèm tệp Excel" in receipts[0].get_body(("plain",)).get_content()
    assert imap.count("INBOX") == 0 and imap.count(PROCESSED) == 2
    with session_scope() as session:
        recorded = AuditEvent.action == "submission.recorded"
        audit = session.scalars(select(AuditEvent).where(recorded))
        assert {a.detail["channel"] for a in audit} == {"email"}
    assert read() == []  # nothing waits: nothing read again


def test_a_forwarded_form_from_an_unregistered_address_is_accepted_on_its_token(
    cycle, imap, capsys
):
    (agency,) = agencies(1)
    inner = thunderbird(agency, filled(agency), message_id="<inner@so.example>")
    imap.deliver(forwarded(inner, sender="Đồng nghiệp <ban-khac@tinh.example>",
                           message_id="<fw-1@tinh.example>"))
    (outcome,) = read()
    assert outcome.status == "stored" and "chưa đăng ký" in outcome.reason
    assert inbound()["<fw-1@tinh.example>"].sender_mismatch is True
    (submission,) = submissions(agency)
    assert "not a registered address" in submission.submitted_by
    with session_scope() as session:
        assert session.scalar(
            select(func.count()).where(AuditEvent.action == "email.sender_not_registered")
        ) == 1
    (receipt,) = answers("receipt")
    assert receipt["To"].addresses[0].addr_spec == "ban-khac@tinh.example"
    from cli.main import main

    assert main(["inbox", "--year", "2026"]) == 0  # stored, but shown: the sender is not known
    assert "[sender not registered]" in capsys.readouterr().out


def test_a_spoofed_sender_with_an_unsigned_form_is_refused_without_the_link(cycle, imap):
    (agency,) = agencies(1)
    imap.deliver(thunderbird(agency, filled(agency, unsigned=True), message_id="<sp@x.example>",
                             sender="Mạo danh <ke-gia@x.example>"))
    (outcome,) = read()
    assert outcome.status == "rejected" and "không phải địa chỉ đã đăng ký" in outcome.reason
    assert submissions(agency) == []
    (reply,) = answers("reply")
    text = reply.get_body(("plain",)).get_content()
    assert "chưa nhận được" in text and "/bao-cao/" not in text  # no personal link to a stranger
    assert reply["In-Reply-To"] == "<sp@x.example>"
    assert imap.count(REJECTED) == 1 and inbound()["<sp@x.example>"].sender_mismatch is True


def test_cell_errors_are_answered_with_the_cells_and_the_personal_link(cycle, imap):
    (agency,) = agencies(1)
    imap.deliver(thunderbird(agency, filled(agency, bad_value=True), message_id="<bad@so.example>"))
    (outcome,) = read()
    assert outcome.status == "invalid" and any("Chỉ tiêu!G" in p for p in outcome.problems)
    (reply,) = answers("reply")
    text = reply.get_body(("plain",)).get_content()
    assert "Chỉ tiêu!G" in text and "/bao-cao/" in text and "Các lỗi cần sửa" in text
    assert submissions(agency) == []
    # corrected, in the same thread: stored, and a receipt this time
    imap.deliver(thunderbird(agency, filled(agency), message_id="<good@so.example>"))
    (outcome,) = read()
    assert outcome.status == "stored" and len(answers("receipt")) == 1


def test_what_cannot_be_used_is_moved_aside_answered_once_and_listed(cycle, imap, capsys):
    one, two = agencies(2)
    form = filled(one)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    imap.deliver(
        plain(agency_address(one), message_id="<none@so.example>", answering=request_email(one)),
        thunderbird(one, form, message_id="<xls@so.example>", filename="bao cao.xls",
                    content_type="application/vnd.ms-excel"),
        thunderbird(one, form, message_id="<ods@so.example>", filename="bao cao.ods",
                    content_type="application/vnd.oasis.opendocument.spreadsheet"),
        thunderbird(one, b"PK\x03\x04 this is not a workbook", message_id="<bad@so.example>"),
        thunderbird(one, zipped.getvalue(), message_id="<zip@so.example>"),
        thunderbird(
            two,
            filled(two, unsigned=True, claims="khong-co"),
            message_id="<unknown@so.example>",
            thread=False,
            sender="ai-do@so.example",
        ),
    )
    two_forms = thunderbird(one, form, message_id="<two@so.example>").replace(
        b"\r\n--tb-1--\r\n",
        b"\r\n--tb-1\r\nContent-Type: " + XLSX.encode()
        + b"; name=b.xlsx\r\nContent-Disposition: attachment; filename=b.xlsx\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(form)
        + b"\r\n--tb-1--\r\n",
    )
    imap.deliver(two_forms)
    outcomes = {o.message_id: o for o in read()}
    assert {k: o.status for k, o in outcomes.items()} == {
        "<none@so.example>": "rejected",
        "<xls@so.example>": "rejected",
        "<ods@so.example>": "rejected",
        "<bad@so.example>": "rejected",
        "<zip@so.example>": "rejected",
        "<unknown@so.example>": "rejected",
        "<two@so.example>": "rejected",
    }
    assert "không có tệp" in outcomes["<none@so.example>"].reason
    assert ".xls" in outcomes["<xls@so.example>"].reason
    assert ".ods" in outcomes["<ods@so.example>"].reason
    assert "bị hỏng" in outcomes["<bad@so.example>"].reason
    assert "2 tệp" in outcomes["<two@so.example>"].reason
    assert "không xác định được" in outcomes["<unknown@so.example>"].reason
    replies = answers("reply")
    assert sorted(r["In-Reply-To"] for r in replies) == sorted(outcomes)  # each answered once
    assert submissions(one) == [] and imap.count(REJECTED) == 7 and imap.count("INBOX") == 0
    from cli.main import main

    assert main(["inbox", "--year", "2026"]) == 0
    listed = capsys.readouterr().out
    assert "7 shown of 7 message(s) for 2026" in listed and "<xls@so.example>" in listed


def test_auto_replies_and_bounces_are_never_answered_and_a_bounce_marks_the_recipient(cycle, imap):
    (agency,) = agencies(1)
    ours = request_email(agency)
    address = agency_address(agency)
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.so.example>\r\nReturn-Path: <>\r\n"
        f"To: tonghop-nq42@vinhlong.example\r\nSubject: Undelivered Mail\r\n"
        "Message-ID: <dsn-1@mx.so.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nThe mail system: delivery failed.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.so.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ours['Message-ID']}\r\n"
        f"To: {address}\r\nSubject: x\r\n\r\n--r--\r\n"
    ).encode()
    imap.deliver(
        plain(address, message_id="<ooo@so.example>", answering=ours,
              extra="Auto-Submitted: auto-replied"),
        plain(address, message_id="<ooo2@so.example>", answering=ours, extra="Precedence: bulk"),
        dsn,
    )
    outcomes = {o.message_id: o.status for o in read()}
    assert outcomes == {"<ooo@so.example>": "ignored", "<ooo2@so.example>": "ignored",
                        "<dsn-1@mx.so.example>": "bounce"}
    assert answers() == []
    with session_scope() as session:
        message = session.scalar(
            select(OutgoingMessage).where(OutgoingMessage.message_id == ours["Message-ID"])
        )
        assert message.status == "failed"
        marked = [(r.status, r.last_reply[:14]) for r in message.recipients]
        assert marked == [("failed", "bounce: smtp; ")]
    assert imap.count(PROCESSED) == 3


def test_the_attachment_names_decode_from_rfc_2231_and_rfc_2047():
    content = b"PK\x03\x04"
    for raw in (
        thunderbird_raw(content),
        outlook_raw(content),
    ):
        (attachment,) = parse(raw).attachments
        assert attachment.filename == FORM_NAME and attachment.suffix == ".xlsx"
        assert attachment.content == content


def thunderbird_raw(content: bytes) -> bytes:
    from urllib.parse import quote

    return (
        "From: a@b.example\r\nMessage-ID: <t@b>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f"Content-Type: {XLSX};\r\n name*=UTF-8''{quote(FORM_NAME)}\r\n"
        f"Content-Disposition: attachment;\r\n filename*0*=UTF-8''{quote(FORM_NAME[:20])};\r\n"
        f" filename*1*={quote(FORM_NAME[20:])}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(content).decode() + "\r\n--b--\r\n"
    ).encode()


def outlook_raw(content: bytes) -> bytes:
    words = Header(FORM_NAME, "utf-8").encode(maxlinelen=60)  # folded over lines
    return (
        "From: a@b.example\r\nMessage-ID: <o@b>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f'Content-Type: {XLSX}; name="{words}"\r\n'
        f'Content-Disposition: attachment; filename="{words}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(content).decode() + "\r\n--b--\r\n"
    ).encode()


def test_starttls_with_the_relays_ca_a_wrong_password_and_an_untrusted_certificate(
    db, configure, imap, monkeypatch
):
    configure(**imap.settings_env(security="starttls"))
    assert read() == []  # STARTTLS on the plain port, the certificate checked against the CA
    configure(**{**imap.settings_env(), "R42_INBOX__PASSWORD": "sai"})
    with pytest.raises(InboxUnavailable, match="refused"):
        read()
    configure(**imap.settings_env())
    monkeypatch.delenv("R42_MAIL__SMTP_CA_FILE")
    configure()
    with pytest.raises(InboxUnavailable, match="not trusted"):
        read()


def test_r42_check_logs_in_and_counts_without_touching_the_mailbox(db, configure, imap):
    from cli.checks import check_inbox

    configure(**imap.settings_env())
    imap.deliver(plain("a@so.example", message_id="<c@so.example>"))
    (row,) = check_inbox(get_settings())
    assert row.status == "OK" and "1 message(s) waiting in INBOX" in row.message
    assert imap.count("INBOX") == 1 and imap.count(PROCESSED) == 0  # not even its folders made
    configure(R42_INBOX__PASSWORD="sai")
    (row,) = check_inbox(get_settings())
    assert row.status == "FAIL" and "R42_INBOX__PASSWORD" in row.message


def test_a_message_over_the_size_limit_is_not_read_but_answered(cycle, imap, configure):
    (agency,) = agencies(1)
    configure(R42_WEB_FORM__MAX_UPLOAD_BYTES="10000")  # the largest message: about 2 MB
    imap.deliver(thunderbird(agency, os.urandom(1_700_000), message_id="<big@so.example>"))
    (outcome,) = read()
    assert outcome.status == "rejected" and "quá lớn" in outcome.reason and outcome.answered
    assert imap.count(REJECTED) == 1


KILL_SCRIPT = """
import datetime as dt
from config.settings import get_settings
from mail.inbox import Inbox
from reporting.replies import read_replies
settings = get_settings()
with Inbox(settings.inbox, settings.mail) as mailbox:
    read_replies(mailbox, settings=settings, now=dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC))
"""


def test_200_replies_then_a_kill_9_mid_batch_and_a_re_run_store_and_answer_each_once(
    cycle, imap, smtp, configure
):
    codes = agencies(50)
    forms = {code: [filled(code, proposal=f"Đề xuất {n}.") for n in range(4)] for code in codes}
    messages = []
    for n in range(200):
        code = codes[n % len(codes)]
        messages.append(thunderbird(code, forms[code][n // len(codes) % 4],
                                    message_id=f"<m{n}@so.example>"))
    imap.deliver(*messages)
    env = {k: v for k, v in os.environ.items()}
    worker = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT], env=env,
                              cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        with session_scope() as session:
            if session.scalar(select(func.count()).select_from(InboundMessage)) >= 60:
                break
        time.sleep(0.05)
    assert worker.poll() is None, worker.communicate()[1][-2000:]
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    moved_before = imap.count(PROCESSED)
    outcomes = read()
    assert imap.count("INBOX") == 0 and imap.count(PROCESSED) == 200
    rows = inbound()
    assert len(rows) == 200 and all(r.status == "stored" for r in rows.values())
    assert len(outcomes) == 200 - moved_before
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 200
    receipts = answers("receipt")
    assert len(receipts) == 200
    expected = sorted(f"<m{n}@so.example>" for n in range(200))
    assert sorted(r["In-Reply-To"] for r in receipts) == expected
    # the answers leave once: counted at a real SMTP server
    configure(R42_MAIL__TRANSPORT="smtp", R42_MAIL__SMTP_HOST="127.0.0.1",
              R42_MAIL__SMTP_PORT=smtp.port, R42_MAIL__SMTP_TIMEOUT=5)
    from mail.delivery import deliver_configured

    deliver_configured(cycle, now=at(dt.date(2026, 11, 20), 11))
    threads = [r.message["In-Reply-To"] for r in smtp.received if r.message["In-Reply-To"]]
    assert len(threads) == len(set(threads)) == 200


class DiesOnMove:
    """The real mailbox, but the run dies the first time it moves a message (after the
    message was recorded, stored and answered)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox, self.uid_validity = inbox, inbox.uid_validity

    def uids(self):
        return self.inbox.uids()

    def size(self, uid):
        return self.inbox.size(uid)

    def fetch(self, uid):
        return self.inbox.fetch(uid)

    def fetch_header(self, uid):
        return self.inbox.fetch_header(uid)

    def move(self, uid, folder):
        raise ConnectionResetError("killed between recording and moving")


def test_a_run_dying_between_recording_and_moving_only_moves_it_next_time(cycle, imap):
    (first,) = agencies(1)
    imap.deliver(
        thunderbird(first, filled(first), message_id="<a@so.example>"),
        thunderbird(first, filled(first, bad_value=True), message_id="<b@so.example>"),
    )
    settings = get_settings()
    with Inbox(settings.inbox, settings.mail) as mailbox, pytest.raises(ConnectionResetError):
        read_replies(DiesOnMove(mailbox), settings=settings, now=at(dt.date(2026, 11, 20)))
    assert imap.count("INBOX") == 2 and len(inbound()) == 1 and len(answers()) == 1
    outcomes = read()
    assert [o.reason for o in outcomes][0] == "đã đọc trước đó"  # moved, not read again
    assert outcomes[1].status == "invalid"
    assert imap.count("INBOX") == 0 and imap.count(PROCESSED) == 1 and imap.count(REJECTED) == 1
    assert len(submissions(first)) == 1 and len(answers()) == 2
    # the same message delivered again (another copy of its Message-ID): moved, never answered
    imap.deliver(thunderbird(first, filled(first), message_id="<a@so.example>"))
    (again,) = read()
    assert again.status == "ignored" and len(answers()) == 2 and len(submissions(first)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_read_replies_flow_publishes_its_table_and_delivers_the_answers(
    prefect_harness, cycle, imap
):
    from prefect.client.orchestration import get_client

    from flows.read_replies import read_replies_flow

    (agency,) = agencies(1)
    imap.deliver(thunderbird(agency, filled(agency), message_id="<flow@so.example>"),
                 plain(agency_address(agency), message_id="<q@so.example>",
                       answering=request_email(agency)))
    result = read_replies_flow(as_of=at(dt.date(2026, 11, 20)))
    assert result == {"read": 2, "stored": 1, "rejected": 1}
    outbox = sorted(p.name for p in get_settings().mail.outbox_dir.glob("*.eml"))
    assert any("-receipt-" in n for n in outbox) and any("-reply-" in n for n in outbox)

    async def table():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    import asyncio

    artifacts = [a for a in asyncio.run(table()) if a.key == "replies-inbox"]
    assert artifacts and "flow@so.example" in str(artifacts[0].data)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(bytes(1 << 20))
    return buffer.getvalue()


def test_the_intakes_malformed_spreadsheets_arrive_as_attachments_and_are_refused(cycle, imap):
    from tests.test_excel_form import SHEET_XML, laugh, swap_member

    (agency,) = agencies(1)
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{laugh(i)}">' for i in range(9))
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData/></worksheet>"
    )
    form = filled(agency)
    files = {
        "<bomb@so.example>": (zip_bomb(), "nén"),
        "<entities@so.example>": (swap_member(form, SHEET_XML, laughs.encode()), "DOCTYPE"),
        "<broken@so.example>": (swap_member(form, SHEET_XML, b"<worksheet><row"), "bị hỏng"),
        "<pdf@so.example>": (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "không phải là tệp Excel"),
        "<empty@so.example>": (b"", "rỗng"),
    }
    imap.deliver(*(thunderbird(agency, data, message_id=key) for key, (data, _) in files.items()))
    outcomes = {o.message_id: o for o in read()}
    for key, (_, words) in files.items():
        outcome = outcomes[key]
        assert outcome.status == "rejected" and outcome.answered, key
        assert any(words in problem for problem in outcome.problems), (key, outcome.problems)
    assert submissions(agency) == [] and imap.count(REJECTED) == len(files)
    for reply in answers("reply"):  # the agency's own address: the errors and its link
        text = reply.get_body(("plain",)).get_content()
        assert "Các lỗi cần sửa" in text and "/bao-cao/" in text


def test_a_reply_after_the_deadline_is_stored_late_and_its_receipt_says_so(cycle, imap):
    (agency,) = agencies(1)
    imap.deliver(thunderbird(agency, filled(agency), message_id="<late@so.example>"))
    (outcome,) = read(now=at(dt.date(2026, 12, 8)))
    assert outcome.status == "stored"
    (submission,) = submissions(agency)
    assert submission.is_late is True
    (receipt,) = answers("receipt")
    assert "sau hạn 04/12/2026" in receipt.get_body(("plain",)).get_content()
