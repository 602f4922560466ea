"""Provincial values by year: written by consolidation, or imported for years before the system."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.yaml_files import YamlFileError, load_yaml
from models.orm import Indicator, IndicatorObservation, Programme
from models.registry_store import get_programme
from models.submissions import check_value


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


class ObservationFileError(ValueError):
    """The file is not a valid observations file; the message names the file and the field."""


def import_observations(path: Path, *, session: Session) -> dict[int, int]:
    """Import ``programme: code`` / ``years: {2024: {indicator: value}}``; all or nothing."""
    try:
        data = load_yaml(path)  # a key written twice is refused with its line
    except YamlFileError as exc:
        raise ObservationFileError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise ObservationFileError(f"{path}: expected 'programme' and a 'years' mapping")
    try:
        programme = get_programme(str(data.get("programme")), session=session)
    except LookupError as exc:
        raise ObservationFileError(f"{path}: programme: {exc}") from None
    indicators = {i.code: i for i in programme.indicators}
    parsed: dict[int, dict[str, Observed]] = {}
    errors = []
    for year, values in data["years"].items():
        if not isinstance(year, int) or not isinstance(values, dict):
            errors.append(f"years.{year}: expected a year with a mapping of indicator values")
            continue
        for code, raw in values.items():
            if code not in indicators:
                errors.append(f"years.{year}.{code}: unknown indicator")
                continue
            try:
                parsed.setdefault(year, {})[code] = Observed(*check_value(indicators[code], raw))
            except ValueError as exc:
                errors.append(f"years.{year}.{code}: {exc}")
    if errors:
        raise ObservationFileError(f"{path}: " + "; ".join(errors))
    return {
        year: record_observations(programme, year, values, session=session, source="import")
        for year, values in parsed.items()
    }
