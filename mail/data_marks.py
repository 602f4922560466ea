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

Two writers, one per kind of database, because what a write costs differs:

- SQLite (``_InLoopWriter``): a write is a local call of about 20 us, so it runs in the event
  loop itself, once per loop iteration for every mark asked for during it. A thread would cost
  more than the write: the hand-over (a condition, ``call_soon_threadsafe``, the loop woken)
  and the GIL passed back and forth several times per message. The loop never blocks on the
  database: when another writer holds it, the write is tried again a moment later.
- PostgreSQL (``_ThreadWriter``): a write is a network round trip (a commit is two); in the
  loop every connection would stand still for it, so a thread of the run's own writes while
  the loop goes on, and takes what was asked for as soon as its last write is committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from mail.outbox import MARK_ACCEPTED, MARK_ACCEPTED_UNLOCKED, MARK_DATA_SENT
from mail.plain_writes import executemany_plain
from models.database import WriterTurn, make_engine, sqlite_writer_turn

Waiting = list[tuple[int, asyncio.Future[None]]]
Accepted = list[dict[str, int | str]]  # key, reply
# SQLite held by another writer: the marks are tried again after this, for up to BUSY_SECONDS
# (as long as a session waits for its turn: ``models.database``) before the run gives up.
RETRY_SECONDS = 0.001
# A mark is written when a connection needs it (its data is about to leave), with every mark
# asked for until then; acceptances alone, nobody waiting, after this at the latest.
LINGER_SECONDS = 0.002
BUSY_SECONDS = 30.0


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
    one connection of their own. The relay's acceptances ride along (``accepted``): a run
    killed before it records its batch leaves those messages sent."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._writer: _InLoopWriter | _ThreadWriter | None = None

    def request(self, key: int) -> Mark:
        future = asyncio.get_running_loop().create_future()
        writer = self._writer_for_loop()
        writer.add(waiting=(key, future))
        return Mark(future, writer.needed)

    def accepted(self, key: int, reply: str) -> None:
        """The relay accepted the message for every recipient of the attempt: written with
        the next marks, nobody waits for it."""
        self._writer_for_loop().add(accepted={"key": key, "reply": reply})

    def _writer_for_loop(self) -> _InLoopWriter | _ThreadWriter:
        if self._writer is None:
            if make_url(self.database_url).get_backend_name() == "sqlite":
                turn = sqlite_writer_turn(self._marks_engine())
                self._writer = _InLoopWriter(self._write, turn)
            else:
                self._writer = _ThreadWriter(self._write, self._close_connection)
        return self._writer

    def _marks_engine(self) -> Engine:
        if self._engine is None:
            self._engine = _marks_engine(self.database_url)
        return self._engine

    def _write(self, keys: list[int], accepted: Accepted) -> None:
        """One transaction: the marks of ``keys``, the acceptances. Raises ``_Busy`` (nothing
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
            accepting = MARK_ACCEPTED_UNLOCKED if postgresql else MARK_ACCEPTED
            executemany_plain(self._connection, accepting, accepted, at=now)
            self._connection.commit()
        except Exception as exc:
            if _is_busy(exc):
                self._connection.rollback()
                raise _Busy() from exc
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


class _Busy(Exception):
    """Another writer holds the SQLite database: nothing was written, try again."""


def _is_busy(exc: BaseException) -> bool:
    cause = getattr(exc, "orig", None) or exc
    codes = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(cause, sqlite3.OperationalError) and cause.sqlite_errorcode in codes


class _InLoopWriter:
    """SQLite: the marks asked for are written in the loop when a connection needs one. The
    process's writer turn is taken without waiting (the run's own session may be recording,
    and SQLite's busy handler would sleep in the loop), as the next writer
    (``WriterTurn.take_next``): held, or the database held by another process, the write
    waits ``RETRY_SECONDS`` and tries again, and the run's bookkeeping waits for it."""

    def __init__(self, write: Callable[[list[int], Accepted], None], turn: WriterTurn):
        self._write, self._turn = write, turn
        self._waiting: Waiting = []
        self._accepted: Accepted = []
        self._scheduled: asyncio.Handle | asyncio.TimerHandle | None = None
        self._busy_since: float | None = None

    def add(
        self,
        waiting: tuple[int, asyncio.Future[None]] | None = None,
        accepted: dict[str, int | str] | None = None,
    ) -> None:
        if waiting is not None:
            self._waiting.append(waiting)
        if accepted is not None:
            self._accepted.append(accepted)
        if self._scheduled is None:
            loop = asyncio.get_running_loop()
            self._scheduled = loop.call_later(LINGER_SECONDS, self._flush)

    def needed(self) -> None:
        """A connection is about to send its data: write now (unless waiting for a turn)."""
        if self._busy_since is None:
            if self._scheduled is not None:
                self._scheduled.cancel()
            self._flush()

    def _flush(self) -> None:
        self._scheduled = None
        if not (self._waiting or self._accepted):
            return
        waiting, accepted = self._waiting, self._accepted
        error: Exception | None = None
        if not self._turn.take_next():
            error = _Busy()
        else:
            try:
                self._write([key for key, _ in waiting], accepted)
            except Exception as exc:  # the database is gone: no data may leave unmarked
                error = exc
            finally:
                self._turn.give_back()
        if isinstance(error, _Busy):
            now = time.monotonic()
            self._busy_since = self._busy_since or now
            if now - self._busy_since < BUSY_SECONDS:
                loop = asyncio.get_running_loop()
                self._scheduled = loop.call_later(RETRY_SECONDS, self._flush)
                return
            error = TimeoutError(f"the database stayed locked for {BUSY_SECONDS:g} s")
        self._busy_since = None
        self._waiting, self._accepted = [], []
        _settle(waiting, error)

    async def aclose(self) -> None:
        while self._scheduled is not None or self._waiting or self._accepted:
            if self._scheduled is None:
                self._flush()
            else:
                await asyncio.sleep(RETRY_SECONDS)


class _ThreadWriter:
    """PostgreSQL: the run's own thread writes what was asked for as soon as its last write is
    committed (a condition and one ``call_soon_threadsafe`` a write; a thread pool's future
    chain cost about 40 us more of CPU per round trip)."""

    def __init__(self, write: Callable[[list[int], Accepted], None], close: Callable[[], None]):
        self._write, self._close = write, close
        self._work = threading.Condition()  # guards the lists below and ``_closing``
        self._waiting: Waiting = []
        self._accepted: Accepted = []
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def add(
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

    def needed(self) -> None:
        """Written as soon as the thread can: nothing to hurry."""

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
            self._close()

    async def aclose(self) -> None:
        with self._work:
            self._closing = True
            self._work.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)


def _settle(batch: Waiting, error: Exception | None) -> None:
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
    connection; SQLite: ``durable=False`` (``models.database.make_engine``), and no busy wait
    (the writer tries again instead of sleeping in the event loop)."""
    engine = make_engine(url, pool_size=1, durable=False)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_busy_wait(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine
