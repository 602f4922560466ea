"""Remind agencies that have not reported, one rung of the ladder at a time, never twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from config.settings import Settings
from mail.queue import sent_keys
from models.cycles import current_submission, cycle_requests, rung_due
from models.orm import Cycle, MessageKind
from reporting.messages import queue_for_agency


@dataclass
class ReminderRun:
    """What one reminder run decided."""

    day: dt.date
    rung: int | None
    queued: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    already_reminded: list[str] = field(default_factory=list)


def queue_reminders(
    cycle: Cycle, day: dt.date, *, session: Session, settings: Settings, now: dt.datetime
) -> ReminderRun:
    """Queue the rung due on ``day`` for every agency without a current submission."""
    run = ReminderRun(day=day, rung=rung_due(cycle, day))
    if run.rung is None or cycle.status != "open":
        return run
    highest: dict[str, int] = {}  # agency -> highest rung already queued
    for key, rung in sent_keys(cycle, MessageKind.REMINDER, session=session):
        highest[key] = max(rung, highest.get(key, rung))
    escalate = run.rung > 0 and cycle.programme.escalate_after_deadline
    days_to_deadline = (cycle.deadline - day).days
    for request in cycle_requests(cycle, session=session):
        code = request.agency.code
        if current_submission(request) is not None:
            run.submitted.append(code)
            continue
        if code in highest and highest[code] >= run.rung:
            run.already_reminded.append(code)
            continue
        context = {
            "today": day,
            "days_left": max(days_to_deadline, 0),
            "days_late": max(-days_to_deadline, 0),
            "escalated": escalate,
        }
        queue_for_agency(
            MessageKind.REMINDER,
            request,
            context,
            rung=run.rung,
            session=session,
            settings=settings,
            now=now,
            copy_head=escalate,
        )
        run.queued.append(code)
    return run
