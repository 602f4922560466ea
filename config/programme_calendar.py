"""A programme's yearly dates as data: opening day, deadline and its weekend rule.

The schema parts of ``programme.yaml`` that are days of the year, the one rule that turns the
deadline into the last day reports count (``last_day``, used by the cycles and by the
cycle calendar), and the check that a programme's dates come in a workable order every year.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weekend = Literal["previous_working_day", "next_working_day", "keep"]
_STEP = {"previous_working_day": -1, "next_working_day": 1, "keep": 0}
# 28 consecutive years hold every calendar there is (each weekday of 1 January, leap or not).
EVERY_KIND_OF_YEAR = range(2024, 2052)


class MonthDay(BaseModel):
    """A day of the year, e.g. 02/11."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: int = Field(ge=1, le=31, description="Day of the month.")
    month: int = Field(ge=1, le=12, description="Month.")

    @model_validator(mode="after")
    def _exists_every_year(self) -> MonthDay:
        try:
            dt.date(2001, self.month, self.day)  # a common year: 29/02 is refused too
        except ValueError:
            message = f"{self.day:02d}/{self.month:02d} is not a date in every year"
            raise ValueError(message) from None
        return self

    def of(self, year: int) -> dt.date:
        return dt.date(year, self.month, self.day)


class Deadline(MonthDay):
    """When agencies' yearly reports are due."""

    day: int = Field(ge=1, le=31, description="Day of the month of the deadline.")
    month: int = Field(ge=1, le=12, description="Month of the deadline.")
    weekend: Weekend = Field(description="How a deadline falling on Saturday or Sunday moves.")


def last_day(month: int, day: int, *, weekend: str, inclusive: bool, year: int) -> dt.date:
    """The last day ``year``'s reports are on time: the deadline's day (the day before when it
    is not inclusive, "trước ngày 05/12"), moved off a weekend as ``weekend`` says."""
    found = dt.date(year, month, day)
    if not inclusive:
        found -= dt.timedelta(days=1)
    step = _STEP[weekend]
    while step and found.weekday() >= 5:
        found += dt.timedelta(days=step)
    return found


def calendar_problem(
    opening: MonthDay,
    deadline: Deadline,
    *,
    inclusive: bool,
    ladder: list[int],
    consolidation_days: int,
) -> str | None:
    """Why these dates cannot run as one cycle a year, naming the field; None when they can.

    Checked on every kind of year: the cycle opens before its first reminder and before its
    last day, and the consolidation comes before the next year's opening."""
    for year in EVERY_KIND_OF_YEAR:
        opens = opening.of(year)
        last = last_day(
            deadline.month, deadline.day, weekend=deadline.weekend, inclusive=inclusive, year=year
        )
        first = last + dt.timedelta(days=min(min(ladder), 0))
        if not opens < first:
            what = f"the first reminder D{min(ladder):+d}" if min(ladder) < 0 else "the last day"
            return f"opening: {opens:%d/%m} is not before {what} ({first:%d/%m/%Y}): move it"
        consolidated = last + dt.timedelta(days=consolidation_days)
        if not consolidated < opening.of(year + 1):
            return (
                f"consolidation_days_after_deadline: {consolidation_days} days after the last "
                f"day ({last:%d/%m/%Y}) is not before the next opening "
                f"({opening.of(year + 1):%d/%m/%Y})"
            )
    return None


def extension_problem(
    opening: MonthDay, deadline: Deadline, *, inclusive: bool, max_days: int
) -> str | None:
    """Why agencies cannot be given ``max_days`` more days, naming the field; None when they
    can: the latest date an agency may be granted comes before the next year's opening."""
    for year in EVERY_KIND_OF_YEAR:
        last = last_day(
            deadline.month, deadline.day, weekend=deadline.weekend, inclusive=inclusive, year=year
        )
        latest = last + dt.timedelta(days=max_days)
        if not latest < opening.of(year + 1):
            return (
                f"extension_max_days: {max_days} days after the last day ({last:%d/%m/%Y}) is "
                f"not before the next opening ({opening.of(year + 1):%d/%m/%Y})"
            )
    return None
