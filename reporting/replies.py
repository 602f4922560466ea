"""Replies by email: an agency answers the request with the filled form attached.

Each message waiting in the mailbox is read once: its form goes through the same reader,
validation and intake service as an upload (channel "email"), the sender is answered in its
thread through the outbox (the receipt, or the errors and what to do), and the message is
recorded *before* it is moved out of the folder, so a run that dies between the two only
moves it the next time. Auto-replies and bounces are never answered; a bounce of one of our
messages marks its recipient as failed for ops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import Settings
from documents.templating import render_email
from mail.allowed_domains import RecipientNotAllowed
from mail.compose import Recipient, compose
from mail.inbound import InboundMail, parse
from mail.queue import enqueue
from models.database import session_scope
from models.orm import (
    AuditEvent,
    Channel,
    Cycle,
    CycleStatus,
    DeliveryStatus,
    InboundMessage,
    InboundStatus,
    MessageKind,
    OutgoingMessage,
    Programme,
    Request,
)
from reporting.evaluation_intake import is_evaluation
from reporting.excel_reader import ExcelFormError, ParsedForm, find_request, import_form, read_form
from reporting.intake import acknowledge
from reporting.messages import (
    Answering,
    InvalidAddress,
    check_address,
    common_context,
    compose_for_agency,
    link_for,
    programme_mail,
)

# What the sender is told, and what the coordinator reads in `r42 inbox`.
NO_FORM = "thư không có tệp biểu mẫu Excel (.xlsx) đính kèm."
SEVERAL = "thư có {n} tệp bảng tính đính kèm; mỗi thư chỉ gửi một biểu mẫu."
OLD_FORMAT = "tệp «{name}» không phải định dạng .xlsx (tệp .xls, .ods không đọc được)."
DAMAGED = "tệp «{name}» bị hỏng hoặc không phải biểu mẫu của hệ thống."
UNKNOWN = "không xác định được báo cáo mà thư trả lời (biểu mẫu không có thông tin của hệ thống "
UNKNOWN += "và thư không trả lời thư đề nghị báo cáo)."
UNSIGNED = "địa chỉ gửi {sender} không phải địa chỉ đã đăng ký của {agency}, và biểu mẫu không "
UNSIGNED += "có chữ ký của hệ thống để xác nhận."
INVALID = "biểu mẫu có lỗi, chưa được lưu."
TOO_LARGE = "thư quá lớn ({size}; tối đa {limit}), chưa được đọc."
EVALUATION = "biểu mẫu sơ kết/tổng kết chỉ nhận qua đường dẫn riêng."
ADVICE_FORM = (
    "trả lời thư đề nghị báo cáo, đính kèm đúng một tệp biểu mẫu Excel (.xlsx) đã điền, tải từ "
    "đường dẫn riêng trong thư đề nghị; không đổi định dạng tệp, không sửa phần thông tin ẩn."
)
ADVICE_FIX = "sửa các ô nêu trên trong tệp Excel rồi trả lời thư này, đính kèm tệp đã sửa."
ADVICE_SENDER = (
    "gửi từ địa chỉ thư điện tử đã đăng ký của đơn vị, hoặc dùng biểu mẫu gốc tải từ đường "
    "dẫn riêng của đơn vị (có chữ ký của hệ thống)."
)
ADVICE_LINK = "điền báo cáo tại đường dẫn riêng trong thư đề nghị báo cáo."
THREAD_KINDS = (
    MessageKind.REQUEST,
    MessageKind.REMINDER,
    MessageKind.RETURNED,
    MessageKind.RECEIPT,
    MessageKind.LINK,
    MessageKind.REPLY,
)


class Mailbox(Protocol):
    """What reading replies needs of the mailbox (``mail.inbox.Inbox``)."""

    uid_validity: int

    def uids(self) -> list[int]: ...

    def size(self, uid: int) -> int: ...

    def fetch(self, uid: int) -> object | None: ...  # has .raw

    def fetch_header(self, uid: int) -> object | None: ...

    def move(self, uid: int, folder: str) -> None: ...


@dataclass
class Outcome:
    """What was done with one message: a row of the run's table."""

    uid: int
    message_id: str
    sender: str
    status: str
    reason: str = ""
    agency: str = ""
    revision: int | None = None
    folder: str = ""
    answered: bool = False
    problems: list[str] = field(default_factory=list)
    cycle_id: int | None = None  # the cycle its answer is queued in (to deliver it now)


