"""A reporting cycle and the request each agency receives in it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.programme import Agency, Programme, RegistryVersion


class CycleKind(StrEnum):
    ANNUAL = "annual"
    MIDTERM = "midterm"  # 2025 mid-term review (sơ kết)
    FINAL = "final"  # 2030 final review (tổng kết)


class CycleStatus(StrEnum):
    OPEN = "open"  # taking submissions (late ones too)
    LOCKED = "locked"  # no more revisions
    SUBMITTED = "submitted"  # report sent to the ministry


class Cycle(Base):
    """One round of collection for a programme and year."""

    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("programme_id", "year", "kind"),)

    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    registry_version_id: Mapped[int] = mapped_column(ForeignKey("registry_version.id"))
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), default=CycleKind.ANNUAL)
    opened_on: Mapped[dt.date]
    deadline: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default=CycleStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship()
    registry_version: Mapped[RegistryVersion] = relationship()
    requests: Mapped[list[Request]] = relationship(back_populates="cycle", order_by="Request.id")


class Request(Base):
    """What one agency is asked to report in one cycle, reached by its personal link."""

    __tablename__ = "request"
    __table_args__ = (UniqueConstraint("cycle_id", "agency_id"),)

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Incremented when a coordinator revokes and re-issues the link; older links stop working.
    link_version: Mapped[int] = mapped_column(default=1)
    # The day the current link was issued (None: the cycle's opening day); it lives from then.
    link_issued_on: Mapped[dt.date | None]
    # The agency's own last day when a coordinator granted it more time (None: the cycle's).
    extended_until: Mapped[dt.date | None]

    cycle: Mapped[Cycle] = relationship(back_populates="requests")
    agency: Mapped[Agency] = relationship()
    submissions: Mapped[list[Submission]] = relationship(  # noqa: F821
        back_populates="request", order_by="Submission.revision"
    )
    extensions: Mapped[list[DeadlineExtension]] = relationship(  # noqa: F821
        back_populates="request", order_by="DeadlineExtension.id"
    )
