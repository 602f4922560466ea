"""Queueing in the outbox: messages stored with the change that causes them, one row per
recipient, and what the flows read back about them.

Sending them, and the bookkeeping of each attempt, is ``mail.delivery``, ``mail.outbox`` and
``mail.outcomes``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from mail.allowed_domains import check_recipients
from mail.compose import ComposedEmail
from mail.wire import check_wire_form
from models.orm import Agency, Cycle, DeliveryStatus, OutgoingMessage, OutgoingRecipient


def find_message(
    cycle: Cycle, kind: str, recipient_key: str, rung: int, *, session: Session
) -> OutgoingMessage | None:
    return session.scalar(
        select(OutgoingMessage).where(
            OutgoingMessage.cycle_id == cycle.id,
            OutgoingMessage.kind == kind,
            OutgoingMessage.recipient_key == recipient_key,
            OutgoingMessage.rung == rung,
        )
    )


def enqueue(
    cycle: Cycle,
    kind: str,
    recipient_key: str,
    email: ComposedEmail,
    *,
    session: Session,
    agency: Agency | None = None,
    rung: int = 0,
    now: dt.datetime,
) -> OutgoingMessage | None:
    """Queue ``email`` under (cycle, kind, recipient, rung); None if that key is already queued."""
    if find_message(cycle, kind, recipient_key, rung, session=session) is not None:
        return None
    check_recipients(email.to + email.cc)  # R42_MAIL__ALLOWED_DOMAINS: RecipientNotAllowed
    try:
        # What ``compose`` writes: every attempt then sends the stored bytes as they are,
        # without checking their framing again (``Envelope.wire_form``).
        check_wire_form(email.raw)
    except ValueError as exc:
        raise ValueError(f"message {email.message_id} ({kind} {recipient_key}): {exc}") from None
    message = OutgoingMessage(
        cycle=cycle,
        agency=agency,
        kind=kind,
        recipient_key=recipient_key,
        rung=rung,
        to_addrs=email.to,
        cc_addrs=email.cc,
        subject=email.subject,
        message_id=email.message_id,
        raw=email.raw,
        queued_at=now,
        # Each address is accepted or refused on its own (one entry per address).
        recipients=[OutgoingRecipient(address=a) for a in dict.fromkeys(email.to + email.cc)],
    )
    try:
        with session.begin_nested():  # another run may queue the same key at the same moment
            session.add(message)
    except IntegrityError:
        return None
    return message


def sent_keys(cycle: Cycle, kind: str, *, session: Session) -> set[tuple[str, int]]:
    """(recipient_key, rung) of every message of ``kind`` already queued for the cycle."""
    rows = session.execute(
        select(OutgoingMessage.recipient_key, OutgoingMessage.rung).where(
            OutgoingMessage.cycle_id == cycle.id, OutgoingMessage.kind == kind
        )
    )
    return {(key, rung) for key, rung in rows}


UNDELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN, DeliveryStatus.PARTIAL)


def undelivered(cycle_id: int, *, session: Session) -> list[OutgoingMessage]:
    """Messages of the cycle settled with a recipient that did not get them: failed for
    good, unknown, or partial (some recipients accepted, others refused for good)."""
    return list(
        session.scalars(
            select(OutgoingMessage)
            .where(OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status.in_(UNDELIVERED))
            .options(selectinload(OutgoingMessage.recipients))
            .order_by(OutgoingMessage.id)
        )
    )


def delivery_counts(cycle_id: int, *, session: Session) -> dict[str, int]:
    """Message count per delivery status for the cycle."""
    rows = session.execute(
        select(OutgoingMessage.status, func.count())
        .where(OutgoingMessage.cycle_id == cycle_id)
        .group_by(OutgoingMessage.status)
    )
    return {status: count for status, count in rows}
