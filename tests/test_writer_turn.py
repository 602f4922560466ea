"""The process's turn to write a SQLite database (models.database.WriterTurn): a writer that
asked to go next (a delivery run's data-sent marks, in its event loop) goes before the
writers that come after it, and is told as soon as the turn is free."""

from __future__ import annotations

import threading
import time

from models.database import WriterTurn


def _writer(turn: WriterTurn, order: list[str], name: str, hold: threading.Event | None = None):
    """A transaction in another thread; with ``hold``, it lasts until ``hold`` is set."""
    holding = threading.Event()

    def write() -> None:
        with turn:
            holding.set()
            order.append(name)
            if hold is not None:
                hold.wait(5)

    thread = threading.Thread(target=write)
    thread.start()
    if hold is not None:
        assert holding.wait(1)
    return thread


def test_a_writer_that_asked_to_go_next_goes_before_the_writers_after_it():
    turn, order, end, free = WriterTurn(), [], threading.Event(), threading.Event()
    first = _writer(turn, order, "first", hold=end)  # a transaction in progress
    assert not turn.take_next(free.set)  # the marks ask: the turn is held
    following = _writer(turn, order, "following")
    time.sleep(0.1)
    assert not free.is_set()
    end.set()
    first.join(1)
    assert free.wait(1)  # told as soon as the transaction ended
    time.sleep(0.1)
    assert order == ["first"]  # the following writer still waits for the marks
    assert turn.take_next()
    order.append("marks")
    turn.give_back()
    following.join(1)
    assert order == ["first", "marks", "following"]


def test_a_nested_transaction_of_the_owner_does_not_wait_and_an_unclaimed_ask_expires():
    turn, order = WriterTurn(), []
    with turn:
        asked: list[bool] = []
        marks = threading.Thread(target=lambda: asked.append(turn.take_next()))
        marks.start()
        marks.join(1)
        assert asked == [False]  # asked to go next, and never comes back for the turn
        started = time.monotonic()
        with turn:  # the owner's nested transaction: no wait, or it would wait for itself
            order.append("nested")
        assert time.monotonic() - started < 0.5
    turn.NEXT_SECONDS = 0.3
    started = time.monotonic()
    _writer(turn, order, "after").join(2)  # waits for the ask to expire, not for ever
    assert order == ["nested", "after"]
    assert time.monotonic() - started < 1.5
