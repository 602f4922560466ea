"""Two runs at the same moment: each reminder is queued once and each message sent once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from config.settings import get_settings
from mail.configured import transport_from_settings
from mail.delivery import deliver_pending
from models.cycles import ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.orm import OutgoingMessage
from reporting.reminders import queue_reminders
from tests.factories import PROGRAMME, at

DAY = dt.date(2026, 11, 20)


def in_parallel(work, runs: int = 2) -> list:
    barrier, results, errors = threading.Barrier(runs), [], []

    def run():
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_reminder_runs_at_once_queue_and_send_each_reminder_once(db, smtp, smtp_settings):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        agencies = len(ensure_requests(cycle, session=session))
        cycle_id = cycle.id

    def remind():
        with session_scope() as session:
            return queue_reminders(
                get_cycle(PROGRAMME, 2026, session=session),
                DAY,
                session=session,
                settings=get_settings(),
                now=at(DAY, 8),
            )

    in_parallel(remind)
    with session_scope() as session:
        keys = Counter((m.recipient_key, m.rung) for m in session.query(OutgoingMessage))
    assert len(keys) == agencies and set(keys.values()) == {1}

    def send():
        settings = get_settings()
        return deliver_pending(
            cycle_id,
            transport=transport_from_settings(
                settings.mail, database_url=settings.database.url, now=at(DAY, 8)
            ),
            settings=settings.mail,
            now=at(DAY, 8),
        )

    results = in_parallel(send)
    assert sum(len(r.results) for r in results) == agencies  # every message claimed by one run only
    assert Counter(r.recipients[0] for r in smtp.received).most_common(1)[0][1] == 1
    assert len(smtp.received) == agencies