def inbound_key(mail: InboundMail, uid_validity: int, uid: int) -> str:
    """The message's own Message-ID, or one made from where it lies."""
    return mail.message_id or f"<{uid_validity}.{uid}@inbox.r42>"


def answer_key(message_id: str) -> str:
    """The outbox key of the answer to one inbound message: one answer per Message-ID."""
    return "reply-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


def thread_request(mail: InboundMail, *, session: Session) -> Request | None:
    """The request whose email (request, reminder, send-back, ...) this one answers."""
    if not mail.answers:
        return None
    rows = session.execute(
        select(OutgoingMessage.message_id, OutgoingMessage.cycle_id, OutgoingMessage.agency_id)
        .where(
            OutgoingMessage.message_id.in_(mail.answers[:50]),
            OutgoingMessage.kind.in_(THREAD_KINDS),
            OutgoingMessage.agency_id.is_not(None),
        )
    ).all()
    found = {message_id: (cycle_id, agency_id) for message_id, cycle_id, agency_id in rows}
    for message_id in mail.answers:
        if message_id in found:
            cycle_id, agency_id = found[message_id]
            return session.scalar(
                select(Request).where(Request.cycle_id == cycle_id, Request.agency_id == agency_id)
            )
    return None


def registered(sender: str, request: Request) -> bool:
    agency = request.agency
    return sender.casefold() in {agency.email.casefold(), agency.head_email.casefold()}


def current_cycle(settings: Settings, *, session: Session) -> Cycle | None:
    """The cycle an answer to an unknown request is filed under: the newest open one."""
    return session.scalar(
        select(Cycle)
        .join(Programme)
        .where(Programme.code == settings.cycle.programme, Cycle.status == CycleStatus.OPEN)
        .order_by(Cycle.year.desc(), Cycle.id.desc())
        .limit(1)
    )


def answer(
    mail: InboundMail,
    key: str,
    request: Request | None,
    context: dict[str, object],
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
) -> str:
    """Queue the 'reply' email to the sender, once per inbound message; '' if it could not be
    (returns why), else its Message-ID."""
    thread = [key, *mail.answers]
    words = {
        "unchanged": False,
        "revision": None,
        "problems": [],
        "advice": "",
        "reason": "",
        "original_subject": mail.subject,
        **context,
    }
    try:
        check_address(mail.sender)
        if request is not None:
            own = registered(mail.sender, request)
            email = compose_for_agency(
                "reply",
                request,
                # the personal link goes only to the agency's own addresses
                {**words, "reply_link": link_for(request, settings)[0] if own else None},
                settings=settings,
                now=now,
                answering=Answering(mail.sender, thread),
            )
            cycle = request.cycle
        else:
            cycle = current_cycle(settings, session=session)
            if cycle is None:
                return "không có kỳ báo cáo đang mở để trả lời"
            email = compose(
                render_email(
                    "reply",
                    **common_context(cycle, settings),
                    **words,
                    agency_name="Quý cơ quan",
                    reply_link=None,
                ),
                to=[Recipient("", mail.sender)],
                settings=programme_mail(cycle, settings),
                now=now,
                in_reply_to=thread,
            )
        queued = enqueue(
            cycle,
            MessageKind.REPLY,
            answer_key(key),
            email,
            session=session,
            agency=request.agency if request else None,
            now=now,
        )
    except (InvalidAddress, RecipientNotAllowed, ValueError) as exc:
        return f"không trả lời được: {exc}"
    return queued.message_id if queued else ""


def mark_bounce(mail: InboundMail, *, session: Session, now: dt.datetime) -> str:
    """The recipients a delivery report names, failed on our message it reports on."""
    assert mail.bounce is not None
    marked = []
    for message in session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.message_id.in_(mail.bounce.original_ids))
    ):
        named = set(mail.bounce.recipients)
        for recipient in message.recipients:
            if not named or recipient.address.lower() in named:
                recipient.status = DeliveryStatus.FAILED
                recipient.last_reply = f"bounce: {mail.bounce.diagnostic or 'delivery failed'}"
                recipient.settled_at = now
                marked.append(recipient.address)
        statuses = {r.status for r in message.recipients}
        message.status = (
            DeliveryStatus.FAILED if statuses == {DeliveryStatus.FAILED} else DeliveryStatus.PARTIAL
        )
    return ", ".join(marked)


@dataclass
class Read:
    """A message's form, read before the write transaction (the slow part holds nothing)."""

    parsed: ParsedForm | None = None
    errors: list[str] = field(default_factory=list)
    reason: str = ""  # set when the message cannot carry a form at all


