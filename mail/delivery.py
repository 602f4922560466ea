"""Send what the outbox holds for a cycle, claiming messages so that no two runs send one."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, select

from config.mail_settings import MailSettings
from config.settings import get_settings
from mail.configured import transport_from_settings
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
from mail.transport import (
    DeliveryResult,
    Envelope,
    Transport,
    deferred,
)
from models.database import session_scope
from models.orm import DeliveryStatus, OutgoingMessage

T = TypeVar("T")
Outcomes = list[tuple[Envelope, DeliveryResult]]


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class DeliveryRun:
    """What one delivery run did: the last outcome of each message it tried, and why it
    stopped early, if it did."""

    results: list[DeliveryResult] = field(default_factory=list)
    # The relay refused this installation (login, certificate): a person must act; every
    # message is still pending and goes out on the first run after the fix.
    refused: str | None = None
    # The relay could not be reached for the whole run: the next run tries again.
    unavailable: str | None = None
    # Messages of runs that died while their data may have been on the way (see release).
    unknown_after_crash: int = 0

    @property
    def stopped(self) -> str | None:
        return self.refused or self.unavailable


def deliver_configured(cycle_id: int, *, now: dt.datetime) -> DeliveryRun:
    """Send the cycle's due messages with the transport and database the settings name."""
    settings = get_settings()
    transport = transport_from_settings(settings.mail, database_url=settings.database.url, now=now)
    return deliver_pending(cycle_id, transport=transport, settings=settings.mail, now=now)


def deliver_pending(
    cycle_id: int,
    *,
    transport: Transport,
    settings: MailSettings,
    now: dt.datetime,
    loop: asyncio.AbstractEventLoop | None = None,
    sendings: dict[int, Sending] | None = None,
) -> DeliveryRun:
    """Send every due message of the cycle; retry temporary failures within the run's budget.

    ``now`` is the cycle's clock (simulated in the demo) recorded as the sending time; claims
    and retries run on the wall clock. The run has an event loop of its own, or runs in
    ``loop``, kept by a caller that runs one after another (``mail.runner``), as is
    ``sendings``: what each cycle's envelopes share, read by an earlier run.
    """
    coroutine = _deliver_pending(cycle_id, transport, settings, now, sendings)
    return run_loop(coroutine) if loop is None else loop.run_until_complete(coroutine)


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a delivery in its own event loop (``new_event_loop``)."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(coroutine)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's where installed (its per-message overhead is about a third lower than
    asyncio's: benchmarks/README.md), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


# The first claim of a run: small, so that sending starts at once (one message for each of up
# to 32 connections); each next claim doubles, up to ``claim_batch``.
FIRST_CLAIM = 32


@dataclass
class Batch:
    """A claimed batch: its envelopes and, once handed to the transport, their sending."""

    envelopes: list[Envelope]
    sending: asyncio.Future[list[DeliveryResult]] | None = None

    @staticmethod
    def of(envelopes: list[Envelope]) -> Batch | None:
        return Batch(envelopes) if envelopes else None

    def send(self, transport: Transport) -> Batch:
        if self.sending is None:
            self.sending = asyncio.ensure_future(transport.deliver(self.envelopes))
        return self

    async def outcomes(self, transport: Transport) -> Outcomes:
        sending = self.send(transport).sending
        assert sending is not None  # set by send
        return list(zip(self.envelopes, await sending))

    def stop(self) -> None:
        """The run stops: stop sending (the claims are settled by the run)."""
        if self.sending is None:
            return
        if not self.sending.done():
            self.sending.cancel()
        elif not self.sending.cancelled():
            self.sending.exception()  # retrieved (the error is the run's own)


