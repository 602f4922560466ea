"""Send what the outbox holds for a cycle, claiming messages so that no two runs send one."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from config.settings import MailSettings, get_settings
from mail.transport import DeliveryResult, Envelope, Transport, transport_from_settings
from models.database import session_scope
from models.messages import claim_due, expire_stale_claims, next_retry, record_results

T = TypeVar("T")


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def deliver_configured(cycle_id: int, *, now: dt.datetime) -> list[DeliveryResult]:
    """Send the cycle's due messages with the transport the settings name."""
    settings = get_settings().mail
    return deliver_pending(
        cycle_id, transport=transport_from_settings(settings), settings=settings, now=now
    )


def deliver_pending(
    cycle_id: int, *, transport: Transport, settings: MailSettings, now: dt.datetime
) -> list[DeliveryResult]:
    """Send every due message of the cycle; retry temporary failures within the run's budget.

    ``now`` is the cycle's clock (simulated in the demo) recorded as the sending time; claims
    and retries run on the wall clock.
    """
    return run_loop(_deliver_pending(cycle_id, transport, settings, now))


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a delivery in its own event loop: uvloop's where installed (its per-message overhead
    is about a third lower than asyncio's: benchmarks/README.md), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def _deliver_pending(
    cycle_id: int, transport: Transport, settings: MailSettings, now: dt.datetime
) -> list[DeliveryResult]:
    token = str(uuid.uuid4())
    deadline = time.monotonic() + settings.retry_wait_seconds
    lease = dt.timedelta(seconds=settings.claim_lease_seconds)
    await asyncio.to_thread(_expire, cycle_id, wall_clock() - lease)
    results: list[DeliveryResult] = []
    try:
        while True:
            envelopes = await asyncio.to_thread(_claim, cycle_id, settings, token)
            if envelopes:
                batch = await transport.deliver(envelopes)
                await asyncio.to_thread(_record, batch, settings, now)
                results.extend(batch)
                continue
            due = await asyncio.to_thread(_next_retry, cycle_id)
            if due is None:
                return results
            wait = max((due - wall_clock()).total_seconds(), 0)
            if time.monotonic() + wait > deadline:
                return results  # the next run tries again
            await asyncio.sleep(wait)
    finally:
        await transport.aclose()


def _expire(cycle_id: int, older_than: dt.datetime) -> None:
    with session_scope() as session:
        expire_stale_claims(cycle_id, session=session, older_than=older_than)


def _claim(cycle_id: int, settings: MailSettings, token: str) -> list[Envelope]:
    with session_scope() as session:
        return claim_due(
            cycle_id,
            settings.sender_address,
            session=session,
            limit=settings.claim_batch,
            token=token,
            clock=wall_clock(),
        )


def _record(batch: list[DeliveryResult], settings: MailSettings, now: dt.datetime) -> None:
    with session_scope() as session:
        record_results(
            batch,
            session=session,
            max_attempts=settings.max_attempts,
            now=now,
            clock=wall_clock(),
            retry_base_seconds=settings.retry_base_seconds,
        )


def _next_retry(cycle_id: int) -> dt.datetime | None:
    with session_scope() as session:
        return next_retry(cycle_id, session=session)
