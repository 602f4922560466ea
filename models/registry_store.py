"""Load a validated programme registry into the database, idempotently."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import registry as reg
from models.orm import Agency, Indicator, Programme, RegistryVersion, Request, TaskGroup


@dataclass(frozen=True)
class LoadSummary:
    """What loading a registry changed."""

    programme: str
    created: list[str]
    updated: list[str]
    unchanged: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _hash(model: reg.BaseModel) -> str:
    payload = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def load_registry(registry: reg.ProgrammeRegistry, *, session: Session) -> LoadSummary:
    """Create or update the programme and each registry version; unchanged ones are left alone."""
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    source = registry.programme
    programme = session.scalar(select(Programme).where(Programme.code == source.code))
    digest = _hash(source)
    if programme is None:
        programme = Programme(code=source.code)
        session.add(programme)
        created.append("programme")
    elif programme.content_hash != digest:
        updated.append("programme")
    else:
        unchanged.append("programme")
    if programme.content_hash != digest:
        _apply_programme(programme, source, digest, session=session)

    existing = {v.effective_from: v for v in programme.versions}
    for version in registry.versions:
        label = f"registry {version.effective_from}"
        digest = _hash(version)
        row = existing.get(version.effective_from)
        if row is not None and row.content_hash == digest:
            unchanged.append(label)
            continue
        if row is None:
            row = RegistryVersion(programme=programme, effective_from=version.effective_from)
            session.add(row)
            created.append(label)
        else:
            updated.append(label)
        _apply_version(row, programme, version, digest, session=session)
    session.flush()
    return LoadSummary(source.code, created, updated, unchanged)


def _apply_programme(
    row: Programme, source: reg.Programme, digest: str, *, session: Session
) -> None:
    row.name, row.short_name, row.decision = source.name, source.short_name, source.decision
    row.target_year, row.baseline_year, row.timezone = (
        source.target_year,
        source.baseline_year,
        source.timezone,
    )
    row.deadline_day, row.deadline_month = source.deadline.day, source.deadline.month
    row.deadline_weekend = source.deadline.weekend
    row.reminder_ladder = list(source.reminder_ladder)
    row.escalate_after_deadline = source.escalate_after_deadline
    row.deadline_inclusive = source.deadline_inclusive
    row.opening_day, row.opening_month = source.opening.day, source.opening.month
    row.consolidation_days_after_deadline = source.consolidation_days_after_deadline
    row.year_on_year_factor = source.year_on_year_factor
    row.link_validity = source.link_validity
    row.extension_max_days = source.extension_max_days
    row.content_hash = digest
    session.flush()
    indicators = {i.code: i for i in row.indicators}
    for target in source.targets:
        indicator = indicators.get(target.code) or Indicator(programme=row, code=target.code)
        indicator.number, indicator.name, indicator.unit = target.number, target.name, target.unit
        indicator.kind, indicator.rule = target.kind.value, target.rule.value
        indicator.target, indicator.tolerance, indicator.note = (
            target.target,
            target.tolerance,
            target.note,
        )
        indicator.plausible_min, indicator.plausible_max = target.plausible or (None, None)
        session.add(indicator)
    groups = {g.code: g for g in row.task_groups}
    for source_group in source.task_groups:
        group = groups.get(source_group.code) or TaskGroup(programme=row, code=source_group.code)
        group.number, group.name = source_group.number, source_group.name
        session.add(group)
    session.flush()


def _apply_version(
    row: RegistryVersion,
    programme: Programme,
    version: reg.RegistryVersion,
    digest: str,
    *,
    session: Session,
) -> None:
    row.label, row.content_hash = version.label, digest
    row.document = version.model_dump(mode="json", exclude={"agencies"})
    indicators = {i.code: i for i in programme.indicators}
    groups = {g.code: g for g in programme.task_groups}
    agencies = {a.code: a for a in row.agencies}
    for position, source in enumerate(version.agencies):
        agency = agencies.pop(source.code, None) or Agency(registry_version=row, code=source.code)
        agency.position, agency.name, agency.kind = position, source.name, source.kind.value
        agency.email, agency.head_email = str(source.email), str(source.head_email)
        agency.head_title = source.head_title
        agency.is_standing_agency = source.code == version.standing_agency
        agency.active_from, agency.active_until = source.active_from, source.active_until
        agency.indicators = [indicators[code] for code in source.indicators]
        agency.task_groups = [groups[code] for code in source.task_groups]
        session.add(agency)
    for agency in agencies.values():
        # An agency removed from the file: keep it if a cycle already asked it, else delete.
        if session.scalar(select(Request.id).where(Request.agency_id == agency.id).limit(1)):
            agency.active_until = agency.active_until or dt.date.min
        else:
            session.delete(agency)
    session.flush()


def registry_version_on(programme: Programme, day: dt.date) -> RegistryVersion:
    """The stored registry version in force on ``day``."""
    in_force = [v for v in programme.versions if v.effective_from <= day]
    if not in_force:
        raise reg.RegistryError(f"{programme.code}: no registry version in force on {day}")
    return in_force[-1]


def get_programme(code: str, *, session: Session) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        raise LookupError(f"programme {code!r} is not loaded: run `r42 load-registry` first")
    return programme
