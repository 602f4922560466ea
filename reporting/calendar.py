"""What each programme's calendar makes due on a day: opening, a reminder rung, consolidation.

Pure: a programme's dates (from ``programme.yaml``, as validated or as stored) and a day in,
the actions due that day out. ``flows.cycle_calendar`` starts them as deployment runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from config.programme_calendar import last_day


class Action(StrEnum):
    OPEN = "open"
    REMIND = "remind"
    CONSOLIDATE = "consolidate"


@dataclass(frozen=True)
class ProgrammeDates:
    """The dates of a programme's yearly cycle, as ``programme.yaml`` gives them."""

    code: str
    timezone: str
    opening: tuple[int, int]  # (month, day)
    deadline: tuple[int, int]  # (month, day), before the inclusive and weekend rules
    weekend: str
    inclusive: bool
    ladder: tuple[int, ...]
    consolidation_days: int

    @classmethod
    def of_config(cls, programme: Any) -> ProgrammeDates:
        """From a validated ``config.registry.Programme``."""
        return cls(
            programme.code,
            programme.timezone,
            (programme.opening.month, programme.opening.day),
            (programme.deadline.month, programme.deadline.day),
            programme.deadline.weekend,
            programme.deadline_inclusive,
            tuple(programme.reminder_ladder),
            programme.consolidation_days_after_deadline,
        )

    @classmethod
    def of_row(cls, programme: Any) -> ProgrammeDates:
        """From a stored ``models.orm.Programme`` (what ``r42 load-registry`` loaded)."""
        return cls(
            programme.code,
            programme.timezone,
            (programme.opening_month, programme.opening_day),
            (programme.deadline_month, programme.deadline_day),
            programme.deadline_weekend,
            programme.deadline_inclusive,
            tuple(programme.reminder_ladder),
            programme.consolidation_days_after_deadline,
        )

    def last_day(self, year: int) -> dt.date:
        month, day = self.deadline
        return last_day(month, day, weekend=self.weekend, inclusive=self.inclusive, year=year)


@dataclass(frozen=True)
class DueAction:
    """One run the calendar starts: the action, for which programme and cycle year, on which
    day (and for a reminder, its rung: days from the last day)."""

    action: Action
    programme: str
    year: int
    day: dt.date
    rung: int | None = None


def due_actions(dates: ProgrammeDates, today: dt.date) -> list[DueAction]:
    """The actions ``dates`` make due on ``today``: open, then reminders, then consolidate.

    A cycle's reminders and consolidation may fall in the next calendar year (a deadline late
    in December), so the cycles of this year and the last one are both looked at."""
    due: list[DueAction] = []
    for year in (today.year - 1, today.year):
        month, day = dates.opening
        if dt.date(year, month, day) == today:
            due.append(DueAction(Action.OPEN, dates.code, year, today))
        last = dates.last_day(year)
        for rung in dates.ladder:
            if last + dt.timedelta(days=rung) == today:
                due.append(DueAction(Action.REMIND, dates.code, year, today, rung))
        if last + dt.timedelta(days=dates.consolidation_days) == today:
            due.append(DueAction(Action.CONSOLIDATE, dates.code, year, today))
    order = list(Action)
    return sorted(due, key=lambda a: (order.index(a.action), a.year))


def own_ladder_due(
    dates: ProgrammeDates,
    year: int,
    granted: list[dt.date],
    today: dt.date,
    due: list[DueAction],
) -> DueAction | None:
    """A reminder run on ``today`` for agencies granted more time (their ladders count from
    their ``granted`` dates) when one of their rungs falls today and the cycle's own ladder
    starts no reminder run of ``year`` that day (``due``); its rung is None (each agency's own
    is worked out by the run)."""
    if any(d.action is Action.REMIND and d.year == year for d in due):
        return None
    if any(g + dt.timedelta(days=rung) == today for g in granted for rung in dates.ladder):
        return DueAction(Action.REMIND, dates.code, year, today)
    return None
