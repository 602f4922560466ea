"""Remind agencies that have not reported, one rung of the ladder at a time, never twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.vietnamese import WEEKDAYS
from mail.queue import sent_keys
from models.cycles import current_submission, cycle_requests, due_date, local_today, rung_due
from models.orm import Cycle, MessageKind, Request
from reporting.messages import queue_for_agency


@dataclass
class ReminderRun:
    """What one reminder run decided."""

    day: dt.date
    rung: int | None
    queued: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    already_reminded: list[str] = field(default_factory=list)
    own_dates: dict[str, str] = field(default_factory=dict)  # agency -> rung of its own date
    names: dict[str, str] = field(default_factory=dict)  # agency code -> its name


def queue_reminders(
    cycle: Cycle, day: dt.date, *, session: Session, settings: Settings, now: dt.datetime
) -> ReminderRun:
    """Queue the rung due on ``day`` for every agency without a current submission.

    An agency granted more time has its own ladder, counted from its granted date: its
    reminders are keyed '<agency>@<date>' so that each ladder is sent once, and a new date
    starts a new one (only its rung due that day, never the earlier ones, nor one whose day
    had come by the day of the grant: the decision email has just told it its date)."""
    run = ReminderRun(day=day, rung=rung_due(cycle, day))
    if run.rung is None or cycle.status != "open":
        return run
    highest: dict[str, int] = {}  # agency -> highest rung already queued
    for key, rung in sent_keys(cycle, MessageKind.REMINDER, session=session):
        highest[key] = max(rung, highest.get(key, rung))
    for request in cycle_requests(cycle, session=session):
        code = request.agency.code
        run.names[code] = request.agency.name
        if current_submission(request) is not None:
            run.submitted.append(code)
            continue
        last_day = due_date(request)
        rung = run.rung if request.extended_until is None else own_rung(request, day)
        key = code if request.extended_until is None else f"{code}@{last_day.isoformat()}"
        if rung is None or (key in highest and highest[key] >= rung):
            run.already_reminded.append(code)
            continue
        escalate = rung > 0 and cycle.programme.escalate_after_deadline
        days_to_deadline = (last_day - day).days
        context = {
            "today": day,
            "days_left": max(days_to_deadline, 0),
            "days_late": max(-days_to_deadline, 0),
            "escalated": escalate,
            "deadline": last_day,  # the agency's own last day
            "deadline_weekday": WEEKDAYS[last_day.weekday()],
        }
        queue_for_agency(
            MessageKind.REMINDER,
            request,
            context,
            rung=rung,
            session=session,
            settings=settings,
            now=now,
            copy_head=escalate,
            recipient_key=key,
        )
        run.queued.append(code)
        if request.extended_until is not None:
            run.own_dates[code] = f"D{rung:+d} theo hạn gia hạn {last_day:%d/%m/%Y}"
    return run


def own_rung(request: Request, day: dt.date) -> int | None:
    """The rung of the agency's own ladder (from its granted date) due on ``day``, if its day
    came after the day it was granted."""
    cycle, last_day = request.cycle, due_date(request)
    rung = rung_due(cycle, day, last_day)
    granted = [e for e in request.extensions if e.granted_until == last_day and e.decided_at]
    if rung is None or not granted:
        return rung
    granted_on = local_today(cycle.programme, granted[-1].decided_at)
    return rung if last_day + dt.timedelta(days=rung) > granted_on else None
