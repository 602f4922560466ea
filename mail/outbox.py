"""Delivery bookkeeping of the outbox: claim what is due, and the marks a run writes while
its data leaves.

A message is claimed by one run at a time. Each attempt goes to the recipients still pending,
with the stored bytes and Message-ID; every recipient's outcome is kept
(``OutgoingRecipient``, recorded by ``mail.outcomes``), and the message is settled (sent,
partial, failed or unknown) only when all its recipients are. Crashed runs and releases:
``mail.deliveries``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from mail.plain_writes import read_by_message
from mail.transport import Envelope
from models.orm.base import UTCDateTime
from models.registry_cache import registry_facts
from models.orm import (
    Cycle,
    DeliveryStatus,
    OutgoingMessage,
    OutgoingMessageBody,
    OutgoingRecipient,
)

S = DeliveryStatus


@dataclass(frozen=True)
class Sending:
    """What every envelope of a cycle shares: its file-name prefix and envelope sender."""

    cycle_id: int
    prefix: str
    sender: str


def sending_for(cycle_id: int, default_sender: str, *, session: Session) -> Sending:
    cycle = session.get_one(Cycle, cycle_id)
    return Sending(
        cycle_id,
        # The programme first: two programmes may share an agency code (outbox file names).
        f"{cycle.programme.code}-{cycle.year}-{cycle.kind}-",
        # Bounces go to the programme's own address where its registry names one.
        registry_facts(cycle).sender.get("sender_address") or default_sender,
    )


def _name(prefix: str, kind: str, recipient_key: str, rung: int) -> str:
    suffix = f"-{rung:+d}" if kind == "reminder" else f"-{rung}" if rung else ""
    return f"{prefix}{kind}-{recipient_key}{suffix}"


def claim_due(
    sending: Sending, *, session: Session, limit: int, token: str, clock: dt.datetime
) -> list[Claimed]:
    """Mark up to ``limit`` due messages as being sent by this run, and return them (their
    envelopes: :func:`envelopes_for`).

    One statement claims the rows, so two runs never claim the same message: PostgreSQL skips
    rows another run has locked, SQLite serialises writers. The due rows are read in queue
    order straight from ``ix_outgoing_message_due`` (nothing sorted) and taken once, as a
    common table expression: on PostgreSQL ``id IN (subquery)`` was a hash join over a scan
    of the whole outbox, every year's messages, at every claim. Nothing else is in the
    transaction, so that the caller can commit at once and hold SQLite's one writer turn
    briefly (the run's data-sent marks wait for it, ``mail.data_marks``): the messages' bytes
    are read after the commit. The statement is built once (``CLAIM``): built at each claim,
    SQLAlchemy spent more on it than SQLite on the claim, inside the write transaction.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows = session.connection().execute(  # Core: no ORM machinery per batch
        CLAIM_SKIP_LOCKED if postgresql else CLAIM,
        {"cycle": sending.cycle_id, "due_by": clock, "limit": limit, "run_token": token},
    )
    return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.key)


