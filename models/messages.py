"""The outbox: messages stored with the change that causes them, and their delivery state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mail.compose import ComposedEmail
from mail.transport import DeliveryResult, Envelope
from models.orm import Agency, Cycle, DeliveryStatus, OutgoingMessage


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
    )
    session.add(message)
    session.flush()
    return message


def sent_keys(cycle: Cycle, kind: str, *, session: Session) -> set[tuple[str, int]]:
    """(recipient_key, rung) of every message of ``kind`` already queued for the cycle."""
    rows = session.execute(
        select(OutgoingMessage.recipient_key, OutgoingMessage.rung).where(
            OutgoingMessage.cycle_id == cycle.id, OutgoingMessage.kind == kind
        )
    )
    return {(key, rung) for key, rung in rows}


def pending_envelopes(
    cycle_id: int, sender: str, *, session: Session, limit: int = 10_000
) -> list[Envelope]:
    """Envelopes of the cycle's messages waiting to be sent, oldest first."""
    rows = session.scalars(
        select(OutgoingMessage)
        .join(Cycle)
        .where(
            OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status == DeliveryStatus.PENDING
        )
        .order_by(OutgoingMessage.id)
        .limit(limit)
    )
    return [
        Envelope(
            message_id=m.message_id,
            name=f"{m.cycle.year}-{m.cycle.kind}-{m.kind}-{m.recipient_key}"
            + (f"-{m.rung:+d}" if m.kind == "reminder" else f"-{m.rung}" if m.rung else ""),
            sender=sender,
            recipients=list(m.to_addrs) + list(m.cc_addrs),
            raw=m.raw,
        )
        for m in rows
    ]


def record_results(
    results: list[DeliveryResult], *, session: Session, max_attempts: int, now: dt.datetime
) -> None:
    """Store what each delivery attempt gave; temporary failures stay pending until out of tries."""
    by_id = {r.message_id: r for r in results}
    rows = session.scalars(select(OutgoingMessage).where(OutgoingMessage.message_id.in_(by_id)))
    for message in rows:
        result = by_id[message.message_id]
        message.attempts += 1
        message.last_reply = result.reply
        message.status = result.status
        if result.status == DeliveryStatus.SENT:
            message.sent_at = now
        elif result.status == DeliveryStatus.PENDING and message.attempts >= max_attempts:
            message.status = DeliveryStatus.FAILED
    session.flush()


def delivery_counts(cycle_id: int, *, session: Session) -> dict[str, int]:
    """Message count per delivery status for the cycle."""
    rows = session.execute(
        select(OutgoingMessage.status, func.count())
        .where(OutgoingMessage.cycle_id == cycle_id)
        .group_by(OutgoingMessage.status)
    )
    return {status: count for status, count in rows}
