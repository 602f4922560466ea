"""Delivery bookkeeping of the outbox: claim what is due, record outcomes per recipient,
recover from runs that died, and let a person release what failed.

A message is claimed by one run at a time. Each attempt goes to the recipients still pending,
with the stored bytes and Message-ID; every recipient's outcome is kept
(``OutgoingRecipient``), and the message is settled (sent, partial, failed or unknown) only
when all its recipients are. Outcomes are written per batch: the common case (every recipient
accepted on the first attempt) in two UPDATE statements for the whole batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from mail.transport import DeliveryResult, Envelope
from models.orm.base import UTCDateTime
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
        cycle.registry_version.document.get("sender_address") or default_sender,
    )


def _name(prefix: str, kind: str, recipient_key: str, rung: int) -> str:
    suffix = f"-{rung:+d}" if kind == "reminder" else f"-{rung}" if rung else ""
    return f"{prefix}{kind}-{recipient_key}{suffix}"


def claim_due(
    sending: Sending, *, session: Session, limit: int, token: str, clock: dt.datetime
) -> list[Envelope]:
    """Mark up to ``limit`` due messages as being sent by this run, and return them, each
    addressed to its recipients still pending.

    One UPDATE claims the rows, so two runs never claim the same message: PostgreSQL skips rows
    another run has locked, SQLite serialises writers.
    """
    due = (
        select(OutgoingMessage.id)
        .where(
            OutgoingMessage.cycle_id == sending.cycle_id,
            OutgoingMessage.status == S.PENDING,
            (OutgoingMessage.next_attempt_at.is_(None))
            | (OutgoingMessage.next_attempt_at <= clock),
        )
        .order_by(OutgoingMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.id.in_(due.scalar_subquery()))
        .values(
            status=S.SENDING,
            claim_token=token,
            claimed_at=clock,
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
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    keys = [row.id for row in claimed]
    bodies = session.execute(
        select(OutgoingMessageBody.message_id, OutgoingMessageBody.raw).where(
            OutgoingMessageBody.message_id.in_(keys)
        )
    )
    raw = {key: body for key, body in bodies}
    waiting: dict[int, list[str]] = {row.id: [] for row in claimed}
    earlier: set[int] = set()
    recipients = session.execute(
        select(OutgoingRecipient.message_id, OutgoingRecipient.address, OutgoingRecipient.status)
        .where(OutgoingRecipient.message_id.in_(waiting))
        .order_by(OutgoingRecipient.id)
    )
    for message_id, address, status in recipients:
        if status == S.PENDING:
            waiting[message_id].append(address)
        else:
            earlier.add(message_id)
    return [
        Envelope(
            message_id=row.message_id,
            name=_name(sending.prefix, row.kind, row.recipient_key, row.rung),
            sender=sending.sender,
            recipients=waiting[row.id],
            raw=raw[row.id],
            key=row.id,
            retry=row.id in earlier,
            wire_form=True,  # ``mail.queue.enqueue`` stores nothing else
        )
        for row in sorted(claimed, key=lambda row: row.id)
    ]


# The data of these claimed messages may leave from now on (``mail.data_marks``).
MARK_DATA_SENT = (
    update(OutgoingMessage)
    .where(
        OutgoingMessage.id.in_(bindparam("keys", expanding=True)),
        OutgoingMessage.status == S.SENDING,
    )
    .values(data_sent_at=bindparam("at", type_=UTCDateTime()))
    .execution_options(synchronize_session=False)
)
# The relay accepted this claimed message for every recipient of the attempt (executemany).
MARK_ACCEPTED = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"), OutgoingMessage.status == S.SENDING)
    .values(accepted_at=bindparam("at", type_=UTCDateTime()), last_reply=bindparam("reply"))
    .execution_options(synchronize_session=False)
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
    .execution_options(synchronize_session=False)
)


def record_results(
    outcomes: Sequence[tuple[Envelope, DeliveryResult]],
    *,
    session: Session,
    max_attempts: int,
    now: dt.datetime,
    clock: dt.datetime,
    retry_base_seconds: float,
) -> None:
    """Store each attempt's outcome: per recipient, then the message's standing.

    A temporary failure waits (doubling) for another try, up to ``max_attempts``; a message
    nothing was tried for (relay unreachable, or it refused this run) keeps its attempts.
    """
    clean, deferred, rest = [], [], []
    for envelope, result in outcomes:
        if not result.attempted:
            deferred.append((envelope, result))
        elif result.status == S.SENT and not result.refused and not envelope.retry:
            clean.append((envelope, result))  # every recipient accepted at the first attempt
        else:
            rest.append((envelope, result))
    if clean:
        keys = [e.key for e, _ in clean]
        session.execute(
            update(OutgoingRecipient)
            .where(OutgoingRecipient.message_id.in_(keys), OutgoingRecipient.status == S.PENDING)
            .values(status=S.SENT, settled_at=clock)
            .execution_options(synchronize_session=False)
        )
        _update_messages(
            clean,
            session,
            status=S.SENT,
            sent_at=now,
            attempts=OutgoingMessage.attempts + 1,
            next_attempt_at=None,
        )
    if deferred:
        # Due again at once: the delivery run itself waits before trying the relay again.
        _update_messages(deferred, session, status=S.PENDING, next_attempt_at=None)
    if rest:
        by_key = {e.key: (e, r) for e, r in rest}
        messages = session.scalars(
            select(OutgoingMessage)
            .where(OutgoingMessage.id.in_(by_key))
            .options(selectinload(OutgoingMessage.recipients))
        )
        for message in messages:
            envelope, result = by_key[message.id]
            _record_one(message, envelope, result, max_attempts, now, clock, retry_base_seconds)
    session.flush()


def _update_messages(
    outcomes: list[tuple[Envelope, DeliveryResult]], session: Session, **values: object
) -> None:
    """One UPDATE statement for the batch (executed for each message with its own reply)."""
    statement = (
        update(OutgoingMessage)
        .where(OutgoingMessage.id == bindparam("key"))
        .values(claim_token=None, data_sent_at=None, last_reply=bindparam("reply"), **values)
    )
    session.connection().execute(
        statement, [{"key": e.key, "reply": r.reply} for e, r in outcomes]
    )


def _record_one(
    message: OutgoingMessage,
    envelope: Envelope,
    result: DeliveryResult,
    max_attempts: int,
    now: dt.datetime,
    clock: dt.datetime,
    retry_base_seconds: float,
) -> None:
    message.attempts += 1
    message.claim_token, message.data_sent_at = None, None
    outcomes = result.outcomes(envelope.recipients)
    for recipient in message.recipients:
        if recipient.address in outcomes and recipient.status == S.PENDING:
            recipient.status, recipient.last_reply = outcomes[recipient.address]
            if recipient.status != S.PENDING:
                recipient.settled_at = clock
    waiting = [r for r in message.recipients if r.status == S.PENDING]
    if waiting and message.attempts >= max_attempts:
        for recipient in waiting:
            recipient.status, recipient.settled_at = S.FAILED, clock
            recipient.last_reply = f"gave up after {message.attempts} attempts: {recipient.last_reply}"
        waiting = []
    message.last_reply = (
        "; ".join(f"{address}: {reply}" for address, (_, reply) in outcomes.items())
        if result.refused
        else result.reply
    )
    if waiting:
        message.status = S.PENDING
        delay = retry_base_seconds * 2 ** (message.attempts - 1)
        message.next_attempt_at = clock + dt.timedelta(seconds=delay)
        return
    message.status = settled_status([r.status for r in message.recipients])
    message.next_attempt_at = None
    if message.status in (S.SENT, S.PARTIAL):
        message.sent_at = now


def settled_status(statuses: Sequence[str]) -> DeliveryStatus:
    """The message's standing once none of its recipients waits."""
    if S.UNKNOWN in statuses:
        return S.UNKNOWN  # a person decides before anything is sent again
    if all(status == S.SENT for status in statuses):
        return S.SENT
    if all(status == S.FAILED for status in statuses):
        return S.FAILED
    return S.PARTIAL


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
