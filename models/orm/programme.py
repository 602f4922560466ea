"""The programme's registry as stored: programme, registry versions, agencies, indicators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base

agency_indicator = Table(
    "agency_indicator",
    Base.metadata,
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicator.id", ondelete="CASCADE"), primary_key=True),
)

agency_task_group = Table(
    "agency_task_group",
    Base.metadata,
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Column("task_group_id", ForeignKey("task_group.id", ondelete="CASCADE"), primary_key=True),
)


class Programme(Base):
    """An action programme: its targets, task groups and deadline rules."""

    __tablename__ = "programme"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    target_year: Mapped[int]
    baseline_year: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    deadline_day: Mapped[int]
    deadline_month: Mapped[int]
    deadline_weekend: Mapped[str] = mapped_column(String(32))
    reminder_ladder: Mapped[list[Any]]
    escalate_after_deadline: Mapped[bool]
    deadline_inclusive: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The cycle calendar: the opening day and the consolidation, days after the last day.
    opening_day: Mapped[int] = mapped_column(default=2, server_default="2")
    opening_month: Mapped[int] = mapped_column(default=11, server_default="11")
    consolidation_days_after_deadline: Mapped[int] = mapped_column(default=1, server_default="1")
    # A value more than this many times the agency's last one (or under its inverse) is flagged.
    year_on_year_factor: Mapped[Decimal] = mapped_column(
        Numeric(10, 4), default=Decimal(3), server_default="3"
    )
    link_validity: Mapped[str] = mapped_column(String(16), default="days", server_default="days")
    # The latest day an agency may ask for, in days after the deadline's last day (0: none).
    extension_max_days: Mapped[int] = mapped_column(default=0, server_default="0")
    content_hash: Mapped[str] = mapped_column(String(64))

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="programme", order_by="Indicator.number"
    )
    task_groups: Mapped[list[TaskGroup]] = relationship(
        back_populates="programme", order_by="TaskGroup.number"
    )
    versions: Mapped[list[RegistryVersion]] = relationship(
        back_populates="programme", order_by="RegistryVersion.effective_from"
    )


class Indicator(Base):
    """One target of the programme, with its rule and target-year value."""

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(16))
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    tolerance: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    note: Mapped[str | None] = mapped_column(Text)
    # The range a real value lies in (programme.yaml's `plausible`); outside it a value is flagged.
    plausible_min: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    plausible_max: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))

    programme: Mapped[Programme] = relationship(back_populates="indicators")


class TaskGroup(Base):
    """One group of tasks and solutions of the programme."""

    __tablename__ = "task_group"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(Text)

    programme: Mapped[Programme] = relationship(back_populates="task_groups")


class RegistryVersion(Base):
    """Who reports and to whom, in force from ``effective_from`` until the next version."""

    __tablename__ = "registry_version"
    __table_args__ = (UniqueConstraint("programme_id", "effective_from"),)

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    effective_from: Mapped[dt.date]
    label: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Report header, recipients, signer, ministry and task group leads, as validated data.
    document: Mapped[dict[str, Any]]

    programme: Mapped[Programme] = relationship(back_populates="versions")
    agencies: Mapped[list[Agency]] = relationship(
        back_populates="registry_version", order_by="Agency.position"
    )


class Agency(Base):
    """An agency that reports under one registry version."""

    __tablename__ = "agency"
    __table_args__ = (UniqueConstraint("registry_version_id", "code"),)

    registry_version_id: Mapped[int] = mapped_column(
        ForeignKey("registry_version.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))
    head_title: Mapped[str] = mapped_column(Text)
    head_email: Mapped[str] = mapped_column(String(320))
    is_standing_agency: Mapped[bool]
    active_from: Mapped[dt.date | None]
    active_until: Mapped[dt.date | None]

    registry_version: Mapped[RegistryVersion] = relationship(back_populates="agencies")
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=agency_indicator, order_by="Indicator.number"
    )
    task_groups: Mapped[list[TaskGroup]] = relationship(
        secondary=agency_task_group, order_by="TaskGroup.number"
    )

    def active_on(self, day: dt.date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )


class IndicatorObservation(Base):
    """The provincial value of an indicator for a year: consolidated, or imported history."""

    __tablename__ = "indicator_observation"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    year: Mapped[int]
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    achieved: Mapped[bool | None]
    source: Mapped[str] = mapped_column(String(32))  # "consolidation" or "import"

    indicator: Mapped[Indicator] = relationship()
