"""Queueing in the outbox (``mail.queue.enqueue``): a key is queued once, also when two
transactions queue it at the same moment; the message, its bytes and one row per address are
stored together, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from mail.compose import ComposedEmail
from mail.queue import enqueue
from models.cycles import open_cycle
from models.database import session_scope
from models.orm import Cycle, OutgoingMessage, OutgoingMessageBody, OutgoingRecipient
from tests.factories import PROGRAMME

NOW = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)


def email(number: int) -> ComposedEmail:
    raw = f"Subject: s\r\nMessage-ID: <m{number}@x.example>\r\n\r\nbody {number}\r\n".encode()
    return ComposedEmail(
        "s",
        ["a@x.example", "b@x.example"],
        cc=["a@x.example"],  # an address twice: one recipient row
        message_id=f"<m{number}@x.example>",
        raw=raw,
    )


def counts() -> tuple[int, int, int]:
    with session_scope() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table))
            for table in (OutgoingMessage, OutgoingMessageBody, OutgoingRecipient)
        )


def open_2026() -> int:
    with session_scope() as session:
        return open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)[0].id


def test_a_key_is_queued_once_with_its_bytes_and_one_row_per_address(db):
    cycle_id = open_2026()
    with session_scope() as session:
        cycle = session.get_one(Cycle, cycle_id)
        queued = enqueue(cycle, "notice", "x", email(1), session=session, rung=3, now=NOW)
        assert queued is not None and queued.message_id == "<m1@x.example>"
        assert enqueue(cycle, "notice", "x", email(2), session=session, rung=3, now=NOW) is None
        assert enqueue(cycle, "notice", "x", email(3), session=session, rung=4, now=NOW)
    assert counts() == (2, 2, 4)
    with session_scope() as session:
        message = session.get_one(OutgoingMessage, queued.id)
        assert (message.status, message.attempts, message.queued_at) == ("pending", 0, NOW)
        assert message.to_addrs == ["a@x.example", "b@x.example"]
        assert message.cc_addrs == ["a@x.example"]
        assert message.raw == email(1).raw
        assert [(r.address, r.status) for r in message.recipients] == [
            ("a@x.example", "pending"),
            ("b@x.example", "pending"),
        ]


def test_nothing_is_stored_when_the_callers_transaction_rolls_back(db):
    cycle_id = open_2026()
    with session_scope() as session:
        savepoint = session.begin_nested()
        enqueue(session.get_one(Cycle, cycle_id), "notice", "x", email(1), session=session, now=NOW)
        savepoint.rollback()
    assert counts() == (0, 0, 0)


def test_two_transactions_queueing_one_key_at_once_store_it_once(db):
    """The second waits for the first (PostgreSQL: the key's index entry; SQLite: the write
    lock), then finds the key queued: no error, no second message."""
    cycle_id = open_2026()
    first_queued, results, errors = threading.Event(), [], []

    def queue(number: int, hold: threading.Event | None) -> None:
        try:
            with session_scope(write=True) as session:
                cycle = session.get_one(Cycle, cycle_id)
                queued = enqueue(cycle, "notice", "x", email(number), session=session, now=NOW)
                results.append(queued)
                if hold is not None:
                    first_queued.set()
                    hold.wait(10)  # still uncommitted while the other one queues
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    release = threading.Event()
    first = threading.Thread(target=queue, args=(1, release))
    first.start()
    assert first_queued.wait(10)
    second = threading.Thread(target=queue, args=(2, None))
    second.start()
    second.join(0.5)  # it waits for the first transaction
    release.set()
    first.join(10)
    second.join(10)
    assert not errors
    assert [r.message_id if r else None for r in results] == ["<m1@x.example>", None]
    assert counts() == (1, 1, 2)