async def _deliver_pending(
    cycle_id: int,
    transport: Transport,
    settings: MailSettings,
    now: dt.datetime,
    sendings: dict[int, Sending] | None = None,
) -> DeliveryRun:
    """Claim, send, record, batch after batch. One batch is claimed ahead while one is sent;
    a transport that takes batches ahead (``SmtpTransport``: they queue behind the batch
    being sent, on the same connections) gets it as soon as it is claimed, so that no
    connection waits between batches. While it goes out, the batch before it is recorded and
    the next one claimed (in the bookkeeping thread). Claimed but never started, the batch
    ahead goes back to pending by itself if the run dies (it has no data-sent marks)."""
    token = str(uuid.uuid4())
    deadline = time.monotonic() + settings.retry_wait_seconds
    lease = dt.timedelta(seconds=settings.claim_lease_seconds)
    run = DeliveryRun()
    run.unknown_after_crash, sending = await asyncio.to_thread(
        _prepare, cycle_id, settings, wall_clock() - lease, sendings
    )
    size = min(FIRST_CLAIM, settings.claim_batch)
    ahead = getattr(transport, "takes_batches_ahead", False)

    async def step(outcomes: Outcomes, claim: bool = True) -> list[Envelope]:
        """Record ``outcomes``, then claim the next batch (unless ``claim`` is False)."""
        nonlocal size
        limit = size if claim else 0
        if claim:
            size = min(size * 2, settings.claim_batch)
        return await asyncio.to_thread(
            _record_and_claim, outcomes, sending, limit, settings, token, now
        )

    last: dict[str, DeliveryResult] = {}
    outcomes: Outcomes = []  # sent, not yet recorded
    current: Batch | None = None
    following: Batch | None = None
    backoff = settings.retry_base_seconds
    try:
        current = Batch.of(await step([]))
        while True:
            if current is None:
                await step(outcomes, False)
                outcomes = []
                due = await asyncio.to_thread(_next_retry, cycle_id)
                if due is None:
                    return run
                wait = max((due - wall_clock()).total_seconds(), 0)
                if time.monotonic() + wait > deadline:
                    return run  # the next run tries again
                await asyncio.sleep(wait)
                current = Batch.of(await step([]))
                continue
            current.send(transport)
            claimed = await step(outcomes)
            outcomes = []
            following = Batch.of(claimed)
            if following is not None and ahead:
                following.send(transport)
            outcomes = await current.outcomes(transport)
            untried = [r.reply for _, r in outcomes if not r.attempted]
            if following is not None and (transport.refusal or untried):
                if following.sending is not None:  # what it tried stands
                    outcomes += await following.outcomes(transport)
                else:  # not tried either
                    reason = transport.refusal or untried[0]
                    outcomes += [(e, deferred(e, reason)) for e in following.envelopes]
                following = None
            last.update((r.message_id, r) for _, r in outcomes)
            if transport.refusal is not None:
                run.refused = transport.refusal
                return run
            untried = [r.reply for _, r in outcomes if not r.attempted]
            if untried:
                # The relay is down or busy: wait before trying it again, not per message.
                await step(outcomes, False)
                outcomes = []
                if time.monotonic() + backoff > deadline:
                    run.unavailable = untried[0]
                    await asyncio.to_thread(_note_waiting, cycle_id, untried[0])
                    return run
                await asyncio.sleep(backoff)
                backoff *= 2
                following = Batch.of(await step([]))
            else:
                backoff = settings.retry_base_seconds
            current, following = following, None
    finally:
        try:
            for left in (current, following):
                if left is not None:
                    left.stop()  # an error: what it holds is settled below
            if outcomes:
                await step(outcomes, False)
        finally:
            try:
                await transport.aclose()  # its last acceptances written first
            finally:
                # Stopped early (cancelled, an error): what this run still holds is settled
                # now, not after the lease; nothing is left over when the run ends normally.
                await asyncio.to_thread(_settle_own, cycle_id, token)
                run.results = list(last.values())


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


def _prepare(
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


def _record_and_claim(
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


def _settle_own(cycle_id: int, token: str) -> None:
    """What the run still holds (only when it stopped early): one read when it holds nothing."""
    with session_scope() as session:
        if session.scalar(_OWN_CLAIM, {"cycle": cycle_id, "token": token}) is None:
            return
    with session_scope(write=True) as session:
        settle_own_claims(cycle_id, token, session=session)


def _note_waiting(cycle_id: int, reason: str) -> None:
    with session_scope() as session:
        note_waiting(cycle_id, reason, session=session)


def _next_retry(cycle_id: int) -> dt.datetime | None:
    with session_scope() as session:
        return next_retry(cycle_id, session=session)
