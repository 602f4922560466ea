"""Send what the outbox holds for a cycle, claiming messages so that no two runs send one."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

from config.mail_settings import MailSettings
from config.settings import get_settings
from mail.configured import transport_from_settings
from mail.event_loop import run_loop
from mail.outbox import Sending
from mail.run_bookkeeping import (
    Outcomes,
    next_retry_at,
    note_run_waiting,
    prepare_run,
    record_and_claim,
    settle_run,
    wall_clock,
)
from mail.transport import DeliveryResult, Envelope, Transport, deferred


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
        prepare_run, cycle_id, settings, wall_clock() - lease, sendings
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
            record_and_claim, outcomes, sending, limit, settings, token, now
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
                due = await asyncio.to_thread(next_retry_at, cycle_id)
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
                    await asyncio.to_thread(note_run_waiting, cycle_id, untried[0])
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
                await asyncio.to_thread(settle_run, cycle_id, token)
                run.results = list(last.values())
