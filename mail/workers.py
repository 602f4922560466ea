"""Sending from several processes: one event loop, with its own pooled connections, per process.

One event loop sends at most one message's worth of CPU at a time: on a fast local server it
tops out on one core (benchmarks/README.md). With ``smtp_processes`` above 1 each batch is
split over that many worker processes, each running an ``SmtpTransport`` whose connections
stay open between batches; every outcome comes back to the delivery run, which records it as
before. A worker that dies takes its messages' outcomes with it: their claims expire and they
are listed unknown, as when the delivery run itself dies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from config.mail_settings import MailSettings
from mail.event_loop import new_event_loop
from mail.transport import DeliveryResult, Envelope, SmtpTransport

_loop: asyncio.AbstractEventLoop | None = None
_transport: SmtpTransport | None = None


def _start(
    settings: MailSettings, owner: int, database_url: str | None, now: dt.datetime | None
) -> None:
    """In a worker: one event loop and one transport for the life of the process; it marks
    each message in the outbox itself before the message's data leaves."""
    global _loop, _transport
    _loop = new_event_loop()
    marks = None
    if database_url is not None and now is not None:
        from mail.data_marks import DataSentMarks

        marks = DataSentMarks(database_url, sent_at=now)
    _transport = SmtpTransport(settings, before_data=marks)
    multiprocessing.util.Finalize(None, _stop, exitpriority=10)  # QUIT when the pool shuts down
    threading.Thread(target=_watch, args=(owner,), daemon=True).start()


def _watch(owner: int) -> None:
    """Leave when the delivery process is gone (killed): nobody would read the results, and
    a pool's worker otherwise waits for work forever. Its claims expire as unknown."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(1)


def _stop() -> None:
    if _loop is not None and _transport is not None:
        _loop.run_until_complete(_transport.aclose())
        _loop.close()


def _deliver(envelopes: list[Envelope]) -> tuple[list[DeliveryResult], str | None]:
    assert _loop is not None and _transport is not None
    _transport.refusal = None  # a new batch of a new run may find the relay fixed
    results = _loop.run_until_complete(_transport.deliver(envelopes))
    return results, _transport.refusal


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server rather than from this process or spawned afresh.

    The fork server starts once per process and holds no threads (a plain fork of a Prefect
    process would copy its threads' locks); workers forked from it start in milliseconds
    where ``spawn`` re-imports everything for each.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])  # children inherit both
    return context


class MultiProcessSmtpTransport:
    """``SmtpTransport`` in ``settings.smtp_processes`` worker processes (started on first use)."""

    def __init__(
        self,
        settings: MailSettings,
        *,
        database_url: str | None = None,
        now: dt.datetime | None = None,
    ):
        self.settings = settings
        self.database_url = database_url
        self.now = now
        self.refusal: str | None = None
        self._pool: ProcessPoolExecutor | None = None

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        if not envelopes:
            return []
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.settings.smtp_processes,
                mp_context=_context(),
                initializer=_start,
                initargs=(self.settings, os.getpid(), self.database_url, self.now),
            )
        count = min(self.settings.smtp_processes, len(envelopes))
        loop = asyncio.get_running_loop()
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(self._pool, _deliver, list(envelopes[i::count]))
                for i in range(count)
            )
        )
        results = {r.message_id: r for part, _ in parts for r in part}
        self.refusal = next((refusal for _, refusal in parts if refusal), None)
        return [results[e.message_id] for e in envelopes]

    async def aclose(self) -> None:
        """Stop the workers; each says QUIT on its open connections first."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True)
