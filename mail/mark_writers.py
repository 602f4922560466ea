"""How the data-sent marks of ``mail.data_marks`` get written: two writers, one per kind of
database, because what a write costs differs.

- SQLite (``InLoopWriter``): a write is a local call of about 20 us, so it runs in the event
  loop itself, when a connection needs its mark (its data is about to leave), for every mark
  asked for until then (3-4 a write on loopback). A thread would cost more than the write:
  the hand-over (a condition, ``call_soon_threadsafe``, the loop woken) and the GIL passed back
  and forth several times per message. The loop never blocks on the database: when another
  writer holds it, the write is tried again as soon as it is free.
- PostgreSQL (``ThreadWriter``): a write is a network round trip (a commit is two); in the
  loop every connection would stand still for it, so a thread of the run's own writes while
  the loop goes on, and takes what was asked for as soon as its last write is committed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from models.database import WriterTurn

Waiting = list[tuple[int, asyncio.Future[None]]]
Accepted = list[dict[str, int | str | bool]]  # key, reply, settles
Write = Callable[[list[int], Accepted], None]  # one transaction; raises Busy if SQLite is held
# SQLite held by another process: the marks are tried again after this, for up to BUSY_SECONDS
# (as long as a session waits for its turn: ``models.database``) before the run gives up.
RETRY_SECONDS = 0.001
BUSY_SECONDS = 30.0
# Acceptances alone, nobody waiting for a mark: written after this at the latest.
LINGER_SECONDS = 0.002


class Busy(Exception):
    """Another writer holds the SQLite database: nothing was written, try again."""


class InLoopWriter:
    """SQLite: the marks asked for are written in the loop when a connection needs one. The
    process's writer turn is taken without waiting (the run's own session may be recording,
    and SQLite's busy handler would sleep in the loop), as the next writer
    (``WriterTurn.take_next``): held, or the database held by another process, the write
    waits ``RETRY_SECONDS`` and tries again, and the run's bookkeeping waits for it."""

    def __init__(self, write: Write, turn: WriterTurn):
        self._write, self._turn = write, turn
        self._waiting: Waiting = []
        self._accepted: Accepted = []
        self._scheduled: asyncio.Handle | asyncio.TimerHandle | None = None
        self._busy_since: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(
        self,
        waiting: tuple[int, asyncio.Future[None]] | None = None,
        accepted: dict[str, int | str | bool] | None = None,
    ) -> None:
        if waiting is not None:
            self._waiting.append(waiting)
        if accepted is not None:
            self._accepted.append(accepted)
        if self._scheduled is None:
            self._loop = asyncio.get_running_loop()
            self._scheduled = self._loop.call_later(LINGER_SECONDS, self._flush)

    def _when_free(self) -> None:
        """From the thread that gave the writer turn back: try again now, not at the timer."""
        assert self._loop is not None  # set by the ``add`` that scheduled the write
        try:
            self._loop.call_soon_threadsafe(self._retry_now)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def _retry_now(self) -> None:
        if self._busy_since is not None and self._scheduled is not None:
            self._scheduled.cancel()
            self._flush()

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
        if not self._turn.take_next(self._when_free):
            error = Busy()
        else:
            try:
                self._write([key for key, _ in waiting], accepted)
            except Exception as exc:  # the database is gone: no data may leave unmarked
                error = exc
            finally:
                self._turn.give_back()
        if isinstance(error, Busy):
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


class ThreadWriter:
    """PostgreSQL: the run's own thread writes what was asked for as soon as its last write is
    committed (a condition and one ``call_soon_threadsafe`` a write; a thread pool's future
    chain cost about 40 us more of CPU per round trip)."""

    def __init__(self, write: Write, close: Callable[[], None]):
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
        accepted: dict[str, int | str | bool] | None = None,
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
