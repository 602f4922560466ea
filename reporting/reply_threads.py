"""Which request an agency's email answers (its thread, or the form's own token), whether its
sender is one of the agency's addresses, and the bounces of our own messages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from mail.inbound import InboundMail
from models.orm import (
    Cycle,
    CycleStatus,
    DeliveryStatus,
    MessageKind,
    OutgoingMessage,
    Programme,
    Request,
)

THREAD_KINDS = (
    MessageKind.REQUEST,
    MessageKind.REMINDER,
    MessageKind.RETURNED,
    MessageKind.RECEIPT,
    MessageKind.LINK,
    MessageKind.REPLY,
)


def inbound_key(mail: InboundMail, uid_validity: int, uid: int) -> str:
    """The message's own Message-ID, or one made from where it lies."""
    return mail.message_id or f"<{uid_validity}.{uid}@inbox.r42>"


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
