"""What becomes of one person's reply (not a bounce, not an auto-reply): the request it is for
(its form's identity, else its thread), its form stored as that request's next revision as an
upload's is, and the sender answered in its thread: the receipt, or why it was not stored and
what to do. The mailbox run around it is ``reporting.replies``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from mail.inbound import InboundMail
from models.orm import (
    AuditEvent,
    Channel,
    InboundMessage,
    InboundStatus,
    MessageKind,
    OutgoingMessage,
)
from reporting.cycle_kinds import kind_of
from reporting.excel_import import find_request, import_form
from reporting.excel_reader import ExcelFormError
from reporting.intake import acknowledge
from reporting.messages import Answering
from reporting.reply_answers import (
    ADVICE_FIX,
    ADVICE_FORM,
    ADVICE_LINK,
    ADVICE_SENDER,
    EVALUATION,
    INVALID,
    UNKNOWN,
    UNSIGNED,
    answer,
)
from reporting.reply_forms import Read
from reporting.reply_threads import registered, thread_request


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
    elif not kind_of(request.cycle).form.takes_email_replies:
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
