"""A delivery run records its outcomes while the web form writes, on the SQLite default.

SQLite allows one writer, and a transaction that has read and then writes fails at once with
"database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another writer committed after
its read. Recording a 4xx outcome reads the message and its recipients before it writes them.
It holds because Python's sqlite3 driver opens the transaction only at the first write: the
read runs before it, and the write waits its turn (the busy timeout) while a post commits.
This test keeps it so if the driver's transaction handling or the recording ever changes.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from config.settings import get_settings
from mail.run_bookkeeping import record_and_claim
from mail.transport import DeliveryResult, Envelope
from models.database import begin_write, get_engine, session_scope
from models.orm import DeliveryStatus, OutgoingMessage
from tests.test_delivery_faults import NOW, queued  # noqa: F401


def test_a_4xx_is_recorded_while_the_web_form_commits_a_post(queued):  # noqa: F811
    cycle_id, _ = queued
    with session_scope() as session:
        first, other = session.scalars(
            select(OutgoingMessage).where(OutgoingMessage.cycle_id == cycle_id).limit(2)
        ).all()
        envelope = Envelope(
            first.message_id,
            "2026-request",
            "sender@example.vn",
            [r.address for r in first.recipients],
            b"",
            key=first.id,
        )
        other_id = other.id
    refused = DeliveryResult(envelope.message_id, DeliveryStatus.PENDING, "451 4.3.0 try later")
    portal = Session(get_engine(get_settings().database.url))  # a post, mid-transaction
    begin_write(portal)
    portal.execute(
        text("UPDATE outgoing_message SET last_reply = 'portal' WHERE id = :id"), {"id": other_id}
    )
    errors: list[Exception] = []

    def record() -> None:
        try:
            record_and_claim([(envelope, refused)], None, 0, get_settings().mail, "run", NOW)
        except Exception as exc:  # what stopped the run
            errors.append(exc)

    recording = threading.Thread(target=record)
    recording.start()
    time.sleep(0.5)  # the run is recording while the post holds the database
    portal.commit()
    portal.close()
    recording.join(30)
    assert not recording.is_alive()
    assert errors == []
    with session_scope() as session:
        message = session.get(OutgoingMessage, envelope.key)
        assert message.attempts == 1
        assert message.status == DeliveryStatus.PENDING and message.next_attempt_at is not None
        assert {r.last_reply for r in message.recipients} == {"451 4.3.0 try later"}
        assert session.get(OutgoingMessage, other_id).last_reply == "portal"
