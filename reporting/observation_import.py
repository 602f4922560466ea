"""Provincial values of years before the system, imported from a file (``r42
import-observations``, format: ``demo/history.yaml``): each value parsed as the intake parses
a reported one, all or nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from config.yaml_files import YamlFileError, load_yaml
from models.observations import Observed, record_observations
from models.registry_store import get_programme
from reporting.values import check_value


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
