"""Recording what each attempt did: every recipient's outcome, then the message's standing.

The common case (every recipient accepted at the first attempt) is settled for good by the
run's marks as soon as the relay accepts (``write_sent``, from ``mail.data_marks``): the
recording then only reads, in one statement for the batch, which of them are settled
(``to_record``); one still waiting for the marks' next write is written here instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Update, bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from mail.plain_writes import executemany_plain, read_by_message
from mail.transport import DeliveryResult, Envelope
from models.orm import DeliveryStatus, OutgoingMessage, OutgoingRecipient
from models.orm.base import UTCDateTime

S = DeliveryStatus

# Every recipient accepted the message at its first attempt (one row per message, with the
# relay's reply; ``mail.plain_writes``), then its recipients. Only a message still being sent
# (claimed): whichever of the marks and the recording comes second changes nothing.
RECORD_SENT = (
    update(OutgoingMessage)
    .where(OutgoingMessage.id == bindparam("key"), OutgoingMessage.status == S.SENDING)
    .values(
        status=S.SENT,
        sent_at=bindparam("now", type_=UTCDateTime()),
        attempts=OutgoingMessage.attempts + 1,
        next_attempt_at=None,
        claim_token=None,
        data_sent_at=None,
        accepted_at=bindparam("at", type_=UTCDateTime()),
        last_reply=bindparam("reply"),
    )
)
RECORD_RECIPIENTS_SENT = (
    update(OutgoingRecipient)
    .where(OutgoingRecipient.message_id == bindparam("key"), OutgoingRecipient.status == S.PENDING)
    .values(status=S.SENT, settled_at=bindparam("at", type_=UTCDateTime()))
)


def _skip_locked(key: object) -> object:
    """The message ``key``, unless another transaction holds its row (PostgreSQL)."""
    return (
        select(OutgoingMessage.id)
        .where(OutgoingMessage.id == key)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


# The same for the marks' own connection on PostgreSQL, where rows are locked one by one: a
# message the run's session is recording at that moment is skipped, never waited for (it is
# being recorded anyway; waiting there while the run waits for a mark this connection holds
# was a deadlock). The recording locks a message before its recipients, so a message row this
# connection could lock has no recipient locked by the recording either.
RECORD_SENT_UNLOCKED = RECORD_SENT.where(OutgoingMessage.id == _skip_locked(bindparam("key")))
RECORD_RECIPIENTS_SENT_UNLOCKED = RECORD_RECIPIENTS_SENT.where(
    OutgoingRecipient.message_id == _skip_locked(bindparam("key"))
)


def write_sent(
    connection: Connection,
    accepted: Sequence[Mapping[str, int | str]],
    *,
    now: dt.datetime,
    at: dt.datetime,
    unlocked: bool = False,
) -> None:
    """Messages every recipient accepted at the first attempt (``key``, ``reply``): sent,
    with their recipients. ``now``: the run's sending time; ``at``: when the relay accepted.
    ``unlocked``: skip rows another transaction holds (the marks' connection on PostgreSQL)."""
    message = RECORD_SENT_UNLOCKED if unlocked else RECORD_SENT
    recipients = RECORD_RECIPIENTS_SENT_UNLOCKED if unlocked else RECORD_RECIPIENTS_SENT
    executemany_plain(connection, message, accepted, now=now, at=at)
    executemany_plain(connection, recipients, [{"key": a["key"]} for a in accepted], at=at)


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


def _settles_at_once(envelope: Envelope, result: DeliveryResult) -> bool:
    """Every recipient accepted the message at its first attempt."""
    first = not envelope.retry
    return result.attempted and result.status == S.SENT and not result.refused and first


# Which of the messages are no longer being sent (``mail.plain_writes.read_by_message``).
SETTLED = (
    f"SELECT id FROM {OutgoingMessage.__tablename__} "
    f"WHERE status != '{S.SENDING.value}' AND id {{keys}}"
)


def to_record(
    outcomes: Sequence[tuple[Envelope, DeliveryResult]], *, session: Session
) -> list[tuple[Envelope, DeliveryResult]]:
    """``outcomes`` but the messages the run's marks already settled as sent (one read for
    the batch: the recording then takes no writer turn for them)."""
    keys = [e.key for e, r in outcomes if _settles_at_once(e, r)]
    if not keys:
        return list(outcomes)
    rows = read_by_message(session.connection(), SETTLED, keys)
    settled = {key for (key,) in rows}
    return [(e, r) for e, r in outcomes if e.key not in settled]


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
        elif _settles_at_once(envelope, result):
            clean.append((envelope, result))
        else:
            rest.append((envelope, result))
    if clean:  # unless the run's marks settled them meanwhile (``RECORD_SENT``)
        rows = [{"key": e.key, "reply": r.reply} for e, r in clean]
        write_sent(session.connection(), rows, now=now, at=clock)
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
            recipient.last_reply = (
                f"gave up after {message.attempts} attempts: {recipient.last_reply}"
            )
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
