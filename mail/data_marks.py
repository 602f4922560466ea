"""Before a message's data leaves, the outbox records that it may reach the relay.

A delivery run killed with ``kill -9`` leaves its claimed messages in "sending". Most of them
were never started; a few (one per connection) were in flight. The run therefore writes, and
commits, ``data_sent_at`` for each message before the data of that message is written to the
socket; when the claim's lease ends, only those become "unknown" and every other message goes
back to pending by itself (``mail.deliveries.expire_stale_claims``).

A commit per message would halve the sending rate, so marks are group-committed: each
connection asks for its message's mark when its transaction starts (MAIL, RCPT and DATA go
out meanwhile) and waits for it just before the data; all marks asked for meanwhile go in one
write, one executemany for all of them (``mail.plain_writes``).

SQLite's marks are written in the event loop, PostgreSQL's by a thread of the run's own:
``mail.mark_writers`` says why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from mail.mark_writers import Accepted, Busy, InLoopWriter, ThreadWriter
from mail.outbox import MARK_ACCEPTED, MARK_ACCEPTED_UNLOCKED, MARK_DATA_SENT
from mail.outcomes import write_sent
from mail.plain_writes import executemany_plain
from models.database import make_engine, sqlite_writer_turn


class Mark:
    def __init__(self, future: asyncio.Future[None], needed: Callable[[], None]):
        self._future = future
        self._needed = needed

    async def wait(self) -> None:
        if not self._future.done():
            self._needed()
        await self._future

    def cancel(self) -> None:
        """The caller no longer waits (its transaction ended); the write goes on."""
        if self._future.done() and not self._future.cancelled():
            self._future.exception()  # retrieved: no "never retrieved" warning


class DataSentMarks:
    """Group-committed ``data_sent_at`` marks for the outbox at ``database_url``, written on
    one connection of their own. The relay's acceptances ride along (``accepted``): a message
    every recipient accepted at its first attempt is settled as sent there and then, at
    ``sent_at`` (the run's sending time), so the run's recording has nothing left to write for
    it, and a run killed before it records its batch leaves those messages sent."""

    def __init__(self, database_url: str, *, sent_at: dt.datetime):
        self.database_url = database_url
        self.sent_at = sent_at
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._writer: InLoopWriter | ThreadWriter | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        writer = self._writer_for_loop()
        writer.add(waiting=(key, future))
        return Mark(future, writer.needed)

    def accepted(self, key: int, reply: str, *, settles: bool) -> None:
        """The relay accepted the message for every recipient of the attempt: written with
        the next marks, nobody waits for it. ``settles``: they are all its recipients (its
        first attempt), so it is sent; else only the acceptance is written and the recording
        settles the message with its earlier recipients' outcomes."""
        self._writer_for_loop().add(accepted={"key": key, "reply": reply, "settles": settles})

    def _writer_for_loop(self) -> InLoopWriter | ThreadWriter:
        if self._writer is None:
            if make_url(self.database_url).get_backend_name() == "sqlite":
                turn = sqlite_writer_turn(self._marks_engine())
                self._writer = InLoopWriter(self._write, turn)
            else:
                self._writer = ThreadWriter(self._write, self._close_connection)
        return self._writer

    def _marks_engine(self) -> Engine:
        if self._engine is None:
            self._engine = _marks_engine(self.database_url)
        return self._engine

    def _write(self, keys: list[int], accepted: Accepted) -> None:
        """One transaction: the marks of ``keys``, the acceptances. Raises ``Busy`` (nothing
        written) when another writer holds SQLite."""
        if self._connection is None:
            self._connection = self._marks_engine().connect()
            if self._connection.dialect.name == "postgresql":
                self._connection.exec_driver_sql("SET synchronous_commit TO OFF")
                self._connection.commit()
        try:
            # One time for the write: accepted_at is within a write of the relay's reply.
            now = dt.datetime.now(dt.UTC)
            executemany_plain(self._connection, MARK_DATA_SENT, [{"key": k} for k in keys], at=now)
            postgresql = self._connection.dialect.name == "postgresql"
            sent = [a for a in accepted if a["settles"]]
            write_sent(self._connection, sent, now=self.sent_at, at=now, unlocked=postgresql)
            accepting = MARK_ACCEPTED_UNLOCKED if postgresql else MARK_ACCEPTED
            only = [a for a in accepted if not a["settles"]]
            executemany_plain(self._connection, accepting, only, at=now)
            self._connection.commit()
        except Exception as exc:
            if _is_busy(exc):
                self._connection.rollback()
                raise Busy() from exc
            self._close_connection()  # a new one next time
            raise

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def aclose(self) -> None:
        """Write what is left, then release the connection (the run is over)."""
        if self._writer is not None:
            await self._writer.aclose()
        self._close_connection()
        if self._engine is not None:
            self._engine.dispose()


def _is_busy(exc: BaseException) -> bool:
    cause = getattr(exc, "orig", None) or exc
    codes = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(cause, sqlite3.OperationalError) and cause.sqlite_errorcode in codes


def _marks_engine(url: str) -> Engine:
    """An engine whose commits survive this process being killed, without waiting for the
    disk: a mark guards against a crash of the sending process, not of the machine (which
    would lose the claim with it). PostgreSQL: ``synchronous_commit`` off on this
    connection; SQLite: ``durable=False`` (``models.database.make_engine``), no busy wait
    (the writer tries again instead of sleeping in the event loop) and no checkpoint: the
    commit that finds 1,000 pages in the WAL would copy them into the database file and sync
    it, 5-30 ms during which the event loop stood (7-13 times a 4,500-message run, 25-167 ms
    in all); the commits of the run's bookkeeping thread checkpoint instead (``mail.delivery``,
    SQLite's default: at 1,000 pages), as do the application's other writers."""
    engine = make_engine(url, pool_size=1, durable=False)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _in_the_loop(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA busy_timeout=0")
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    return engine
