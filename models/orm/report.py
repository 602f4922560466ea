"""The consolidated report of a cycle, its revisions and decisions, and the audit trail."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.cycle import Cycle


class ReportStatus(StrEnum):
    DRAFT = "draft"
    RETURNED = "returned"  # sent back by the coordinator
    APPROVED = "approved"  # approved, being sent to the ministry
    SUBMITTED = "submitted"  # emailed to the ministry


class Report(Base):
    """One revision of a cycle's consolidated report; a new one only when the content changes."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("cycle_id", "revision"),)

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    revision: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    number: Mapped[str | None] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None]

    cycle: Mapped[Cycle] = relationship()


class AuditEvent(Base):
    """Something that happened, who did it, and on what."""

    __tablename__ = "audit_event"

    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
