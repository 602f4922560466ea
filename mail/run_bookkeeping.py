"""What a delivery run (``mail.delivery``) does in its bookkeeping thread, each step its own
short transaction: settle dead claims as the run starts, record outcomes and claim the next
batch while a batch goes out, settle what the run still holds if it stops early."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select

from config.mail_settings import MailSettings
from mail.deliveries import expire_stale_claims, settle_own_claims
from mail.outbox import (
    Claimed,
    Sending,
    claim_due,
    envelopes_for,
    next_retry,
    note_waiting,
    sending_for,
)
from mail.outcomes import record_results, to_record
from mail.transport import DeliveryResult, Envelope
from models.database import session_scope
from models.orm import DeliveryStatus, OutgoingMessage

Outcomes = list[tuple[Envelope, DeliveryResult]]


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# A claim of the cycle, past its lease or of one run: rare, so a run first looks for one with
# one read of ``ix_outgoing_message_due`` before it settles any (a write: SQLite's one writer).
_STALE_CLAIM = (
    select(OutgoingMessage.id)
    .where(
        OutgoingMessage.cycle_id == bindparam("cycle"),
        OutgoingMessage.status == DeliveryStatus.SENDING,
        OutgoingMessage.claimed_at < bindparam("older_than"),
    )
    .limit(1)
)
_OWN_CLAIM = (
    select(OutgoingMessage.id)
    .where(
        OutgoingMessage.cycle_id == bindparam("cycle"),
        OutgoingMessage.status == DeliveryStatus.SENDING,
        OutgoingMessage.claim_token == bindparam("token"),
    )
    .limit(1)
)


def prepare_run(
    cycle_id: int,
    settings: MailSettings,
    older_than: dt.datetime,
    sendings: dict[int, Sending] | None = None,
) -> tuple[int, Sending]:
    """Settle the cycle's claims whose run died (how many became unknown), and what the
    cycle's envelopes share (from ``sendings`` when a runner read it already)."""
    unknown = 0
    with session_scope() as session:
        stale = session.scalar(_STALE_CLAIM, {"cycle": cycle_id, "older_than": older_than})
        sending = sendings.get(cycle_id) if sendings is not None else None
        if sending is None:
            sending = sending_for(cycle_id, settings.sender_address, session=session)
    if stale is not None:
        with session_scope(write=True) as session:
            unknown = expire_stale_claims(cycle_id, session=session, older_than=older_than)
    if sendings is not None:
        sendings[cycle_id] = sending
    return unknown, sending


# Messages a bookkeeping transaction writes at most: SQLite's one writer turn is held about
# 10 us a message, and the run's data-sent marks wait for it (``mail.data_marks``).
WRITE_CHUNK = 128


def record_and_claim(
    outcomes: Outcomes,
    sending: Sending,
    limit: int,
    settings: MailSettings,
    token: str,
    now: dt.datetime,
) -> list[Envelope]:
    """Store ``outcomes`` (those the run's marks did not settle already), then claim up to
    ``limit`` due messages, then read the claimed messages' bytes. The writes go
    in transactions of ``WRITE_CHUNK`` messages, not flushed to the disk (``durable=False``,
    as the run's marks), so that SQLite's one writer turn is never held long: the run's
    data-sent marks are written in between."""
    if outcomes:
        with session_scope(durable=False) as session:  # a read: no writer turn
            outcomes = to_record(outcomes, session=session)
    for start in range(0, len(outcomes), WRITE_CHUNK):
        with session_scope(write=True, durable=False) as session:
            record_results(
                outcomes[start : start + WRITE_CHUNK],
                session=session,
                max_attempts=settings.max_attempts,
                now=now,
                clock=wall_clock(),
                retry_base_seconds=settings.retry_base_seconds,
            )
    claimed: list[Claimed] = []
    while len(claimed) < limit:
        chunk = min(WRITE_CHUNK, limit - len(claimed))
        with session_scope(write=True, durable=False) as session:
            part = claim_due(sending, session=session, limit=chunk, token=token, clock=wall_clock())
        claimed += part
        if len(part) < chunk:
            break
    if not claimed:
        return []
    with session_scope(durable=False) as session:
        return envelopes_for(sending, claimed, session=session)


def settle_run(cycle_id: int, token: str) -> None:
    """What the run still holds (only when it stopped early): one read when it holds nothing."""
    with session_scope() as session:
        if session.scalar(_OWN_CLAIM, {"cycle": cycle_id, "token": token}) is None:
            return
    with session_scope(write=True) as session:
        settle_own_claims(cycle_id, token, session=session)


def note_run_waiting(cycle_id: int, reason: str) -> None:
    with session_scope() as session:
        note_waiting(cycle_id, reason, session=session)


def next_retry_at(cycle_id: int) -> dt.datetime | None:
    with session_scope() as session:
        return next_retry(cycle_id, session=session)
