"""Before a message's data leaves, the outbox records that it may reach the relay.

A delivery run killed with ``kill -9`` leaves its claimed messages in "sending". Most of them
were never started; a few (one per connection) were in flight. The run therefore writes, and
commits, ``data_sent_at`` for each message before the data of that message is written to the
socket; when the claim's lease ends, only those become "unknown" and every other message goes
back to pending by itself (``mail.deliveries.expire_stale_claims``).

A commit per message would halve the sending rate, so marks are group-committed: each
connection asks for its message's mark when its transaction starts (MAIL, RCPT and DATA go
out meanwhile) and waits for it just before the data; all marks asked for while one write
is in flight go in the next write, one UPDATE for all of them.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import text

from models.database import session_scope
from mail.outbox import mark_data_sent


class Mark:
    def __init__(self, future: asyncio.Future[None]):
        self._future = future

    async def wait(self) -> None:
        await asyncio.shield(self._future)

    def cancel(self) -> None:
        """The caller no longer waits (its transaction ended); the write goes on."""
        if self._future.done() and not self._future.cancelled():
            self._future.exception()  # retrieved: no "never retrieved" warning


class DataSentMarks:
    """Group-committed ``data_sent_at`` marks for the outbox at ``database_url``."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((key, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        return Mark(future)

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self._write, [key for key, _ in batch])
            except Exception as exc:  # the database is gone: no data may leave unmarked
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _write(self, keys: list[int]) -> None:
        with session_scope(self.database_url) as session:
            if session.get_bind().dialect.name == "postgresql":
                # Survives this process being killed (the server has it); only a crash of the
                # database server itself could lose it, and with it the claim.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            mark_data_sent(keys, session=session, at=dt.datetime.now(dt.UTC))