def _claim(*, skip_locked: bool) -> Update:
    """The claim of :func:`claim_due`, its values bound at each call."""
    due = (
        select(OutgoingMessage.id)
        .where(
            OutgoingMessage.cycle_id == bindparam("cycle"),
            OutgoingMessage.status == S.PENDING,
            (OutgoingMessage.next_attempt_at.is_(None))
            | (OutgoingMessage.next_attempt_at <= bindparam("due_by", type_=UTCDateTime())),
        )
        .order_by(OutgoingMessage.id)
        .limit(bindparam("limit"))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    claiming = due.cte("due")
    return (
        update(OutgoingMessage)
        .where(OutgoingMessage.id == claiming.c.id)
        .values(
            status=S.SENDING,
            claim_token=bindparam("run_token"),
            claimed_at=bindparam("due_by", type_=UTCDateTime()),
            data_sent_at=None,
            accepted_at=None,
        )
        .returning(
            OutgoingMessage.id,
            OutgoingMessage.message_id,
            OutgoingMessage.kind,
            OutgoingMessage.recipient_key,
            OutgoingMessage.rung,
        )
    )


CLAIM = _claim(skip_locked=False)
CLAIM_SKIP_LOCKED = _claim(skip_locked=True)  # PostgreSQL: rows another run holds are skipped


@dataclass(frozen=True)
class Claimed:
    """A message this run claimed."""

    key: int
    message_id: str
    kind: str
    recipient_key: str
    rung: int


def envelopes_for(sending: Sending, claimed: list[Claimed], *, session: Session) -> list[Envelope]:
    """The claimed messages' envelopes, each addressed to its recipients still pending, with
    its stored bytes."""
    if not claimed:
        return []
    keys = [c.key for c in claimed]
    connection = session.connection()
    raw = dict(read_by_message(connection, BODIES, keys))
    waiting: dict[int, list[str]] = {key: [] for key in keys}
    earlier: set[int] = set()
    for message_id, address, status in read_by_message(connection, RECIPIENTS, keys):
        if status == S.PENDING:
            waiting[message_id].append(address)
        else:
            earlier.add(message_id)
    return [
        Envelope(
            message_id=c.message_id,
            name=_name(sending.prefix, c.kind, c.recipient_key, c.rung),
            sender=sending.sender,
            recipients=waiting[c.key],
            raw=raw[c.key],
            key=c.key,
            retry=c.key in earlier,
            wire_form=True,  # ``mail.queue.enqueue`` stores nothing else
        )
        for c in claimed
    ]


# What ``envelopes_for`` reads of the claimed messages (``mail.plain_writes.read_by_message``).
BODIES = (
    f"SELECT message_id, raw FROM {OutgoingMessageBody.__tablename__} WHERE message_id {{keys}}"
)
RECIPIENTS = (
    f"SELECT message_id, address, status FROM {OutgoingRecipient.__tablename__} "
    "WHERE message_id {keys} ORDER BY id"
)


# The data of this claimed message may leave from now on (``mail.data_marks``; one row per
# message, ``mail.plain_writes``).
MARK_DATA_SENT = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"), OutgoingMessage.status == S.SENDING)
    .values(data_sent_at=bindparam("at", type_=UTCDateTime()))
)
# The relay accepted this claimed message for every recipient of the attempt.
MARK_ACCEPTED = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"), OutgoingMessage.status == S.SENDING)
    .values(accepted_at=bindparam("at", type_=UTCDateTime()), last_reply=bindparam("reply"))
)
# The same on PostgreSQL, where rows are locked one by one: a row the run is recording at that
# moment (its own session holds it) is skipped, never waited for. Its outcome is being written
# anyway, and waiting there while the run waits for a mark this connection holds was a
# deadlock. (SQLite locks the whole database for a writer: no such crossing, no subquery cost.)
MARK_ACCEPTED_UNLOCKED = (
    update(OutgoingMessage)
    .where(
        OutgoingMessage.id
        == select(OutgoingMessage.id)
        .where(OutgoingMessage.id == bindparam("key"), OutgoingMessage.status == S.SENDING)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(accepted_at=bindparam("at", type_=UTCDateTime()), last_reply=bindparam("reply"))
)


def note_waiting(cycle_id: int, reason: str, *, session: Session) -> None:
    """Say on every pending message of the cycle why it is still waiting (the relay)."""
    session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status == S.PENDING)
        .values(last_reply=f"waiting for the relay: {reason}")
        .execution_options(synchronize_session=False)
    )


def next_retry(cycle_id: int, *, session: Session) -> dt.datetime | None:
    """When the cycle's earliest waiting retry falls due, if any message waits."""
    return session.scalar(
        select(func.min(OutgoingMessage.next_attempt_at)).where(
            OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status == S.PENDING
        )
    )