def read_attachment(mail: InboundMail, settings: Settings) -> Read:
    sheets = mail.spreadsheets
    if not sheets:
        return Read(reason=NO_FORM)
    if len(sheets) > 1:
        return Read(reason=SEVERAL.format(n=len(sheets)))
    (sheet,) = sheets
    name = sheet.filename[:100] or "(không tên)"
    if sheet.suffix != ".xlsx":
        return Read(reason=OLD_FORMAT.format(name=name))
    try:
        return Read(parsed=read_form(sheet.content, max_bytes=settings.web_form.max_upload_bytes))
    except ExcelFormError as exc:
        return Read(errors=exc.errors, reason=DAMAGED.format(name=name))


def handle(
    mail: InboundMail,
    read: Read,
    row: InboundMessage,
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
) -> Outcome:
    """Decide, store and answer one person's message (inside the caller's transaction)."""
    inbox = settings.inbox
    outcome = Outcome(row.uid, row.message_id, mail.sender, InboundStatus.REJECTED)
    request = None
    if read.parsed is not None:
        p = read.parsed
        try:
            request = find_request(p.programme, p.year, p.kind, p.agency, session=session)
        except ExcelFormError:
            request = None
    request = request or thread_request(mail, session=session)
    context: dict[str, object] = {}
    if read.parsed is None:  # no form, several, .xls/.ods, or a damaged file
        outcome.reason, context["advice"] = read.reason, ADVICE_FORM
        outcome.problems = read.errors
    elif request is None:
        outcome.reason, context["advice"] = UNKNOWN, ADVICE_FORM
    elif not registered(mail.sender, request) and not read.parsed.token:
        row.sender_mismatch = True
        outcome.reason, context["advice"] = (
            UNSIGNED.format(sender=mail.sender, agency=request.agency.name),
            ADVICE_SENDER,
        )
    elif is_evaluation(request):
        outcome.reason, context["advice"] = EVALUATION, ADVICE_LINK
    else:
        mismatch = not registered(mail.sender, request)
        row.sender_mismatch = mismatch
        by = f"{mail.sender} (email{', not a registered address' if mismatch else ''})"
        try:
            with session.begin_nested():
                submission = import_form(
                    read.parsed,
                    session=session,
                    channel=Channel.EMAIL,
                    expected_request=request,
                    submitted_by=by,
                    submitted_at=now,
                )
        except ExcelFormError as exc:
            outcome.status, outcome.reason = InboundStatus.INVALID, INVALID
            outcome.problems, context["advice"] = exc.errors, ADVICE_FIX
        else:
            outcome.status, outcome.revision = InboundStatus.STORED, submission.revision
            row.submission = submission
            if mismatch:
                session.add(
                    AuditEvent(
                        actor=by,
                        action="email.sender_not_registered",
                        cycle_id=request.cycle_id,
                        detail={
                            "agency": request.agency.code,
                            "sender": mail.sender,
                            "message_id": row.message_id,
                            "revision": submission.revision,
                        },
                    )
                )
                outcome.reason = f"địa chỉ gửi {mail.sender} chưa đăng ký (biểu mẫu có chữ ký)"
            if getattr(submission, "unchanged", False):
                outcome.reason = outcome.reason or "giống hệt lần gửi trước"
                context.update(unchanged=True, revision=submission.revision)
            else:
                acknowledge(
                    submission,
                    session=session,
                    settings=settings,
                    now=now,
                    answering=Answering(mail.sender, [row.message_id, *mail.answers]),
                )
                row.answer_message_id = session.scalar(
                    select(OutgoingMessage.message_id).where(
                        OutgoingMessage.cycle_id == request.cycle_id,
                        OutgoingMessage.kind == MessageKind.RECEIPT,
                        OutgoingMessage.recipient_key == request.agency.code,
                        OutgoingMessage.rung == submission.revision,
                    )
                )
                outcome.answered = row.answer_message_id is not None
    row.request = request
    outcome.agency = request.agency.code if request else ""
    outcome.cycle_id = request.cycle_id if request else None
    if outcome.status != InboundStatus.STORED or context.get("unchanged"):
        context.update(reason=outcome.reason, problems=outcome.problems[:50])
        queued = answer(
            mail, row.message_id, request, context, session=session, settings=settings, now=now
        )
        if queued.startswith("<"):
            row.answer_message_id, outcome.answered = queued, True
            outcome.cycle_id = session.scalar(
                select(OutgoingMessage.cycle_id).where(OutgoingMessage.message_id == queued)
            )
        elif queued:
            outcome.reason += f" ({queued})"
    outcome.folder = inbox.processed_folder
    if outcome.status == InboundStatus.REJECTED or outcome.status == InboundStatus.INVALID:
        outcome.folder = inbox.rejected_folder
    return outcome


