"""The outbox: messages stored with the change that causes them, and their delivery state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mail.allowed_domains import check_recipients
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
    check_recipients(email.to + email.cc)  # R42_MAIL__ALLOWED_DOMAINS: RecipientNotAllowed
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


def _envelope(message: OutgoingMessage, sender: str) -> Envelope:
    rung = message.rung
    suffix = f"-{rung:+d}" if message.kind == "reminder" else f"-{rung}" if rung else ""
    return Envelope(
        message_id=message.message_id,
        # The programme first: two programmes may share an agency code (outbox file names).
        name=f"{message.cycle.programme.code}-{message.cycle.year}-{message.cycle.kind}-"
        f"{message.kind}-{message.recipient_key}{suffix}",
        # Bounces go to the programme's own address where its registry names one.
        sender=message.cycle.registry_version.document.get("sender_address") or sender,
        recipients=list(message.to_addrs) + list(message.cc_addrs),
        raw=message.raw,
    )


def claim_due(
    cycle_id: int, sender: str, *, session: Session, limit: int, token: str, clock: dt.datetime
) -> list[Envelope]:
    """Mark up to ``limit`` due messages as being sent by this run, and return them.

    One UPDATE claims the rows, so two runs never claim the same message: PostgreSQL skips rows
    another run has locked, SQLite serialises writers.
    """
    due = (
        select(OutgoingMessage.id)
        .where(
            OutgoingMessage.cycle_id == cycle_id,
            OutgoingMessage.status == DeliveryStatus.PENDING,
            (OutgoingMessage.next_attempt_at.is_(None))
            | (OutgoingMessage.next_attempt_at <= clock),
        )
        .order_by(OutgoingMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=clock,
            attempts=OutgoingMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(OutgoingMessage)
        .where(
            OutgoingMessage.claim_token == token, OutgoingMessage.status == DeliveryStatus.SENDING
        )
        .order_by(OutgoingMessage.id)
    )
    return [_envelope(m, sender) for m in rows]


def record_results(
    results: list[DeliveryResult],
    *,
    session: Session,
    max_attempts: int,
    now: dt.datetime,
    clock: dt.datetime,
    retry_base_seconds: float,
) -> None:
    """Store each outcome; a temporary failure waits (doubling) for another try, up to a limit."""
    by_id = {r.message_id: r for r in results}
    rows = session.scalars(select(OutgoingMessage).where(OutgoingMessage.message_id.in_(by_id)))
    for message in rows:
        result = by_id[message.message_id]
        message.last_reply, message.status, message.claim_token = result.reply, result.status, None
        if result.status == DeliveryStatus.SENT:
            message.sent_at = now
        elif result.status == DeliveryStatus.PENDING:
            if message.attempts >= max_attempts:
                message.status = DeliveryStatus.FAILED
                message.last_reply = f"gave up after {message.attempts} attempts: {result.reply}"
            delay = retry_base_seconds * 2 ** (message.attempts - 1)
            message.next_attempt_at = clock + dt.timedelta(seconds=delay)
    session.flush()


def expire_stale_claims(cycle_id: int, *, session: Session, older_than: dt.datetime) -> int:
    """Claims no run recorded (the process died while sending): the outcome is unknown."""
    result = session.execute(
        update(OutgoingMessage)
        .where(
            OutgoingMessage.cycle_id == cycle_id,
            OutgoingMessage.status == DeliveryStatus.SENDING,
            OutgoingMessage.claimed_at < older_than,
        )
        .values(
            status=DeliveryStatus.UNKNOWN,
            claim_token=None,
            last_reply="the delivery run stopped before recording the outcome",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def next_retry(cycle_id: int, *, session: Session) -> dt.datetime | None:
    """When the cycle's earliest waiting retry falls due, if any message waits."""
    return session.scalar(
        select(func.min(OutgoingMessage.next_attempt_at)).where(
            OutgoingMessage.cycle_id == cycle_id, OutgoingMessage.status == DeliveryStatus.PENDING
        )
    )


def undelivered(cycle_id: int, *, session: Session) -> list[OutgoingMessage]:
    """Messages of the cycle that failed for good or whose outcome is unknown."""
    return list(
        session.scalars(
            select(OutgoingMessage)
            .where(
                OutgoingMessage.cycle_id == cycle_id,
                OutgoingMessage.status.in_([DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN]),
            )
            .order_by(OutgoingMessage.id)
        )
    )


def release(message: OutgoingMessage, *, session: Session) -> None:
    """A person decided to try a failed or unknown message again."""
    if message.status not in (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN):
        raise ValueError(f"message {message.message_id} is {message.status}, not failed/unknown")
    message.status, message.next_attempt_at, message.attempts = DeliveryStatus.PENDING, None, 0
    session.flush()


def delivery_counts(cycle_id: int, *, session: Session) -> dict[str, int]:
    """Message count per delivery status for the cycle."""
    rows = session.execute(
        select(OutgoingMessage.status, func.count())
        .where(OutgoingMessage.cycle_id == cycle_id)
        .group_by(OutgoingMessage.status)
    )
    return {status: count for status, count in rows}
