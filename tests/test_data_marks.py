"""The marks a delivery run writes on its own connection never wait on a row the run's session
is recording: on PostgreSQL that wait, crossed with the session waiting on a mark, was a
deadlock that stopped the run (seen in CI with 23 messages, 4 a batch)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text, update

from config.settings import get_settings
from mail.data_marks import DataSentMarks
from models.database import get_engine, session_scope
from models.orm import DeliveryStatus, OutgoingMessage
from tests.test_delivery_faults import queued  # noqa: F401


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
        marks = DataSentMarks(url)
        marks.accepted(first, "250 queued")  # held by the recording session: skipped
        marks.accepted(second, "250 queued")
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
