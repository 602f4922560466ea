"""The marks a delivery run writes on its own connection never wait on a row the run's session
is recording: on PostgreSQL that wait, crossed with the session waiting on a mark, was a
deadlock that stopped the run (seen in CI with 23 messages, 4 a batch)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, text, update

from config.settings import get_settings
from mail.data_marks import DataSentMarks
from mail.outcomes import record_results
from mail.transport import DeliveryResult, Envelope
from models.database import get_engine, session_scope
from models.orm import DeliveryStatus, OutgoingMessage
from tests.test_delivery_faults import NOW, queued  # noqa: F401


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_acceptance_skips_a_row_the_run_is_recording_instead_of_waiting(queued):  # noqa: F811
    cycle_id, _ = queued
    with session_scope() as session:
        first, second = session.scalars(
            select(OutgoingMessage.id).where(OutgoingMessage.cycle_id == cycle_id).limit(2)
        ).all()
        session.execute(update(OutgoingMessage).values(status=DeliveryStatus.SENDING))
    url = get_settings().database.url
    recording = get_engine(url).connect()  # the run's session, in the middle of its batch
    recording.execute(
        text("UPDATE outgoing_message SET last_reply = 'recording' WHERE id = :id"), {"id": first}
    )

    async def mark() -> None:
        marks = DataSentMarks(url, sent_at=NOW)
        marks.accepted(first, "250 queued", settles=False)  # held by the recording: skipped
        marks.accepted(second, "250 queued", settles=False)
        await asyncio.wait_for(marks.request(second).wait(), 10)  # written with the marks
        await asyncio.wait_for(marks.aclose(), 10)

    try:
        asyncio.run(mark())  # a wait on the held row would time out here
    finally:
        recording.commit()
        recording.close()
    with session_scope() as session:
        rows = {
            m.id: m
            for m in session.scalars(
                select(OutgoingMessage).where(OutgoingMessage.id.in_([first, second]))
            )
        }
    assert rows[first].accepted_at is None and rows[first].last_reply == "recording"
    assert rows[second].accepted_at is not None and rows[second].last_reply == "250 queued"
    assert rows[second].data_sent_at is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_mark_waits_for_another_writer_without_stopping_the_event_loop(queued):  # noqa: F811
    """SQLite marks are written in the event loop: while another writer holds the database,
    the loop goes on (other connections keep sending) and the mark is written once it is
    free, never before; the data that waits for it never leaves unmarked."""
    cycle_id, _ = queued
    with session_scope() as session:
        key = session.scalar(
            select(OutgoingMessage.id).where(OutgoingMessage.cycle_id == cycle_id).limit(1)
        )
        session.execute(update(OutgoingMessage).values(status=DeliveryStatus.SENDING))
    url = get_settings().database.url
    other = get_engine(url).connect()  # another process's post, say
    other.exec_driver_sql("BEGIN IMMEDIATE")

    def marked() -> bool:
        with session_scope() as session:
            return session.get(OutgoingMessage, key).data_sent_at is not None

    async def mark() -> tuple[int, bool, bool]:
        marks = DataSentMarks(url, sent_at=NOW)
        ticks = 0
        waiting = asyncio.ensure_future(marks.request(key).wait())
        for _ in range(20):  # 0.2 s with the database held: the loop keeps running
            await asyncio.sleep(0.01)
            ticks += 1
        held = waiting.done()
        written_while_held = await asyncio.to_thread(marked)
        other.rollback()
        await asyncio.wait_for(waiting, 5)
        await asyncio.wait_for(marks.aclose(), 5)
        return ticks, held, written_while_held

    try:
        ticks, held, written_while_held = asyncio.run(mark())
    finally:
        other.close()
    assert ticks == 20 and not held and not written_while_held
    assert marked()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_first_attempt_every_recipient_accepted_is_settled_by_the_marks(queued):  # noqa: F811
    """The marks settle such a message for good (sent, its recipients sent, one attempt,
    the run's sending time); the run's recording of the same outcome then changes nothing."""
    cycle_id, _ = queued
    with session_scope() as session:
        message = session.scalars(
            select(OutgoingMessage).where(OutgoingMessage.cycle_id == cycle_id).limit(1)
        ).one()
        key, message_id = message.id, message.message_id
        recipients = [r.address for r in message.recipients]
        session.execute(update(OutgoingMessage).values(status=DeliveryStatus.SENDING))
    url = get_settings().database.url

    async def accept() -> None:
        marks = DataSentMarks(url, sent_at=NOW)
        await asyncio.wait_for(marks.request(key).wait(), 10)
        marks.accepted(key, "250 2.0.0 queued as A1", settles=True)
        await asyncio.wait_for(marks.aclose(), 10)

    asyncio.run(accept())

    def stored() -> tuple:
        with session_scope() as session:
            row = session.get(OutgoingMessage, key)
            return (
                row.status,
                row.attempts,
                row.sent_at,
                row.last_reply,
                row.claim_token,
                row.data_sent_at,
                sorted((r.address, r.status) for r in row.recipients),
            )

    settled = stored()
    assert settled == (
        DeliveryStatus.SENT,
        1,
        NOW,
        "250 2.0.0 queued as A1",
        None,
        None,
        sorted((address, DeliveryStatus.SENT) for address in recipients),
    )
    envelope = Envelope(message_id, "request", "sender@example.vn", recipients, b"", key=key)
    result = DeliveryResult(message_id, DeliveryStatus.SENT, "250 2.0.0 queued as A1")
    with session_scope() as session:
        record_results(
            [(envelope, result)],
            session=session,
            max_attempts=5,
            now=NOW + dt.timedelta(days=1),
            clock=NOW,
            retry_base_seconds=1,
        )
    assert stored() == settled  # not a second attempt, nor another sending time
