"""A delivery run keeps one batch claimed ahead, handed to the transport behind the batch
being sent: what that costs when the run dies, and that it sends each message once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from mail.delivery import deliver_pending
from models.database import session_scope
from models.orm import DeliveryStatus, OutgoingMessage
from mail.transport import SmtpTransport
from tests.servers import SmtpServer
from tests.test_delivery_faults import (  # noqa: F401 - the fixture
    KILLABLE,
    NOW,
    copies,
    counts,
    deliver,
    queued,
    use_smtp,
)

BATCH = 4


def test_kill_9_leaves_only_the_batch_ahead_claimed_and_it_goes_back_to_pending(
    queued, configure  # noqa: F811
):
    """Batches of 4 on one connection, the process killed with kill -9 in the middle. At that
    moment at most the batch being sent, the batch ahead and one being claimed are
    "sending", and only the message in flight (and an acceptance not yet written) carries a
    data-sent mark. After the lease those few are unknown; every other claimed message is
    pending again, by itself, and the next run sends it once."""
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(
            configure, server.port, smtp_connections=1, claim_batch=BATCH, claim_lease_seconds=1
        )
        server.handler.data_delay = 0.2  # slow enough to be killed in the middle
        child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(cycle_id)], env=os.environ)
        while len(server.received) < 6:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        with session_scope() as session:
            claimed = session.execute(
                select(OutgoingMessage.id, OutgoingMessage.data_sent_at).where(
                    OutgoingMessage.cycle_id == cycle_id,
                    OutgoingMessage.status == DeliveryStatus.SENDING,
                )
            ).all()
        marked = [key for key, data_sent_at in claimed if data_sent_at is not None]
        assert 0 < len(claimed) <= 3 * BATCH and len(marked) <= 2
        before = counts(cycle_id)
        time.sleep(1.2)  # the lease ends
        server.handler.data_delay = 0
        run = deliver(cycle_id)
    assert run.unknown_after_crash == len(marked)  # never a message that had not started
    after = counts(cycle_id)
    assert after == {
        "sent": len(emails) - len(marked),
        **({"unknown": len(marked)} if marked else {}),
    }
    assert before["sending"] == len(claimed)
    got = copies(server)
    assert all(n == 1 for n in got.values()) and len(got) >= len(emails) - len(marked)


def test_batches_grow_from_a_small_first_claim_and_each_message_goes_once(
    queued, configure, monkeypatch  # noqa: F811
):
    """The first claim is small, so that sending starts at once; the next claims double up to
    ``claim_batch``; each batch is handed to the transport while the one before it is still
    being sent, and every message arrives once."""
    import mail.delivery
    from config.settings import get_settings
    from mail.configured import transport_from_settings

    monkeypatch.setattr(mail.delivery, "FIRST_CLAIM", 2)
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, smtp_connections=2, claim_batch=8)
        server.handler.data_delay = 0.05  # each batch takes a while to send
        settings = get_settings()
        transport = transport_from_settings(
            settings.mail, database_url=settings.database.url, now=NOW
        )
        deliver_batch = transport.deliver
        calls: list[tuple[int, int]] = []  # (size, batches not yet returned when handed over)
        running = 0

        async def counting(envelopes):
            nonlocal running
            calls.append((len(envelopes), running))
            running += 1
            try:
                return await deliver_batch(envelopes)
            finally:
                running -= 1

        transport.deliver = counting
        deliver_pending(cycle_id, transport=transport, settings=settings.mail, now=NOW)
    sizes = [2, 4, 8, 8, 8]
    rest = len(emails) - sum(sizes[:-1])
    assert [size for size, _ in calls] == [*sizes[:-1], rest] and 0 < rest <= 8
    assert [ahead for _, ahead in calls] == [0] + [1] * (len(calls) - 1)
    assert counts(cycle_id) == {"sent": len(emails)}
    assert copies(server) == {e: 1 for e in emails}


def test_a_mark_that_cannot_be_written_fails_every_batch_handed_over_and_sends_nothing_unmarked():
    """Two batches handed to the transport at once; the outbox goes away at the third mark:
    both calls fail with that error, the third message's data never leaves, and no message
    queued behind it is tried."""
    import asyncio

    from tests.test_transport import envelope, smtp_settings

    class Gone(Exception):
        pass

    class Marks:
        """Data-sent marks whose database goes away at the third message."""

        def __init__(self):
            self.asked = 0

        def request(self, key):
            self.asked += 1
            failing = self.asked >= 3

            class Mark:
                async def wait(self):
                    if failing:
                        raise Gone("the outbox is gone")

                def cancel(self):
                    pass

            return Mark()

        def accepted(self, key, reply, *, settles):
            pass

        async def aclose(self):
            pass

    with SmtpServer() as server:
        settings = smtp_settings(server.port, smtp_connections=1)
        envelopes = [envelope(settings, to=f"vanthu{i}@xa{i}.example", number=i) for i in range(6)]
        transport = SmtpTransport(settings, before_data=Marks())

        async def run():
            first = asyncio.ensure_future(transport.deliver(envelopes[:3]))
            ahead = asyncio.ensure_future(transport.deliver(envelopes[3:]))
            try:
                return await asyncio.gather(first, ahead, return_exceptions=True)
            finally:
                await transport.aclose()

        outcomes = asyncio.run(run())
    assert [type(o) for o in outcomes] == [Gone, Gone]
    assert len(server.received) == 2  # the two marked before the outbox went away
