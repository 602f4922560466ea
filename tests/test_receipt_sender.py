"""The portal's receipt sender: a burst of receipts goes out in a few delivery runs (the real
one, ``mail.delivery``, to the outbox folder), each receipt once; those queued while a run is
on go in the next; stopping sends what is still due."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import select

from config.settings import get_settings
from mail.delivery import deliver_configured
from models.cycles import cycle_requests, ensure_requests, open_cycle
from models.database import session_scope
from models.orm import Channel, Cycle, OutgoingMessage
from portal.receipts import ReceiptSender
from reporting.intake import accept_submission
from tests.factories import PROGRAMME, at, outbox, valid_input

DAY = dt.date(2026, 11, 20)


def queue_receipts(count: int, value: str) -> int:
    """``count`` agencies submit (each receipt queued, none sent); the cycle's id."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        for request in ensure_requests(cycle, session=session)[:count]:
            accept_submission(
                request,
                valid_input(request.agency, value),
                session=session,
                settings=get_settings(),
                channel=Channel.WEB_FORM,
                submitted_by="test",
                now=at(DAY),
            )
        return cycle.id


def test_a_burst_of_receipts_goes_out_in_a_few_runs_each_once(db):
    runs: list[int] = []

    def deliver(cycle_id: int, *, now: dt.datetime) -> object:  # the real run, counted
        runs.append(cycle_id)
        return deliver_configured(cycle_id, now=now)

    sender = ReceiptSender(lambda: at(DAY, 11), deliver=deliver)
    cycle_id = queue_receipts(12, "50,5")
    waiting = [sender.notify(cycle_id) for _ in range(12)]  # one notice per submission
    for done in waiting:
        done.result(60)
    assert len(outbox("receipt")) == 12 and 1 <= len(runs) <= 2  # not one run per receipt

    second = queue_more(cycle_id)  # more while the sender is idle, then a stop
    sender.notify(cycle_id)
    sender.stop()
    assert len(outbox("receipt")) == 12 + second
    with session_scope() as session:  # each sent, and by one attempt
        rows = session.execute(select(OutgoingMessage.status, OutgoingMessage.attempts)).all()
    assert sorted(rows) == [("sent", 1)] * (12 + second)


def queue_more(cycle_id: int) -> int:
    """A second revision for three of the agencies (three more receipts queued)."""
    with session_scope() as session:
        for request in cycle_requests(session.get_one(Cycle, cycle_id), session=session)[:3]:
            accept_submission(
                request,
                valid_input(request.agency, "60,5"),
                session=session,
                settings=get_settings(),
                channel=Channel.WEB_FORM,
                submitted_by="test",
                now=at(DAY, 12),
            )
    return 3


def test_a_lone_receipt_goes_at_once_and_a_burst_gathers_for_the_interval():
    """No database: the runs are counted. A run that served one post is followed at once by
    the next; one that served several (posts come faster than runs) is followed after
    ``interval``, so that the receipts of a burst share runs."""
    started: list[float] = []
    released = threading.Event()
    released.set()

    def deliver(cycle_id: int, *, now: dt.datetime) -> None:
        started.append(time.monotonic())
        released.wait(10)

    sender = ReceiptSender(lambda: at(DAY, 11), interval=1.0, deliver=deliver)
    sender.notify(1).result(10)  # nothing held: goes at once
    sender.notify(1).result(10)  # a lone post again, right after a run: at once too
    assert started[1] - started[0] < 0.5
    released.clear()
    held = sender.notify(1)  # this run waits until released...
    time.sleep(0.1)
    burst = [sender.notify(1) for _ in range(3)]  # ...while three more posts wait for the next
    released.set()
    held.result(10)
    for done in burst:
        done.result(10)
    sender.notify(1).result(10)  # after a run that served three: gathered for the interval
    sender.stop()
    assert len(started) == 5 and started[3] - started[2] < 0.5  # the three went at once
    assert started[4] - started[3] >= 0.9
