"""Recording what each attempt did: every recipient's outcome, then the message's standing.

The common case (every recipient accepted at the first attempt) is written in two
statements for the whole batch: the recipients, then each message with its own reply in one
executemany (``mail.plain_writes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from mail.plain_writes import executemany_plain
from mail.transport import DeliveryResult, Envelope
from models.orm import DeliveryStatus, OutgoingMessage, OutgoingRecipient
from models.orm.base import UTCDateTime

S = DeliveryStatus

# Every recipient accepted the message at its first attempt (one row per message, with the
# relay's reply; ``mail.plain_writes``).
RECORD_SENT = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"))
    .values(
        status=S.SENT,
        sent_at=bindparam("now", type_=UTCDateTime()),
        attempts=OutgoingMessage.attempts + 1,
        next_attempt_at=None,
        claim_token=None,
        data_sent_at=None,
        last_reply=bindparam("reply"),
    )
)
# Nothing was tried (the relay was unreachable or refused the run): due again at once, the
# delivery run itself waits before trying the relay again; the attempts stay.
RECORD_NOT_TRIED = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"))
    .values(
        status=S.PENDING,
        next_attempt_at=None,
        claim_token=None,
        data_sent_at=None,
        last_reply=bindparam("reply"),
    )
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
        session.connection().execute(
            update(OutgoingRecipient)
            .where(OutgoingRecipient.message_id.in_(keys), OutgoingRecipient.status == S.PENDING)
            .values(status=S.SENT, settled_at=clock)
        )
        _write_rows(session, RECORD_SENT, clean, now=now)
    if deferred:
        _write_rows(session, RECORD_NOT_TRIED, deferred)
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


def _write_rows(
    session: Session,
    statement: Update,
    outcomes: list[tuple[Envelope, DeliveryResult]],
    **shared: object,
) -> None:
    """``statement`` for each message of the batch with its own reply, in one executemany."""
    rows = [{"key": e.key, "reply": r.reply} for e, r in outcomes]
    executemany_plain(session.connection(), statement, rows, **shared)


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
