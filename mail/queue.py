"""Queueing in the outbox: messages stored with the change that causes them, one row per
recipient, and what the flows read back about them.

Sending them, and the bookkeeping of each attempt, is ``mail.delivery``, ``mail.outbox`` and
``mail.outcomes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from mail.allowed_domains import check_recipients
from mail.compose import ComposedEmail
from mail.wire import check_wire_form
from models.orm import (
    Agency,
    Cycle,
    DeliveryStatus,
    OutgoingMessage,
    OutgoingMessageBody,
    OutgoingRecipient,
)


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


@dataclass(frozen=True)
class QueuedMessage:
    """A message just stored in the outbox: its row and its Message-ID."""

    id: int
    message_id: str


_KEY = ("cycle_id", "kind", "recipient_key", "rung")  # the outbox's unique key
_MESSAGES, _BODIES, _RECIPIENTS = (
    OutgoingMessage.__table__,
    OutgoingMessageBody.__table__,
    OutgoingRecipient.__table__,
)
_INSERT_ONCE = {  # INSERT .. ON CONFLICT (key) DO NOTHING RETURNING id: no row when queued
    name: dialect_insert(_MESSAGES).on_conflict_do_nothing(index_elements=_KEY).returning(
        _MESSAGES.c.id
    )
    for name, dialect_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


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
) -> QueuedMessage | None:
    """Queue ``email`` under (cycle, kind, recipient, rung); None if that key is already queued.

    Three Core inserts in the caller's transaction (the message, its bytes, one row per
    address), no ORM object and no savepoint: the message's insert does nothing when the key
    is queued, also when another transaction queued it at the same moment (PostgreSQL waits
    for that one to end; SQLite has one writer at a time)."""
    check_recipients(email.to + email.cc)  # R42_MAIL__ALLOWED_DOMAINS: RecipientNotAllowed
    try:
        # What ``compose`` writes: every attempt then sends the stored bytes as they are,
        # without checking their framing again (``Envelope.wire_form``).
        check_wire_form(email.raw)
    except ValueError as exc:
        raise ValueError(f"message {email.message_id} ({kind} {recipient_key}): {exc}") from None
    connection = session.connection()
    key = connection.execute(
        _INSERT_ONCE[connection.dialect.name],
        {
            "cycle_id": cycle.id,
            "agency_id": agency.id if agency is not None else None,
            "kind": kind,
            "recipient_key": recipient_key,
            "rung": rung,
            "to_addrs": email.to,
            "cc_addrs": email.cc,
            "subject": email.subject,
            "message_id": email.message_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "queued_at": now,
        },
    ).scalar()
    if key is None:
        return None
    connection.execute(insert(_BODIES), {"message_id": key, "raw": email.raw})
    # Each address is accepted or refused on its own (one entry per address).
    connection.execute(
        insert(_RECIPIENTS),
        [
            {"message_id": key, "address": address, "status": DeliveryStatus.PENDING.value}
            for address in dict.fromkeys(email.to + email.cc)
        ],
    )
    return QueuedMessage(key, email.message_id)


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
