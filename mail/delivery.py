"""Send what the outbox holds for a cycle and record what became of each message."""

from __future__ import annotations

import asyncio
import datetime as dt

from config.settings import MailSettings
from mail.transport import DeliveryResult, Transport
from models.database import session_scope
from models.messages import pending_envelopes, record_results


def deliver_pending(
    cycle_id: int,
    *,
    transport: Transport,
    settings: MailSettings,
    now: dt.datetime,
    batch_size: int = 500,
) -> list[DeliveryResult]:
    """Send every pending message of the cycle, a batch at a time, committing after each batch."""
    results: list[DeliveryResult] = []
    attempted: set[str] = set()
    while True:
        with session_scope() as session:
            envelopes = [
                e
                for e in pending_envelopes(
                    cycle_id,
                    settings.sender_address,
                    session=session,
                    limit=batch_size + len(attempted),
                )
                if e.message_id not in attempted
            ][:batch_size]
        if not envelopes:
            return results
        batch = asyncio.run(transport.deliver(envelopes))
        attempted.update(e.message_id for e in envelopes)
        with session_scope() as session:
            record_results(batch, session=session, max_attempts=settings.max_attempts, now=now)
        results.extend(batch)
