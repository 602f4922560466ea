"""What ops see of the outbox and what they do with it: messages not yet delivered to every
recipient (per recipient), claims of delivery runs that died, and releasing what a person
decided to send again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, selectinload

from mail.outcomes import settled_status
from mail.queue import UNDELIVERED
from models.orm import DeliveryStatus, OutgoingMessage, OutgoingRecipient

S = DeliveryStatus
# What `r42 deliveries` lists, in this order: what needs a person first.
OPEN = (S.UNKNOWN, S.FAILED, S.PARTIAL, S.SENDING, S.PENDING)


def expire_stale_claims(cycle_id: int, *, session: Session, older_than: dt.datetime) -> int:
    """Claims no run recorded (the process died while sending), once their lease is over.
    Returns how many became unknown (see :func:`_settle_dead_claims`)."""
    return _settle_dead_claims(
        session,
        OutgoingMessage.cycle_id == cycle_id,
        OutgoingMessage.status == S.SENDING,
        OutgoingMessage.claimed_at < older_than,
    )


def settle_own_claims(cycle_id: int, token: str, *, session: Session) -> int:
    """What a delivery run of the cycle that stops early (cancelled, an error) still holds,
    settled at once rather than after the lease. Returns how many became unknown. (The
    cycle's claims are found through ``ix_outgoing_message_due``; the token has no index.)"""
    return _settle_dead_claims(
        session,
        OutgoingMessage.cycle_id == cycle_id,
        OutgoingMessage.status == S.SENDING,
        OutgoingMessage.claim_token == token,
    )


def _settle_dead_claims(session: Session, *stale: ColumnElement[bool]) -> int:
    """A message the relay accepted (``accepted_at``) is sent; one whose data may have left
    is unknown, for its recipients still waiting; the others go back to pending (nothing of
    them reached the relay)."""
    accepted = session.scalars(
        select(OutgoingMessage)
        .where(*stale, OutgoingMessage.accepted_at.is_not(None))
        .options(selectinload(OutgoingMessage.recipients))
    )
    for message in accepted:
        for recipient in message.recipients:
            if recipient.status == S.PENDING:
                recipient.status, recipient.settled_at = S.SENT, message.accepted_at
        message.status = settled_status([r.status for r in message.recipients])
        message.sent_at, message.claim_token = message.accepted_at, None
        message.attempts += 1
    session.flush()
    reply = "the delivery run stopped after this message's data may have been sent"
    in_flight = select(OutgoingMessage.id).where(*stale, OutgoingMessage.data_sent_at.is_not(None))
    session.execute(
        update(OutgoingRecipient)
        .where(
            OutgoingRecipient.message_id.in_(in_flight.scalar_subquery()),
            OutgoingRecipient.status == S.PENDING,
        )
        .values(status=S.UNKNOWN, last_reply=reply, settled_at=func.now())
        .execution_options(synchronize_session=False)
    )
    unknown = session.execute(
        update(OutgoingMessage)
        .where(*stale, OutgoingMessage.data_sent_at.is_not(None))
        .values(status=S.UNKNOWN, claim_token=None, last_reply=reply)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(OutgoingMessage)
        .where(*stale, OutgoingMessage.data_sent_at.is_(None))
        .values(status=S.PENDING, claim_token=None, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return unknown


def cycles_to_deliver(*, session: Session, clock: dt.datetime, older_than: dt.datetime) -> list[int]:
    """Cycles with a message due now, or a claim whose run died (``deliver-outbox``)."""
    due = (OutgoingMessage.status == S.PENDING) & (
        OutgoingMessage.next_attempt_at.is_(None) | (OutgoingMessage.next_attempt_at <= clock)
    )
    stale = (OutgoingMessage.status == S.SENDING) & (OutgoingMessage.claimed_at < older_than)
    return list(
        session.scalars(
            select(OutgoingMessage.cycle_id).where(due | stale).distinct().order_by(OutgoingMessage.cycle_id)
        )
    )


def open_deliveries(cycle_id: int, *, session: Session) -> list[OutgoingMessage]:
    """Every message of the cycle not delivered to all its recipients, with its recipients:
    unknown, failed and partial first, then those being sent and those waiting."""
    order = {status: i for i, status in enumerate(OPEN)}
    messages = session.scalars(
        select(OutgoingMessage)
        .where(OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status.in_(OPEN))
        .options(selectinload(OutgoingMessage.recipients))
        .order_by(OutgoingMessage.id)
    )
    return sorted(messages, key=lambda m: order[m.status])


def describe(message: OutgoingMessage, clock: dt.datetime) -> list[str]:
    """Lines for ops: the message, then each recipient with its own standing and reply."""
    state = message.status
    if message.status == S.SENDING and message.claimed_at is not None:
        state += f" for {_duration(clock - message.claimed_at)}"
    elif message.status == S.PENDING:
        when = message.next_attempt_at
        state += (
            f", next attempt in {_duration(when - clock)}"
            if when is not None and when > clock
            else ", due now"
        )
    lines = [
        f"{message.message_id}  {state}  {message.kind} {message.recipient_key}"
        f"{f' rung {message.rung:+d}' if message.kind == 'reminder' else ''}"
        f"  attempts={message.attempts}  {message.last_reply or ''}".rstrip()
    ]
    for recipient in message.recipients:
        reply = f"  {recipient.last_reply}" if recipient.last_reply else ""
        lines.append(f"    {recipient.status:8} {recipient.address}{reply}")
    return lines


def _duration(delta: dt.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def release(message: OutgoingMessage, *, session: Session) -> list[str]:
    """A person decided to try a message again, for its recipients that failed or whose
    outcome is unknown (never for those that accepted it). Returns those recipients."""
    if message.status not in UNDELIVERED:
        raise ValueError(
            f"message {message.message_id} is {message.status}, not failed/unknown/partial"
        )
    again = [r for r in message.recipients if r.status in (S.FAILED, S.UNKNOWN)]
    for recipient in again:
        recipient.status, recipient.settled_at = S.PENDING, None
    message.status, message.next_attempt_at, message.attempts = S.PENDING, None, 0
    session.flush()
    return [r.address for r in again]


def to_release(
    cycle_id: int, *, session: Session, message_ids: list[str], statuses: list[str]
) -> list[OutgoingMessage]:
    """The messages named, and every message with one of ``statuses``; LookupError naming
    any message id that is not failed, unknown or partial in the cycle."""
    found = list(
        session.scalars(
            select(OutgoingMessage)
            .where(
                OutgoingMessage.cycle_id == cycle_id,
                OutgoingMessage.status.in_(UNDELIVERED),
                OutgoingMessage.message_id.in_(message_ids) | OutgoingMessage.status.in_(statuses),
            )
            .options(selectinload(OutgoingMessage.recipients))
            .order_by(OutgoingMessage.id)
        )
    )
    missing = set(message_ids) - {m.message_id for m in found}
    if missing:
        raise LookupError(f"not failed, unknown or partial in this cycle: {sorted(missing)}")
    return found