def largest_message(settings: Settings) -> int:
    """The largest message read: the upload limit in base64 (4/3) with room for the text."""
    return settings.web_form.max_upload_bytes * 4 // 3 + 2_000_000


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def process_message(
    uid: int,
    raw: bytes,
    uid_validity: int,
    *,
    settings: Settings,
    now: dt.datetime,
    too_large: int = 0,
) -> Outcome:
    """Record (and store, and answer) one fetched message in one transaction (``too_large``:
    only its header was fetched, its size was over the limit)."""
    mail = parse(raw)
    key = inbound_key(mail, uid_validity, uid)
    inbox = settings.inbox
    if mail.automatic:
        read = Read()
    elif too_large:
        size, limit = megabytes(too_large), megabytes(largest_message(settings))
        read = Read(reason=TOO_LARGE.format(size=size, limit=limit))
    else:
        read = read_attachment(mail, settings)
    with session_scope(write=True) as session:
        seen = session.scalar(
            select(InboundMessage).where(
                or_(
                    InboundMessage.message_id == key,
                    (InboundMessage.uid_validity == uid_validity) & (InboundMessage.uid == uid),
                )
            )
        )
        if seen is not None:  # recorded by a run that died before moving it, or another copy
            folder = seen.folder if seen.uid == uid else inbox.processed_folder
            return Outcome(
                uid, key, mail.sender, InboundStatus.IGNORED, "đã đọc trước đó", folder=folder
            )
        row = InboundMessage(
            uid_validity=uid_validity,
            uid=uid,
            message_id=key,
            sender=mail.sender[:320],
            subject=mail.subject,
            received_at=now,
            status=InboundStatus.IGNORED,
            folder=inbox.processed_folder,
        )
        session.add(row)
        if mail.bounce is not None:
            marked = mark_bounce(mail, session=session, now=now)
            reason = f"báo lỗi chuyển phát: {marked or 'không khớp thư nào'}"
            outcome = Outcome(uid, key, mail.sender, InboundStatus.BOUNCE, reason)
        elif mail.automatic:
            reason = f"thư tự động ({mail.automatic}), không trả lời"
            outcome = Outcome(uid, key, mail.sender, InboundStatus.IGNORED, reason)
        else:
            outcome = handle(mail, read, row, session=session, settings=settings, now=now)
        row.status, row.reason = outcome.status, outcome.reason[:2000]
        if outcome.problems:
            row.reason += "\n" + "\n".join(outcome.problems[:50])
        outcome.folder = row.folder = outcome.folder or inbox.processed_folder
    return outcome


def read_replies(mailbox: Mailbox, *, settings: Settings, now: dt.datetime) -> list[Outcome]:
    """Every message waiting in the mailbox, oldest first, each recorded then moved."""
    outcomes = []
    for uid in mailbox.uids()[: settings.inbox.max_messages]:
        size = mailbox.size(uid)
        too_large = size if size > largest_message(settings) else 0
        fetched = mailbox.fetch_header(uid) if too_large else mailbox.fetch(uid)
        if fetched is None:
            continue
        try:
            outcome = process_message(
                uid,
                fetched.raw,  # type: ignore[attr-defined]
                mailbox.uid_validity,
                settings=settings,
                now=now,
                too_large=too_large,
            )
        except IntegrityError:  # another run recorded it at the same moment: it moves it
            continue
        mailbox.move(uid, outcome.folder)
        with session_scope(write=True) as session:
            row = session.scalar(
                select(InboundMessage).where(
                    InboundMessage.uid_validity == mailbox.uid_validity, InboundMessage.uid == uid
                )
            )
            if row is not None and row.moved_at is None:
                row.moved_at = now
        outcomes.append(outcome)
    return outcomes


def inbox_rows(year: int, *, session: Session) -> list[InboundMessage]:
    """The messages of the year's cycle, and those no request could be found for."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    return list(
        session.scalars(
            select(InboundMessage)
            .outerjoin(Request, InboundMessage.request_id == Request.id)
            .outerjoin(Cycle, Request.cycle_id == Cycle.id)
            .where(
                or_(
                    Cycle.year == year,
                    InboundMessage.request_id.is_(None)
                    & (InboundMessage.received_at >= start)
                    & (InboundMessage.received_at < start.replace(year=year + 1)),
                )
            )
            .order_by(InboundMessage.received_at, InboundMessage.id)
        )
    )
