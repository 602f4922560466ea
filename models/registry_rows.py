"""What an agency reports (its indicators and task groups) as plain rows, built once per process
for each registry version's content: every web form post reads them, and an agency's 34
indicators and 7 task groups loaded as ORM objects were a seventh of a post's CPU.

They are kept in the registry's store (``models.registry_cache``): read afresh once the
registry is edited in place. The rows are frozen: nothing writes to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.orm import Agency, Indicator, Request, TaskGroup
from models.orm.programme import agency_indicator, agency_task_group
from models.registry_cache import kept, registry_content

Row = TypeVar("Row", "IndicatorRow", "TaskGroupRow")


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """One indicator an agency reports, as stored (``models.orm.Indicator``'s columns)."""

    id: int
    code: str
    number: int
    name: str
    unit: str
    kind: str
    rule: str
    target: Decimal | None
    tolerance: Decimal | None
    note: str | None
    plausible_min: Decimal | None
    plausible_max: Decimal | None


@dataclass(frozen=True, slots=True)
class TaskGroupRow:
    """One task group an agency reports on."""

    id: int
    code: str
    number: int
    name: str


@dataclass(frozen=True)
class ReportedRows:
    """What one agency reports under one registry version, in form order."""

    indicators: tuple[IndicatorRow, ...]
    task_groups: tuple[TaskGroupRow, ...]
    sole: frozenset[int]  # its indicators no other agency of the version reports (by id)
    year_on_year_factor: Decimal  # the programme's (``reporting.plausibility``)
    by_code: dict[str, IndicatorRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {i.code: i for i in self.indicators})


def reported_rows(request: Request, *, session: Session) -> ReportedRows:
    """The indicators and task groups ``request``'s agency reports, read from the database the
    first time this process meets its registry version's content (two or three queries), then
    from memory (``models.registry_cache``)."""
    cycle = request.cycle
    content = registry_content(cycle, session=session)

    def build() -> ReportedRows:
        indicators = _reported(IndicatorRow, request.agency_id, session=session)
        sole = kept(content, "sole", lambda: _sole_indicators(content[1], session=session))
        return ReportedRows(
            indicators,
            _reported(TaskGroupRow, request.agency_id, session=session),
            frozenset(i.id for i in indicators if i.id in sole),
            cycle.programme.year_on_year_factor,
        )

    return kept(content, ("reported", request.agency_id), build)


def _reported(row: type[Row], agency_id: int, *, session: Session) -> tuple[Row, ...]:
    """The agency's indicators or task groups (``row``), in form order."""
    table, link = {
        IndicatorRow: (Indicator.__table__, agency_indicator.c.indicator_id),
        TaskGroupRow: (TaskGroup.__table__, agency_task_group.c.task_group_id),
    }[row]
    query = (
        select(*(table.c[name] for name in row.__slots__))
        .join(link.table, link == table.c.id)
        .where(link.table.c.agency_id == agency_id)
        .order_by(table.c.number)
    )
    return tuple(row(*values) for values in session.execute(query))


def _sole_indicators(version_id: int, *, session: Session) -> frozenset[int]:
    """The indicators one agency alone reports in the registry version."""
    query = (
        select(agency_indicator.c.indicator_id)
        .join(Agency, Agency.id == agency_indicator.c.agency_id)
        .where(Agency.registry_version_id == version_id)
        .group_by(agency_indicator.c.indicator_id)
        .having(func.count() == 1)
    )
    return frozenset(session.scalars(query))
