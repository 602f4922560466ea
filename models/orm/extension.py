"""An agency's request for more time in a cycle, and the coordinator's decision on it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.cycle import Request


class ExtensionStatus(StrEnum):
    PENDING = "pending"  # waiting for the coordinator
    GRANTED = "granted"  # ``granted_until`` is the agency's own last day
    REFUSED = "refused"
    REPLACED = "replaced"  # a newer request of the agency took its place before a decision


class DeadlineExtension(Base):
    """One request for more time (or a coordinator's own grant), kept with its decision."""

    __tablename__ = "deadline_extension"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), index=True
    )
    requested_until: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.PENDING)
    granted_until: Mapped[dt.date | None]  # the date granted (the one asked, or a shorter one)
    note: Mapped[str] = mapped_column(Text, default="")  # the coordinator's, sent to the agency
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]

    request: Mapped[Request] = relationship(back_populates="extensions")
