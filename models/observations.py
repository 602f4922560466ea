"""Provincial values by year: written by consolidation, or imported for years before the system
(``reporting.observation_import``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.orm import Indicator, IndicatorObservation, Programme


@dataclass(frozen=True)
class Observed:
    value: Decimal | None
    achieved: bool | None


def observations_for(programme: Programme, year: int, *, session: Session) -> dict[str, Observed]:
    """Indicator code -> provincial value for ``year``."""
    rows = session.execute(
        select(Indicator.code, IndicatorObservation.value, IndicatorObservation.achieved)
        .join(IndicatorObservation.indicator)
        .where(Indicator.programme_id == programme.id, IndicatorObservation.year == year)
    )
    return {code: Observed(value, achieved) for code, value, achieved in rows}


def record_observations(
    programme: Programme, year: int, values: dict[str, Observed], *, session: Session, source: str
) -> int:
    """Upsert the year's values; returns how many rows changed."""
    indicators = {i.code: i for i in programme.indicators}
    existing = {
        o.indicator.code: o
        for o in session.scalars(
            select(IndicatorObservation)
            .join(IndicatorObservation.indicator)
            .where(Indicator.programme_id == programme.id, IndicatorObservation.year == year)
        )
    }
    changed = 0
    for code, observed in values.items():
        row = existing.get(code)
        if row is not None and (row.value, row.achieved) == (observed.value, observed.achieved):
            continue
        if row is None:
            row = IndicatorObservation(indicator=indicators[code], year=year)
            session.add(row)
        row.value, row.achieved, row.source = observed.value, observed.achieved, source
        changed += 1
    session.flush()
    return changed
