"""Cycles, their deadlines and reminder rungs, and the requests sent to agencies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from config.programme_calendar import last_day
from models.orm import Agency, Cycle, CycleKind, Programme, Request, Submission
from models.registry_store import get_programme, registry_version_on


def deadline_for(programme: Programme, year: int) -> dt.date:
    """The last day ``year``'s reports are on time: the programme's day (the day before when
    it is not inclusive, "trước ngày 05/12"), moved off a weekend as the programme says."""
    return last_day(
        programme.deadline_month,
        programme.deadline_day,
        weekend=programme.deadline_weekend,
        inclusive=programme.deadline_inclusive,
        year=year,
    )


def local_today(programme: Programme, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the programme's timezone."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(programme.timezone)).date()


def local_noon(programme: Programme, day: dt.date) -> dt.datetime:
    """A moment on ``day`` in the programme's timezone (used by the simulated clock)."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(programme.timezone))


def due_date(request: Request) -> dt.date:
    """The agency's own last day: the one a coordinator granted it, else the cycle's."""
    return request.extended_until or request.cycle.deadline


def rung_due(cycle: Cycle, day: dt.date, last_day: dt.date | None = None) -> int | None:
    """The latest reminder rung (days from ``last_day``, by default the cycle's deadline)
    whose date has come, if any."""
    last_day = last_day or cycle.deadline
    due = [o for o in cycle.programme.reminder_ladder if last_day + dt.timedelta(days=o) <= day]
    return due[-1] if due else None


def is_late(cycle: Cycle, submitted_at: dt.datetime, last_day: dt.date | None = None) -> bool:
    """Whether a submission made at ``submitted_at`` misses ``last_day`` (by default the
    cycle's deadline; an agency granted more time: its own, ``due_date``)."""
    return local_today(cycle.programme, submitted_at) > (last_day or cycle.deadline)


def find_cycle(
    programme_code: str, year: int, *, session: Session, kind: str = CycleKind.ANNUAL
) -> Cycle | None:
    return session.scalar(
        select(Cycle)
        .join(Programme)
        .where(Programme.code == programme_code, Cycle.year == year, Cycle.kind == kind)
    )


def get_cycle(
    programme_code: str, year: int, *, session: Session, kind: str = CycleKind.ANNUAL
) -> Cycle:
    cycle = find_cycle(programme_code, year, session=session, kind=kind)
    if cycle is None:
        raise LookupError(f"no {kind} cycle {year} for programme {programme_code!r}: open it first")
    return cycle


def open_cycle(
    programme_code: str,
    year: int,
    opened_on: dt.date,
    *,
    session: Session,
    kind: str = CycleKind.ANNUAL,
    deadline: dt.date | None = None,
) -> tuple[Cycle, bool]:
    """The cycle for ``year``, created on first call with the registry in force that day.

    ``deadline`` defaults to the programme's yearly deadline (an evaluation round may be given
    its own). Returns ``(cycle, created)``; a second call returns the existing cycle unchanged.
    """
    cycle = find_cycle(programme_code, year, session=session, kind=kind)
    if cycle is not None:
        return cycle, False
    programme = get_programme(programme_code, session=session)
    deadline = deadline or deadline_for(programme, year)
    if opened_on > deadline:
        raise ValueError(f"opened_on {opened_on} is after the {year} deadline {deadline}")
    cycle = Cycle(
        programme=programme,
        registry_version=registry_version_on(programme, opened_on),
        year=year,
        kind=kind,
        opened_on=opened_on,
        deadline=deadline,
    )
    session.add(cycle)
    session.flush()
    return cycle, True


def ensure_requests(cycle: Cycle, *, session: Session) -> list[Request]:
    """One request per agency active on the opening day; existing ones are kept as they are."""
    existing = {r.agency_id: r for r in cycle.requests}
    for agency in cycle.registry_version.agencies:
        if agency.active_on(cycle.opened_on) and agency.id not in existing:
            request = Request(cycle=cycle, agency=agency)
            session.add(request)
            existing[agency.id] = request
    session.flush()
    return cycle_requests(cycle, session=session)


def cycle_requests(cycle: Cycle, *, session: Session) -> list[Request]:
    """Every request of the cycle with its agency and submissions, in registry order."""
    return list(
        session.scalars(
            select(Request)
            .join(Agency)
            .where(Request.cycle_id == cycle.id)
            .options(
                selectinload(Request.agency).selectinload(Agency.indicators),
                selectinload(Request.agency).selectinload(Agency.task_groups),
                selectinload(Request.submissions),
            )
            .order_by(Agency.position)
        )
    )


def current_submission(request: Request) -> Submission | None:
    """The latest revision, unless a coordinator sent it back."""
    if not request.submissions:
        return None
    latest = request.submissions[-1]
    return None if latest.status == "returned" else latest


def get_request(
    programme_code: str,
    year: int,
    agency: str,
    *,
    session: Session,
    kind: str = CycleKind.ANNUAL,
) -> Request:
    """The request of one agency in the cycle of ``year`` (the annual one by default)."""
    cycle = get_cycle(programme_code, year, session=session, kind=kind)
    for request in cycle_requests(cycle, session=session):
        if request.agency.code == agency:
            return request
    raise LookupError(f"agency {agency!r} has no request in cycle {year}")
