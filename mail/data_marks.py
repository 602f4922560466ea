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
import threading

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
    one connection of their own by one thread (about 20 us a write, where a session and a
    pooled connection per write cost ten times that). The relay's acceptances ride along
    (``accepted``): a run killed before it records its batch leaves those messages sent.

    The thread is the run's own and takes what was asked for as soon as its last write is
    committed: on loopback most writes carry one or two marks, so the hand-over between the
    event loop and the thread is a large part of each (a thread pool's future chain cost
    about 40 us of CPU per round trip; a condition and one ``call_soon_threadsafe`` less)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._work = threading.Condition()  # guards the lists below and ``_closing``
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._accepted: list[dict[str, int | str]] = []  # key, reply
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        self._add(waiting=(key, future))
        return Mark(future)

    def accepted(self, key: int, reply: str) -> None:
        """The relay accepted the message for every recipient of the attempt: written with
        the next marks, nobody waits for it."""
        self._add(accepted={"key": key, "reply": reply})

    def _add(
        self,
        waiting: tuple[int, asyncio.Future[None]] | None = None,
        accepted: dict[str, int | str] | None = None,
    ) -> None:
        with self._work:
            if waiting is not None:
                self._waiting.append(waiting)
            if accepted is not None:
                self._accepted.append(accepted)
            if self._thread is None:
                self._loop = asyncio.get_running_loop()
                self._thread = threading.Thread(target=self._run, name="data-marks", daemon=True)
                self._thread.start()
            self._work.notify()

    def _run(self) -> None:
        """The writer thread: write what was asked for, tell the loop, until closed."""
        assert self._loop is not None
        try:
            while True:
                with self._work:
                    while not (self._waiting or self._accepted or self._closing):
                        self._work.wait()
                    if not (self._waiting or self._accepted):
                        return  # closing, nothing left
                    batch, self._waiting = self._waiting, []
                    accepted, self._accepted = self._accepted, []
                error: Exception | None = None
                try:
                    self._write([key for key, _ in batch], accepted)
                except Exception as exc:  # the database is gone: no data may leave unmarked
                    error = exc
                if batch:
                    try:
                        self._loop.call_soon_threadsafe(_settle, batch, error)
                    except RuntimeError:  # the loop is closed: nobody waits any more
                        return
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

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
        with self._work:
            self._closing = True
            self._work.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._engine is not None:
            self._engine.dispose()


def _settle(batch: list[tuple[int, asyncio.Future[None]]], error: Exception | None) -> None:
    """In the event loop: the marks of ``batch`` are committed (or could not be)."""
    for _, future in batch:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


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
