"""Claiming from the outbox (``mail.outbox.claim_due``): a cycle's due messages in queue order,
at most the limit, each by one run; a run's own claims settled through its cycle; on SQLite the
claim reads ``ix_outgoing_message_due`` in order, with no sort."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event, update

from mail.deliveries import settle_own_claims
from mail.outbox import Sending, claim_due
from mail.queue import enqueue
from models.database import get_engine, session_scope
from models.orm import Cycle, OutgoingMessage
from tests.test_outbox_queue import NOW, email, open_2026

CLOCK = dt.datetime(2026, 11, 20, 4, tzinfo=dt.UTC)


def queue(count: int) -> tuple[int, list[int]]:
    cycle_id = open_2026()
    with session_scope() as session:
        cycle = session.get_one(Cycle, cycle_id)
        keys = [
            enqueue(cycle, "notice", "x", email(n), session=session, rung=n, now=NOW).id
            for n in range(count)
        ]
    return cycle_id, keys


def claim(cycle_id: int, limit: int, token: str) -> list[int]:
    with session_scope(write=True) as session:
        sending = Sending(cycle_id, "p-", "s@x.example")
        claimed = claim_due(sending, session=session, limit=limit, token=token, clock=CLOCK)
    return [c.key for c in claimed]


def test_claims_take_due_messages_in_queue_order_each_once(db):
    cycle_id, keys = queue(6)
    with session_scope() as session:
        message = update(OutgoingMessage)
        later = CLOCK + dt.timedelta(minutes=5)
        session.execute(message.where(OutgoingMessage.id == keys[1]).values(next_attempt_at=later))
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id == keys[2])
            .values(next_attempt_at=CLOCK - dt.timedelta(minutes=1))
        )
        session.execute(
            update(OutgoingMessage).where(OutgoingMessage.id == keys[3]).values(status="sent")
        )
    assert claim(cycle_id, 2, "run-a") == [keys[0], keys[2]]
    assert claim(cycle_id, 5, "run-b") == [keys[4], keys[5]]
    assert claim(cycle_id, 5, "run-c") == []  # keys[1] is not due, keys[3] was sent
    with session_scope() as session:
        assert settle_own_claims(cycle_id, "run-a", session=session) == 0
        rows = {m.id: (m.status, m.claim_token) for m in session.query(OutgoingMessage)}
    assert rows[keys[0]] == rows[keys[2]] == ("pending", None)  # settled back: no data sent
    assert rows[keys[4]] == rows[keys[5]] == ("sending", "run-b")  # another run's claims stay
    assert rows[keys[1]] == ("pending", None)


# SQLite only: EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's plan follows its statistics.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_claim_reads_the_due_index_in_order_without_sorting(db):
    cycle_id, _ = queue(3)
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, *_):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", seen)  # whichever engine the session uses
    try:
        assert len(claim(cycle_id, 2, "run-a")) == 2
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert statements, "no statement seen"
    statement, parameters = next(s for s in statements if "UPDATE outgoing_message" in s[0])
    with get_engine().connect() as connection:
        explained = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = [row[3] for row in explained]
    assert any("USING COVERING INDEX ix_outgoing_message_due" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan  # nothing sorted
    assert not any(step.startswith("SCAN outgoing_message") for step in plan), plan
