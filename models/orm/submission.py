"""What agencies send back: submissions, kept as numbered revisions, with their contents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.cycle import Request
from models.orm.programme import Indicator, TaskGroup


class Channel(StrEnum):
    WEB_FORM = "web_form"
    UPLOAD = "upload"  # the Excel form uploaded on the agency's page
    OPS_IMPORT = "ops_import"  # a file imported by ops from the command line
    DEMO = "demo"  # simulated by `make demo`
    EMAIL = "email"  # the filled form sent back as a reply to the request


class SubmissionStatus(StrEnum):
    RECEIVED = "received"
    RETURNED = "returned"  # sent back by a coordinator; the agency must submit again


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ONGOING = "ongoing"


class Submission(Base):
    """One revision of an agency's report for a cycle."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("request_id", "revision"),)

    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    revision: Mapped[int]
    submitted_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(Text)
    is_late: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.RECEIVED)
    status_reason: Mapped[str | None] = mapped_column(Text)
    adjustment_proposals: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[Request] = relationship(back_populates="submissions")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )
    task_reports: Mapped[list[TaskReport]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )


class IndicatorValue(Base):
    """An agency's value for one indicator in one submission revision."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("submission_id", "indicator_id"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # None for yes/no indicators
    achieved: Mapped[bool | None]  # the answer for yes/no indicators
    note: Mapped[str] = mapped_column(Text, default="")
    # Why the value looks wrong ({"reason": "range"|"jump", "message": Vietnamese}), stored
    # with the revision; ``flags_confirmed``: True when the clerk confirmed them on the web
    # form, False when an import stored the value with a warning, None without flags.
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    flags_confirmed: Mapped[bool | None]

    submission: Mapped[Submission] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()


class TaskReport(Base):
    """An agency's account of one task group in one submission revision."""

    __tablename__ = "task_report"
    __table_args__ = (UniqueConstraint("submission_id", "task_group_id"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    task_group_id: Mapped[int] = mapped_column(ForeignKey("task_group.id"))
    status: Mapped[str] = mapped_column(String(16))
    results: Mapped[str] = mapped_column(Text, default="")
    difficulties: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="task_reports")
    task_group: Mapped[TaskGroup] = relationship()


class SubmissionDraft(Base):
    """What an agency saved on its form without submitting; one per request, overwritten."""

    __tablename__ = "submission_draft"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), unique=True
    )
    data: Mapped[dict[str, Any]]  # the form's raw fields, as typed
    saved_at: Mapped[dt.datetime]
