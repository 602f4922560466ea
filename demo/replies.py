"""Two demo agencies answer the request by email with the filled form, as clerks do: one
straight away, one with a mistake that the answer points out and that is corrected the next
day. A folder stands in for the IMAP mailbox (the tests use a real Dovecot); the replies go
through ``reporting.replies`` exactly as the read-replies flow's do."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import io
from pathlib import Path
from urllib.parse import quote

import openpyxl

from documents.form_cells import (
    INDICATORS,
    PROPOSALS,
    PROPOSALS_CELL,
    STATUS_LABELS,
    TASK_COLS,
    TASKS,
    VALUE_COL,
)
from mail.inbox import Fetched
from models.orm import Agency, Cycle
from reporting.submission_input import SubmissionInput

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FolderMailbox:
    """A mailbox as folders of .eml files (``<root>/<folder>/<uid>.eml``): the demo's IMAP."""

    uid_validity = 1

    def __init__(self, root: Path, folder: str = "INBOX") -> None:
        self.root, self.folder = root, folder
        (root / folder).mkdir(parents=True, exist_ok=True)

    def deliver(self, raw: bytes) -> None:
        taken = [int(p.stem) for p in self.root.glob("*/*.eml")]
        (self.root / self.folder / f"{max(taken, default=0) + 1}.eml").write_bytes(raw)

    def uids(self) -> list[int]:
        return sorted(int(p.stem) for p in (self.root / self.folder).glob("*.eml"))

    def size(self, uid: int) -> int:
        return (self.root / self.folder / f"{uid}.eml").stat().st_size

    def fetch(self, uid: int) -> Fetched | None:
        path = self.root / self.folder / f"{uid}.eml"
        return Fetched(uid, path.read_bytes()) if path.exists() else None

    fetch_header = fetch

    def move(self, uid: int, folder: str) -> None:
        (self.root / folder).mkdir(exist_ok=True)
        (self.root / self.folder / f"{uid}.eml").rename(self.root / folder / f"{uid}.eml")


def _cell(value: object) -> object:
    if value in ("có", "không"):
        return str(value).capitalize()  # as Excel's drop-down writes it
    return value


def filled_form(request_email: email.message.EmailMessage, data: SubmissionInput,
                mistake: bool) -> bytes:
    """The form attached to the request, filled with ``data`` (``mistake``: words in the
    first number cell, as a hurried clerk might type)."""
    (attachment,) = request_email.iter_attachments()
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    sheet = book[INDICATORS]
    for row in sheet.iter_rows(min_row=1):
        code = row[0].value
        if code in data.values:
            value = _cell(data.values[code])
            if mistake and str(value)[:1].isdigit():
                value, mistake = "khoảng năm mươi", False
            sheet[f"{VALUE_COL}{row[0].row}"] = value
    tasks = book[TASKS]
    for row in tasks.iter_rows(min_row=1):
        task = data.tasks.get(row[0].value) if row[0].value else None
        if task is not None:
            for name, column in TASK_COLS.items():
                text = STATUS_LABELS[task.status] if name == "status" else getattr(task, name)
                tasks[f"{column}{row[0].row}"] = text or None
    book[PROPOSALS][PROPOSALS_CELL] = data.adjustment_proposals or None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def reply(request_email: email.message.EmailMessage, agency: Agency, form: bytes,
          message_id: str, when: dt.datetime) -> bytes:
    """A clerk's reply from the agency's address, in the request's thread, the form attached
    with its Vietnamese name (RFC 2231), as Thunderbird writes it."""
    (attachment,) = request_email.iter_attachments()
    name = quote(attachment.get_filename())
    encoded = base64.encodebytes(form).decode().replace("\n", "\r\n")
    return (
        f"From: {agency.email}\r\nTo: {request_email['From'].addresses[0].addr_spec}\r\n"
        f"Subject: Re: {request_email['Subject']}\r\n"
        f"Message-ID: {message_id}\r\n"
        f"In-Reply-To: {request_email['Message-ID']}\r\n"
        f"References: {request_email['Message-ID']}\r\n"
        f"Date: {email.utils.format_datetime(when)}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="demo"\r\n\r\n'
        "--demo\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(f"{agency.name} gửi lại biểu mẫu đã điền.".encode()).decode()
        + f"\r\n--demo\r\nContent-Type: {XLSX}; name*=UTF-8''{name}\r\n"
        + f"Content-Disposition: attachment; filename*=UTF-8''{name}\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + "\r\n--demo--\r\n"
    ).encode()


def send_replies(
    mailbox: FolderMailbox, outbox: Path, cycle: Cycle, sending: dict[str, bool],
    data: dict[str, SubmissionInput], when: dt.datetime,
) -> None:
    """The named agencies reply (``sending[code]``: with the mistake)."""
    for request in cycle.requests:
        code = request.agency.code
        if code not in sending:
            continue
        path = next(outbox.glob(f"*-request-{code}.eml"))
        request_email = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        form = filled_form(request_email, data[code], mistake=sending[code])
        message_id = f"<demo-{code}-{when:%Y%m%d%H%M}@{request.agency.email.split('@')[1]}>"
        mailbox.deliver(reply(request_email, request.agency, form, message_id, when))
