"""Before a message's data leaves, the outbox records that it may reach the relay.

A delivery run killed with ``kill -9`` leaves its claimed messages in "sending". Most of them
were never started; a few (one per connection) were in flight. The run therefore writes, and
commits, ``data_sent_at`` for each message before the data of that message is written to the
socket; when the claim's lease ends, only those become "unknown" and every other message goes
back to pending by itself (``mail.deliveries.expire_stale_claims``).

A commit per message would halve the sending rate, so marks are group-committed: each
connection asks for its message's mark when its transaction starts (MAIL, RCPT and DATA go
out meanwhile) and waits for it just before the data; all marks asked for while one write
is in flight go in the next write, one executemany for all of them (``mail.plain_writes``).
"""

from __future__ import annotations

import asyncio
import datetime as dt

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, event

from mail.outbox import MARK_ACCEPTED, MARK_ACCEPTED_UNLOCKED, MARK_DATA_SENT
from mail.plain_writes import executemany_plain
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
    pooled connection per write cost ten times that). The relay's acceptances ride along
    (``accepted``): a run killed before it records its batch leaves those messages sent."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._accepted: list[dict[str, int | str]] = []  # key, reply
        self._writer: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="data-marks")
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((key, future))
        self._start_writer()
        return Mark(future)

    def accepted(self, key: int, reply: str) -> None:
        """The relay accepted the message for every recipient of the attempt: written with
        the next marks, nobody waits for it."""
        self._accepted.append({"key": key, "reply": reply})
        self._start_writer()

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())

    async def _write_all(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting or self._accepted:
            batch, self._waiting = self._waiting, []
            accepted, self._accepted = self._accepted, []
            keys = [key for key, _ in batch]
            try:
                await loop.run_in_executor(self._thread, self._write, keys, accepted)
            except Exception as exc:  # the database is gone: no data may leave unmarked
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _write(self, keys: list[int], accepted: list[dict[str, int | str]]) -> None:
        if self._connection is None:
            self._engine = self._engine or _marks_engine(self.database_url)
            self._connection = self._engine.connect()
            if self._connection.dialect.name == "postgresql":
                self._connection.exec_driver_sql("SET synchronous_commit TO OFF")
                self._connection.commit()
        try:
            # One time for the write: accepted_at is within a write of the relay's reply.
            now = dt.datetime.now(dt.UTC)
            executemany_plain(self._connection, MARK_DATA_SENT, [{"key": k} for k in keys], at=now)
            postgresql = self._connection.dialect.name == "postgresql"
            accepting = MARK_ACCEPTED_UNLOCKED if postgresql else MARK_ACCEPTED
            executemany_plain(self._connection, accepting, accepted, at=now)
            self._connection.commit()
        except Exception:
            self._connection.close()  # a new one next time
            self._connection = None
            raise

    async def aclose(self) -> None:
        """Write what is left, then release the connection and the thread (the run is over)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        connection, self._connection = self._connection, None
        loop = asyncio.get_running_loop()
        if connection is not None:
            await loop.run_in_executor(self._thread, connection.close)
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
