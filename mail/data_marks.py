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

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, event

from mail.outbox import MARK_DATA_SENT
from models.database import make_engine


class Mark:
    def __init__(self, future: asyncio.Future[None]):
        self._future = future

    async def wait(self) -> None:
        await self._future

    def cancel(self) -> None:
        """The caller no longer waits (its transaction ended); the write goes on."""
        if self._future.done() and not self._future.cancelled():
            self._future.exception()  # retrieved: no "never retrieved" warning


class DataSentMarks:
    """Group-committed ``data_sent_at`` marks for the outbox at ``database_url``, written on
    one connection of their own by one thread (about 40 us a write, where a session and a
    pooled connection per write cost ten times that)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="data-marks")
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((key, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        return Mark(future)

    async def _write_all(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await loop.run_in_executor(self._thread, self._write, [key for key, _ in batch])
            except Exception as exc:  # the database is gone: no data may leave unmarked
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _write(self, keys: list[int]) -> None:
        if self._connection is None:
            self._engine = self._engine or _marks_engine(self.database_url)
            self._connection = self._engine.connect()
            if self._connection.dialect.name == "postgresql":
                self._connection.exec_driver_sql("SET synchronous_commit TO OFF")
                self._connection.commit()
        try:
            self._connection.execute(MARK_DATA_SENT, {"keys": keys, "at": dt.datetime.now(dt.UTC)})
            self._connection.commit()
        except Exception:
            self._connection.close()  # a new one next time
            self._connection = None
            raise

    def close(self) -> None:
        """Release the connection and the thread (the delivery run is over)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._thread.submit(connection.close).result()
        self._thread.shutdown(wait=True)
        if self._engine is not None:
            self._engine.dispose()


def _marks_engine(url: str) -> Engine:
    """An engine whose commits survive this process being killed, without waiting for the
    disk: a mark guards against a crash of the sending process, not of the machine (which
    would lose the claim with it). PostgreSQL: ``synchronous_commit`` off on this
    connection; SQLite: ``synchronous=NORMAL`` (WAL: no flush per commit)."""
    engine = make_engine(url, pool_size=1)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_flush_per_commit(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine
